/**
 * The wasm kernel's per-step parameter work on one thread, two ways, on real digits: BP3/BP4
 * summed into a gradient buffer then the SGD step (accumulate + update, the path of batches larger
 * than the example slots) against both in one pass per row (step, every other batch). The two
 * alternate step by step, each on a fresh batch, so the machine's slow spells hit both alike.
 * Reports the median and quartiles of the time per step, excluding the examples' passes.
 *
 *   npm run bench:step [-- --nets 784-30-10,784-100-10,784-256-128-10] [--batches 10,100] [--steps 4000]
 */
import { parseArgs } from "node:util";
import { fillTarget } from "../src/core/dataset.js";
import { loadMnistDigits, Network } from "../src/index.js";
import { kernelMemory } from "../test/fixtures/kernel-memory.js";
import { machine, recordSection, table } from "./lib.js";

const { values } = parseArgs({
  options: {
    nets: { type: "string", default: "784-30-10,784-100-10,784-256-128-10" },
    batches: { type: "string", default: "10,100" },
    steps: { type: "string", default: "4000" },
    record: { type: "boolean", default: true },
  },
  allowNegative: true,
});
const nets = values.nets.split(",").map((net) => net.split("-").map(Number));
const batches = values.batches.split(",").map(Number);
const steps = Number(values.steps);
if (!(Number.isInteger(steps) && steps >= 100)) throw new Error(`--steps must be an integer ≥ 100, got ${values.steps}`);

const { train } = await loadMnistDigits();
const examples = 2000;
const xs = Array.from({ length: examples }, (_, i) => Float32Array.from(train.inputs.subarray(i * train.inputSize, (i + 1) * train.inputSize)));
const quantile = (sorted: readonly number[], q: number): number => sorted[Math.floor(q * (sorted.length - 1))]!;
const micro = (x: number): string => x.toFixed(1);

const rows: string[][] = [];
for (const sizes of nets) {
  for (const batch of batches) {
    const net = Network.create(sizes, { seed: 1 });
    const wasm = kernelMemory(net, xs, 1, batch).kernelFor(0);
    const y = new Float64Array(sizes.at(-1)!);
    let next = 0;
    const fill = (): void => {
      for (let s = 0; s < batch; s++, next = (next + 1) % examples) {
        fillTarget(train, next, y);
        wasm.forwardAndDeltas(next, y, s);
      }
    };
    const times: [number[], number[]] = [[], []];
    const scale = 3 / batch;
    for (let i = 0; i < steps; i++) {
      for (const fused of [0, 1] as const) {
        fill();
        const t0 = performance.now();
        if (fused) wasm.step(batch, scale);
        else {
          wasm.accumulate(batch);
          wasm.update(scale);
        }
        if (i >= steps / 5) times[fused].push((performance.now() - t0) * 1000); // the first fifth warms up the JIT
      }
    }
    const [plain, fused] = times.map((t) => t.sort((a, b) => a - b));
    const ratio = quantile(fused!, 0.5) / quantile(plain!, 0.5);
    const cell = (t: number[]): string => `${micro(quantile(t, 0.5))} (${micro(quantile(t, 0.25))}–${micro(quantile(t, 0.75))})`;
    rows.push([sizes.join("-"), String(batch), cell(plain!), cell(fused!), ratio.toFixed(3)]);
    console.log(rows.at(-1)!.join("  "));
  }
}

const command = `npm run bench:step -- --nets ${values.nets} --batches ${values.batches} --steps ${steps}`;
const header = ["network", "batch", "accumulate + update, µs per step: median (quartiles)", "step (one pass per row)", "step ÷ two passes"];
const markdown = `### Gradient sum and SGD step, one pass vs two (\`${command}\`)\n\n${machine()}. One thread, wasm kernel, float32, the first ${examples} bundled digits; ${steps} steps of each, alternating, the first fifth not counted. Times exclude the examples' forward and backward passes.\n\n${table(header, rows)}`;
console.log(`\n${markdown}`);
if (values.record) await recordSection("step", markdown);
