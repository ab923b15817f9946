/**
 * Epoch time of Nielsen's setup (W1: 784-30-10, sigmoid, quadratic cost, batch 10, η 3.0, the
 * 8,000 bundled training digits) at several thread counts, measured in one run so the figures can
 * be compared as ratios. After a 2.5 s warm-up (the machine's clock ramps up under load), each run
 * trains a fresh network for 4 epochs and keeps the last 3 (the 1st includes start-up and JIT
 * warm-up); runs of the thread counts are interleaved; the median is reported with min–max.
 *
 *   npm run bench:epochs -- [--threads 0,1,2] [--runs 5] [--dtype float32] [--no-record]
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { loadMnistDigits, Network, train, type DType } from "../src/index.js";
import { machine, median, recordSection, spread, table, warmUp } from "./lib.js";

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
const busiest = Math.max(...threadCounts);
await warmUp(() => train(Network.create([784, 30, 10], { seed: 1, dtype }), data, { epochs: 2, miniBatchSize: 10, eta: 3.0, seed: 1, threads: busiest }));
for (let run = 0; run < runs; run++) {
  for (const threads of threadCounts) {
    const net = Network.create([784, 30, 10], { seed: run + 1, dtype });
    const result = await train(net, data, { epochs: 4, miniBatchSize: 10, eta: 3.0, seed: run + 1, threads });
    seconds.get(threads)!.push(...result.epochs.slice(1).map((e) => e.seconds));
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
  ];
});
const command = `npm run bench:epochs -- --threads ${threadCounts.join(",")} --runs ${runs} --dtype ${dtype}`;
const markdown = `### Epoch time, W1 (\`${command}\`)\n\n${machine()}. 784-30-10, batch 10, η 3.0, 8,000 digits, ${dtype}; epochs 2–4 of 4 in each of ${runs} runs, after a 2.5 s warm-up: median (min–max).\n\n${table(["threads", "epoch seconds", "examples/s", "speedup vs 1 thread", "efficiency"], rows)}`;
console.log(markdown);
if (values.record) await recordSection("epochs", markdown);
