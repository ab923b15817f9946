/**
 * `threads: "auto"` against every fixed thread count, and the cost model refitted to this machine.
 * For each network and batch (float32, wasm kernel, the 8,000 bundled digits), one training per
 * fixed count 1 … N and one with "auto" take turns one epoch each (src/bench/training.ts epochsInTurn),
 * past their JIT warm-up, then `rounds` rounds are measured, in `runs` runs. Reported: each count's
 * examples/s ÷ 1 thread's (median of the rounds' paired ratios), the model's prediction of that
 * ratio (src/train/auto-threads.ts referenceCosts), auto's pick, and auto ÷ the best fixed count
 * (median of the rounds' ratios to the count with the highest median). Then the model's constants
 * fitted to these measurements (per example and per multiply-add from the 1-thread times, least
 * squares; efficiency, barrier and crossing by a grid search on the log of the ratios), to paste
 * into referenceCosts when the reference machine changes. With `--dtype float64` the networks are
 * float64 on the float64 wasm kernel (section auto-threads-float64), and the per-example constants
 * fitted are that kernel's ("wasm64").
 *
 *   npm run bench:auto -- [--threads 1,2] [--runs 3] [--rounds 3] [--nets 784-30-10,784-100-10,784-256-128-10]
 *                         [--batches 10,100] [--dtype float32|float64] [--no-record]
 */
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { loadMnistDigits, Network, train } from "../src/index.js";
import { chooseThreads, costedKernel, exampleWork, inputDensity, referenceCosts, stepMicros, type CostModel, type Workload } from "../src/train/auto-threads.js";
import { neuronSplitRuns } from "../src/train/options.js";
import { recordSection } from "./lib.js";
import { addSplit, emptySplit, machine, median, quietCell, table, type Split } from "../src/bench/stats.js";
import { epochsInTurn, warmUpMachine } from "../src/bench/training.js";
import { pairedRatios } from "../src/bench/turns.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: Array.from({ length: availableParallelism() }, (_, i) => i + 1).join(",") },
    runs: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    nets: { type: "string", default: "784-30-10,784-100-10,784-256-128-10" },
    batches: { type: "string", default: "10,100" },
    warm: { type: "string", default: "1" },
    dtype: { type: "string", default: "float32" },
    record: { type: "boolean", default: true },
  },
  allowNegative: true,
});
const list = (s: string): string[] => s.split(",").map((x) => x.trim()).filter(Boolean);
const counts = list(values.threads).map(Number);
if (counts[0] !== 1) throw new Error("--threads must start with 1 (the ratios are to one thread)");
const runs = Number(values.runs);
const rounds = Number(values.rounds);
const warmSeconds = Number(values.warm);
const nets = list(values.nets).map((n) => n.split("-").map(Number));
const batches = list(values.batches).map(Number);
const cores = availableParallelism();
const dtype = values.dtype === "float64" ? "float64" : "float32";
if (values.dtype !== dtype) throw new Error("--dtype must be float32 or float64");
const key = costedKernel({ kernel: "wasm", dtype });

const { train: data } = await loadMnistDigits();
const density = inputDensity(data);
await warmUpMachine(() => train(Network.create([784, 30, 10], { seed: 1, dtype }), data, { epochs: 2, miniBatchSize: 10, eta: 3.0, seed: 1, threads: Math.max(...counts) }));
const command = `npm run bench:auto -- --threads ${counts.join(",")} --runs ${runs} --rounds ${rounds} --nets ${values.nets} --batches ${values.batches}${dtype === "float64" ? " --dtype float64" : ""}`;
console.log(`${command}\n${machine()}\n`);

interface Point {
  readonly work: Workload;
  /** µs per example on 1 thread (median of the measured epochs). */
  readonly oneThread: number;
  /** Median n-thread ÷ 1-thread examples/s, by n. */
  readonly ratios: Map<number, number>;
}
const points: Point[] = [];
const rows: string[][] = [];
for (const sizes of nets) {
  for (const miniBatchSize of batches) {
    const work: Workload = { sizes, miniBatchSize, kernel: "wasm", dtype, inputDensity: density };
    const ratios = new Map<number, Split>(counts.map((n) => [n, emptySplit()]));
    const autoRatios = new Map<number, Split>(counts.map((n) => [n, emptySplit()])); // auto ÷ n
    const oneThread: number[] = [];
    let picked = "";
    for (let run = 0; run < runs; run++) {
      await sleep(300);
      const options = { miniBatchSize, eta: 3.0, seed: run + 1 };
      // the fixed counts split by examples (the model fitted here is the example split's); auto chooses as train() does
      const contestants = [...counts, "auto" as const].map((threads) => ({
        network: Network.create(sizes, { seed: run + 1, dtype }), data, options: { ...options, threads, ...(threads !== "auto" && { parallelism: "examples" as const }) },
      }));
      const measured = await epochsInTurn(contestants, rounds, { seconds: warmSeconds });
      const auto = measured[counts.length]!;
      counts.forEach((n, i) => {
        addSplit(ratios.get(n)!, pairedRatios(measured[0]!, measured[i]!, (e) => e.examplesPerSecond));
        addSplit(autoRatios.get(n)!, pairedRatios(measured[i]!, auto, (e) => e.examplesPerSecond));
      });
      oneThread.push(...measured[0]!.samples.map((e) => 1e6 / e.examplesPerSecond));
      // what train()'s auto chooses (it may split by neurons: the fixed counts here split by examples)
      const choice = chooseThreads({ ...work, neuronSplit: neuronSplitRuns(sizes, "wasm", { activation: "sigmoid", outputActivation: "sigmoid", cost: "quadratic" }, miniBatchSize, 0, dtype) }, cores);
      picked = `${choice.threads}${choice.parallelism === "neurons" ? ", neurons" : ""}`;
    }
    const medians = new Map(counts.map((n) => [n, median(ratios.get(n)!.all)]));
    const best = counts.reduce((a, b) => (medians.get(b)! > medians.get(a)! ? b : a));
    points.push({ work, oneThread: median(oneThread), ratios: medians });
    const cells = counts.slice(1).map((n) => `${quietCell(ratios.get(n)!, (x) => `${x.toFixed(2)}×`)}; model ${(stepMicros(work, 1) / stepMicros(work, n)).toFixed(2)}×`);
    const row = [sizes.join("-"), String(miniBatchSize), `${median(oneThread).toFixed(2)} µs; model ${(stepMicros(work, 1) / miniBatchSize).toFixed(2)}`, ...cells, picked, quietCell(autoRatios.get(best)!, (x) => `${x.toFixed(2)}×`)];
    rows.push(row);
    console.log(row.join("  "));
  }
}

const fitted = fit(points);
const constants = `perExample: { ${key}: ${fitted.perExample[key].toFixed(2)} }, perMultiplyAdd: { ${key}: ${fitted.perMultiplyAdd[key].toFixed(3)} }, efficiency: ${fitted.efficiency.toFixed(2)}, barrier: ${fitted.barrier}, crossing: ${fitted.crossing.toFixed(3)}`;
const header = ["network", "batch", "1 thread: µs per example", ...counts.slice(1).map((n) => `${n} threads ÷ 1: all / quiet rounds; model`), "auto picks", "auto ÷ best fixed count"];
const markdown =
  `### threads "auto" vs fixed counts (\`${command}\`)\n\n${machine()}. ${dtype} (wasm kernel), 8,000 digits (${(100 * density).toFixed(1)}% non-zero inputs), η 3.0. ${runs} runs; in each, one training per fixed count and one with threads "auto" take turns one epoch each past their JIT warm-up, then ${rounds} rounds are measured. Ratios: median of the rounds' paired examples/s ratios, over all rounds / over the quiet rounds (no CPU time stolen by the hypervisor during either epoch). "model": src/train/auto-threads.ts's prediction with its reference constants. "auto ÷ best fixed count": auto's rounds against the count with the best median ratio.\n\n` +
  `${table(header, rows)}\n\nThe model's constants fitted to these measurements: \`${constants}\` (reference: \`perExample: { ${key}: ${referenceCosts.perExample[key]} }, perMultiplyAdd: { ${key}: ${referenceCosts.perMultiplyAdd[key]} }, efficiency: ${referenceCosts.efficiency}, barrier: ${referenceCosts.barrier}, crossing: ${referenceCosts.crossing}\`).`;
console.log(`\n${markdown}`);
if (values.record) await recordSection(dtype === "float64" ? "auto-threads-float64" : "auto-threads", markdown);

/** The model's constants for this dtype's wasm kernel that best fit `points` (see the file comment). */
function fit(measured: readonly Point[]): CostModel {
  // 1 thread: µs per example = perExample + perMultiplyAdd · U / 1000, least squares
  const xs = measured.map((p) => exampleWork(p.work).multiplyAdds / 1000);
  const ys = measured.map((p) => p.oneThread);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const slope = sxx === 0 ? referenceCosts.perMultiplyAdd[key] : xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / sxx;
  const base: CostModel = { ...referenceCosts, perExample: { ...referenceCosts.perExample, [key]: my - slope * mx }, perMultiplyAdd: { ...referenceCosts.perMultiplyAdd, [key]: slope } };
  let best = { error: Infinity, model: base };
  for (let efficiency = 0.5; efficiency <= 1.0001; efficiency += 0.01) {
    for (let barrier = 0; barrier <= 20; barrier += 0.25) {
      for (let crossing = 0; crossing <= 1.0001; crossing += 0.005) {
        const model = { ...base, efficiency, barrier, crossing };
        let error = 0;
        for (const p of measured) {
          for (const [n, ratio] of p.ratios) if (n > 1) error += Math.log(stepMicros(p.work, 1, model) / stepMicros(p.work, n, model) / ratio) ** 2;
        }
        if (error < best.error) best = { error, model };
      }
    }
  }
  return best.model;
}
