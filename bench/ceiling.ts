/**
 * What the weights crossing between cores cost: a real N-thread training against the same training
 * with `privateWeights` (benchmark-only, and its network is wrong: every worker but worker 0 runs
 * its passes on a private copy of the weights that only its own rows' updates reach, so no updated
 * weight crosses between cores, while the work and the barriers stay those of a real run), both
 * against 1 thread, and N independent 1-thread trainings running at once (they never wait for each
 * other: what this machine gives N threads that do not work in lockstep). The four take turns one
 * epoch each (epochsInTurn), so every ratio is paired.
 *
 *   npm run bench:ceiling -- [--threads 2] [--nets 784-30-10] [--batches 10,100] [--runs 6] [--no-record]
 */
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { AbortError, loadMnistDigits, Network, train, type EpochReport, type TrainResult } from "../src/index.js";
import { addSplit, emptySplit, epochsInTurn, machine, pairedRatios, quietCell, recordSection, table, warmUp, type Shoal } from "./lib.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: String(Math.max(2, availableParallelism())) },
    nets: { type: "string", default: "784-30-10" },
    batches: { type: "string", default: "10,100" },
    runs: { type: "string", default: "6" },
    record: { type: "boolean", default: true },
  },
  allowNegative: true,
});
const threads = Number(values.threads);
if (!(Number.isInteger(threads) && threads >= 2)) throw new Error(`--threads must be an integer ≥ 2, got ${values.threads}`);
const runs = Number(values.runs);
if (!(Number.isInteger(runs) && runs >= 1)) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
const nets = values.nets.split(",").map((net) => net.split("-").map(Number));
const batches = values.batches.split(",").map(Number);

const { train: data } = await loadMnistDigits();

/**
 * A "train" that trains `count` networks at once, each on its own thread and each a copy of the
 * given one, and reports one epoch when all have finished it: the examples of all of them over the
 * slowest one's time. They start each epoch together (each waits in onEpoch for the others).
 */
function independent(count: number): Shoal {
  const together: Shoal["train"] = async (network, trainingData, options) => {
    let waiting: { report: EpochReport; release: () => void }[] = [];
    const onEpoch = (report: EpochReport): Promise<void> =>
      new Promise<void>((release) => {
        waiting.push({ report, release });
        if (waiting.length < count) return;
        const done = waiting;
        waiting = [];
        const seconds = Math.max(...done.map((w) => w.report.seconds));
        const combined = { ...report, seconds, examplesPerSecond: (count * trainingData.count) / seconds };
        void Promise.resolve(options.onEpoch?.(combined)).finally(() => done.forEach((w) => w.release()));
      });
    const copies = Array.from({ length: count }, (_, k) => (k === 0 ? network : network.clone()));
    const ended = await Promise.allSettled(copies.map((copy) => train(copy, trainingData, { ...options, threads: 1, onEpoch })));
    const failed = ended.find((e): e is PromiseRejectedResult => e.status === "rejected");
    if (failed) throw failed.reason;
    return (ended[0] as PromiseFulfilledResult<TrainResult>).value;
  };
  return { train: together, AbortError };
}

await warmUp(() => train(Network.create([784, 30, 10], { seed: 1 }), data, { epochs: 2, miniBatchSize: 10, eta: 3.0, seed: 1, threads }));
const rows: string[][] = [];
for (const sizes of nets) {
  for (const miniBatchSize of batches) {
    const [real, ceiling, gain, apart] = [emptySplit(), emptySplit(), emptySplit(), emptySplit()];
    for (let run = 0; run < runs; run++) {
      await sleep(300);
      const contestant = (n: number, privateWeights: boolean, shoal?: Shoal) => ({
        network: Network.create(sizes, { seed: run + 1 }), data, options: { miniBatchSize, eta: 3.0, seed: run + 1, threads: n, privateWeights }, shoal,
      });
      const [one, shared, own, many] = await epochsInTurn(
        [contestant(1, false), contestant(threads, false), contestant(threads, true), contestant(1, false, independent(threads))],
        3,
      );
      const rate = (e: { examplesPerSecond: number }): number => e.examplesPerSecond;
      for (const [into, base, of] of [[real, one, shared], [ceiling, one, own], [gain, shared, own], [apart, one, many]] as const) {
        addSplit(into, pairedRatios(base!, of!, rate));
      }
    }
    const times = (x: number): string => `${x.toFixed(2)}×`;
    rows.push([sizes.join("-"), String(miniBatchSize), ...[real, ceiling, gain, apart].map((split) => quietCell(split, times))]);
    console.log(rows.at(-1)!.join("  "));
  }
}

const command = `npm run bench:ceiling -- --threads ${threads} --nets ${values.nets} --batches ${values.batches} --runs ${runs}`;
const header = [
  "network", "batch", `${threads} threads ÷ 1 thread: all / quiet rounds`, `${threads} threads, private weights ÷ 1 thread`, "private ÷ shared weights",
  `${threads} independent 1-thread trainings ÷ 1`,
];
const markdown =
  `### What the weights crossing cores cost (\`${command}\`)\n\n${machine()}. float32 (wasm kernel), ${data.count.toLocaleString("en-US")} digits, η 3.0. ${runs} runs; in each, 1 thread, ` +
  `${threads} threads, ${threads} threads with private weights (benchmark-only: each worker but the first computes on its own copy of the weights, ` +
  `which only its own rows' updates reach, so no updated weight crosses between cores; same work and barriers, wrong network), and ${threads} independent 1-thread trainings at once (each epoch started together, counted ` +
  `when the last one ends) take turns one epoch each past their JIT warm-up, then 3 rounds are measured. Each cell: median of the rounds' examples/s ratios, over all rounds / over the quiet ` +
  `rounds (no CPU time stolen by the hypervisor during either epoch), and how many were quiet. "private ÷ shared" is what a real run would gain if ` +
  `the updated weights did not have to reach the other cores' caches; the last column is what the machine gives ${threads} threads that never wait ` +
  `for each other.\n\n${table(header, rows)}`;
console.log(`\n${markdown}`);
if (values.record) await recordSection("ceiling", markdown);
