/**
 * What the weights crossing between cores cost: a real N-thread training against the same training
 * with `privateWeights` (benchmark-only, and its network is wrong: every worker but worker 0 runs
 * its passes on a private copy of the weights that only its own rows' updates reach, so no updated
 * weight crosses between cores, while the work and the barriers stay those of a real run), both
 * against 1 thread. The three take turns one epoch each (epochsInTurn), so every ratio is paired.
 *
 *   npm run bench:ceiling -- [--threads 2] [--nets 784-30-10] [--batches 10,100] [--runs 6] [--no-record]
 */
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { loadMnistDigits, Network, train } from "../src/index.js";
import { addSplit, emptySplit, epochsInTurn, machine, pairedRatios, quietCell, recordSection, table, warmUp } from "./lib.js";

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
await warmUp(() => train(Network.create([784, 30, 10], { seed: 1 }), data, { epochs: 2, miniBatchSize: 10, eta: 3.0, seed: 1, threads }));
const rows: string[][] = [];
for (const sizes of nets) {
  for (const miniBatchSize of batches) {
    const [real, ceiling, gain] = [emptySplit(), emptySplit(), emptySplit()];
    for (let run = 0; run < runs; run++) {
      await sleep(300);
      const contestant = (n: number, privateWeights: boolean) => ({
        network: Network.create(sizes, { seed: run + 1 }), data, options: { miniBatchSize, eta: 3.0, seed: run + 1, threads: n, privateWeights },
      });
      const [one, shared, own] = await epochsInTurn([contestant(1, false), contestant(threads, false), contestant(threads, true)], 3);
      const rate = (e: { examplesPerSecond: number }): number => e.examplesPerSecond;
      for (const [into, base, of] of [[real, one, shared], [ceiling, one, own], [gain, shared, own]] as const) {
        addSplit(into, pairedRatios(base!, of!, rate));
      }
    }
    const times = (x: number): string => `${x.toFixed(2)}×`;
    rows.push([sizes.join("-"), String(miniBatchSize), quietCell(real, times), quietCell(ceiling, times), quietCell(gain, times)]);
    console.log(rows.at(-1)!.join("  "));
  }
}

const command = `npm run bench:ceiling -- --threads ${threads} --nets ${values.nets} --batches ${values.batches} --runs ${runs}`;
const header = [
  "network", "batch", `${threads} threads ÷ 1 thread: all / quiet rounds`, `${threads} threads, private weights ÷ 1 thread`, "private ÷ shared weights",
];
const markdown =
  `### What the weights crossing cores cost (\`${command}\`)\n\n${machine()}. float32 (wasm kernel), ${data.count.toLocaleString("en-US")} digits, η 3.0. ${runs} runs; in each, 1 thread, ` +
  `${threads} threads, and ${threads} threads with private weights (benchmark-only: each worker but the first computes on its own copy of the weights, ` +
  `which only its own rows' updates reach, so no updated weight crosses between cores; same work and barriers, wrong network) take turns one epoch ` +
  `each past their JIT warm-up, then 3 rounds are measured. Each cell: median of the rounds' examples/s ratios, over all rounds / over the quiet ` +
  `rounds (no CPU time stolen by the hypervisor during either epoch), and how many were quiet. The last column is what a real run would gain if ` +
  `the updated weights did not have to reach the other cores' caches.\n\n${table(header, rows)}`;
console.log(`\n${markdown}`);
if (values.record) await recordSection("ceiling", markdown);
