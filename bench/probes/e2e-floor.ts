/**
 * What `shoal train --epochs 10` (W1, bundled digits, built) cannot go below on this machine: the
 * parts no change to shoal's run removes, each measured on its own (medians of 7, taking turns):
 *   - starting node and importing the built CLI (a process that imports dist/src/cli/main.js, exits);
 *   - filling a new Float32Array the size of the digits' inputs (first-touch page faults: any
 *     float32 dataset pays it once per process);
 *   - a fresh run's shared memory: createSharedRun on new memory (the sparse copy, first touch);
 *   - ten steady epochs, each with the 2,000-image test, on warm threads.
 * Their sum is a floor for the whole process (thread start, the first epoch's warm-up, saving the
 * model and exit come on top).
 *
 *   npm run build && npx tsx bench/probes/e2e-floor.ts
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createPool, loadMnistDigits, Network, train } from "../../src/index.js";
import { createSharedRun } from "../../src/parallel/shared-state.js";

const main = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));
if (!existsSync(main)) throw new Error("dist/ is missing: run `npm run build` first");
const { train: data, test } = await loadMnistDigits();
const pool = createPool({ threads: 1 });
const net = (): Network => Network.create([784, 30, 10], { seed: 1 });
const options = { miniBatchSize: 10, eta: 3, seed: 1, pool, testData: test } as const;
await train(net(), data, { ...options, epochs: 3 });

const parts: Record<string, () => Promise<number> | number> = {
  "node start": () => timed(() => spawnSync(process.execPath, ["-e", "0"])),
  "node start + import the built CLI": () => timed(() => spawnSync(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(main)})`])),
  "fill a new Float32Array of the digits' inputs": () => timed(() => new Float32Array(data.inputs.length).fill(0.5)),
  "createSharedRun on new memory": () => {
    const n = net();
    return timed(() => createSharedRun(n.spec, n.params, data, test, { threads: 1, miniBatchSize: 10, kernel: "wasm", privateWeights: false, parallelism: "examples" }));
  },
  "10 steady epochs with the test": async () => {
    const result = await train(net(), data, { ...options, epochs: 12 });
    return 1000 * result.epochs.slice(2).reduce((sum, e) => sum + e.seconds, 0); // seconds include the test
  },
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(parts).map((k) => [k, []]));
for (let round = 0; round < 7; round++) for (const [name, part] of Object.entries(parts)) times[name]!.push(await part());
await pool.close();

function timed(work: () => unknown): number {
  const started = performance.now();
  work();
  return performance.now() - started;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, xs] of Object.entries(times)) console.log(`${name}: ${median(xs).toFixed(1)} ms`);
const floor = ["node start + import the built CLI", "fill a new Float32Array of the digits' inputs", "createSharedRun on new memory", "10 steady epochs with the test"].reduce((sum, k) => sum + median(times[k]!), 0);
console.log(`floor (import + fill + shared memory + 10 epochs): ${floor.toFixed(0)} ms`);
