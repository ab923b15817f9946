/**
 * Where a warm one-epoch run's time goes (W1, 1 thread, the digits), medians of 9: the whole warm
 * train() call, a steady epoch, auto's density sample, and createSharedRun reusing the last run's
 * memory (data compared in place of copied); also dataset validation's scan, against the scan it
 * replaced.
 *
 *   npx tsx bench/probes/warm-run.ts
 */
import { createPool, loadMnistDigits, Network, train, validateDataset } from "../../src/index.js";
import { createSharedRun } from "../../src/parallel/shared-state.js";
import { inputDensity } from "../../src/train/auto-threads.js";

const { train: data } = await loadMnistDigits();
const pool = createPool({ threads: 1 });
const options = { miniBatchSize: 10, eta: 3, seed: 1 } as const;
for (let i = 0; i < 3; i++) await train(Network.create([784, 30, 10], { seed: 1 }), data, { ...options, epochs: 1, pool });
const times: Record<string, number[]> = { "warm train() of 1 epoch": [], "steady epoch": [], "density sample": [], "createSharedRun, reused": [], "validateDataset": [], "per-value isFinite scan": [] };
const settings = { threads: 1, miniBatchSize: 10, kernel: "wasm", privateWeights: false, parallelism: "examples" } as const;
const net = Network.create([784, 30, 10], { seed: 1 });
let previous = createSharedRun(net.spec, net.params, data, undefined, settings);
const time = (name: string, work: () => unknown): void => {
  const started = performance.now();
  work();
  times[name]!.push(performance.now() - started);
};
for (let i = 0; i < 9; i++) {
  const started = performance.now();
  await train(Network.create([784, 30, 10], { seed: 1 }), data, { ...options, epochs: 1, pool });
  times["warm train() of 1 epoch"]!.push(performance.now() - started);
  const long = await train(Network.create([784, 30, 10], { seed: 1 }), data, { ...options, epochs: 4, pool });
  times["steady epoch"]!.push(long.epochs[3]!.seconds * 1000);
  time("density sample", () => inputDensity(data));
  time("createSharedRun, reused", () => (previous = createSharedRun(net.spec, net.params, data, undefined, settings, previous)));
  time("validateDataset", () => validateDataset(data, "digits"));
  time("per-value isFinite scan", () => firstNonFiniteByValue(data.inputs as Float32Array));
}
await pool.close();

/** The scan validateDataset made before (one test per value). */
function firstNonFiniteByValue(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
  return -1;
}
const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, xs] of Object.entries(times)) console.log(`${name}: ${median(xs).toFixed(1)} ms`);
