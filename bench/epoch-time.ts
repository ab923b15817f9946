/**
 * Epoch time of Nielsen's setup (W1: 784-30-10, sigmoid, quadratic cost, batch 10, η 3.0, the
 * 8,000 bundled training digits) at several thread counts, measured in one run so the figures can
 * be compared as ratios. After a 2.5 s warm-up (the machine's clock ramps up under load), each run
 * trains a fresh network past its threads' JIT warm-up and measures 3 epochs more (see
 * steadyEpochs), runs starting 0.3 s apart (a run that starts while the previous one's threads and
 * memory are being released measured ~20% slower); runs of the thread counts are interleaved; the
 * median is reported with min–max. For worker threads, also where a worker's time went (medians
 * over epochs): its examples' forward and backward passes per example, and per step its rows'
 * gradient sums and update, and its wait at the two barriers.
 *
 *   npm run bench:epochs -- [--threads 0,1,2] [--runs 5] [--dtype float32] [--no-record]
 */
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { loadMnistDigits, Network, train, type DType } from "../src/index.js";
import { machine, median, recordSection, spread, stealCell, steadyEpochs, table, warmUp } from "./lib.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: `0,1,${availableParallelism()}` },
    runs: { type: "string", default: "5" },
    dtype: { type: "string", default: "float32" },
    record: { type: "boolean", default: true },
  },
  allowNegative: true,
});
const threadCounts = [...new Set(values.threads.split(",").map(Number))];
const runs = Number(values.runs);
const dtype = values.dtype as DType;

const { train: data } = await loadMnistDigits();
const seconds = new Map<number, number[]>(threadCounts.map((t) => [t, []]));
/** Per thread count and epoch: µs per example of a worker's passes, per step of its rows' work and of its barrier waits. */
const phases = new Map<number, { example: number[]; rows: number[]; barriers: number[] }>(
  threadCounts.map((t) => [t, { example: [], rows: [], barriers: [] }]),
);
const steps = Math.ceil(data.count / 10);
const steals = new Map<number, number[]>(threadCounts.map((t) => [t, []]));
const busiest = Math.max(...threadCounts);
await warmUp(() => train(Network.create([784, 30, 10], { seed: 1, dtype }), data, { epochs: 2, miniBatchSize: 10, eta: 3.0, seed: 1, threads: busiest }));
for (let run = 0; run < runs; run++) {
  for (const threads of threadCounts) {
    await sleep(300);
    const net = Network.create([784, 30, 10], { seed: run + 1, dtype });
    const { epochs, steal } = await steadyEpochs(net, data, { miniBatchSize: 10, eta: 3.0, seed: run + 1, threads });
    seconds.get(threads)!.push(...epochs.map((e) => e.seconds));
    for (const { phases: p } of epochs) {
      if (!p) continue;
      const into = phases.get(threads)!;
      into.example.push((1e6 * p.compute) / (data.count / threads));
      into.rows.push((1e6 * p.update) / steps);
      into.barriers.push((1e6 * p.synchronisation) / steps);
    }
    if (steal !== undefined) steals.get(threads)!.push(100 * steal);
  }
}

const one = seconds.get(1);
const base = one ? median(one) : undefined;
const rows = threadCounts.map((threads) => {
  const xs = seconds.get(threads)!;
  const speedup = base !== undefined && threads > 0 ? base / median(xs) : undefined;
  return [
    threads === 0 ? "0 (in process, TypeScript kernel)" : String(threads),
    spread(xs, 3),
    Math.round(data.count / median(xs)).toLocaleString("en-US"),
    speedup ? `${speedup.toFixed(2)}×` : "–",
    speedup ? `${((speedup / threads) * 100).toFixed(0)}%` : "–",
    ...(["example", "rows", "barriers"] as const).map((key) => {
      const xs = phases.get(threads)![key];
      return xs.length ? median(xs).toFixed(1) : "–";
    }),
    stealCell(steals.get(threads)!),
  ];
});
const command = `npm run bench:epochs -- --threads ${threadCounts.join(",")} --runs ${runs} --dtype ${dtype}`;
const markdown = `### Epoch time, W1 (\`${command}\`)\n\n${machine()}. 784-30-10, batch 10, η 3.0, 8,000 digits, ${dtype}; 3 epochs in each of ${runs} runs, after the run's JIT warm-up (≥ 2 epochs and ≥ 1 s; runs 0.3 s apart, after a 2.5 s warm-up of the machine): median (min–max). A worker's time (mean over workers, median over epochs): its examples' forward pass, BP1 and BP2, in µs per example it took; its rows' BP3/BP4 sums and SGD step, and its waits at the step's two barriers, in µs per step. Host steal: CPU time the hypervisor took from this machine during the measured epochs, as a share of all its cores' time.\n\n${table(["threads", "epoch seconds", "examples/s", "speedup vs 1 thread", "efficiency", "µs per example: passes", "µs per step: rows", "µs per step: barriers", "host steal, median (max)"], rows)}`;
console.log(markdown);
if (values.record) await recordSection("epochs", markdown);
