/**
 * How close a float64 run comes to an independent float64 implementation of network.py (numpy,
 * bench/float64_reference.py): both start from the same weights and take the same mini-batches in
 * order (no shuffle), on the first `--examples` bundled digits. shoal runs on the float64 wasm
 * kernel (2 threads) twice: on the digits as float64 data (their values exactly, as `--dtype
 * float64` loads them) and on their float32 values (what a float64 run trained on before its data
 * could be float64). Reported: the largest |difference| of any weight or bias after the epochs,
 * against numpy on each input. Needs python3 with numpy. Not a timing: it may run beside other work.
 *
 *   npm run bench:reference [-- --examples 1000 --epochs 2 --python python3] [--no-record]
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadSource } from "../src/data/source.js";
import { closeDefaultPool, layoutOf, Network, train, type Dataset } from "../src/index.js";
import { machine, recordSection, table } from "./lib.js";

const { values } = parseArgs({
  options: {
    examples: { type: "string", default: "1000" },
    epochs: { type: "string", default: "2" },
    python: { type: "string", default: "python3" },
    record: { type: "boolean", default: true },
  },
  allowNegative: true,
});
const examples = Number(values.examples);
const epochs = Number(values.epochs);
const sizes = [784, 30, 10];
const settings = { miniBatchSize: 10, eta: 3 };
const command = `npm run bench:reference -- --examples ${examples} --epochs ${epochs}`;

const wide = (await loadSource({ name: "mnist", limit: examples, dtype: "float64" })).train;
const narrow = (await loadSource({ name: "mnist", limit: examples })).train;
const initial = Network.create(sizes, { seed: 1, dtype: "float64" });
const layout = layoutOf(sizes);
/** A network's parameters as network.py's lists: each layer's weights row-major, then its biases. */
const lists = (params: ArrayLike<number>): { weights: number[][]; biases: number[][] } => ({
  weights: sizes.slice(1).map((n, l) => Array.from(params as Float64Array).slice(layout.weightOffsets[l]!, layout.weightOffsets[l]! + n * sizes[l]!)),
  biases: sizes.slice(1).map((n, l) => Array.from(params as Float64Array).slice(layout.biasOffsets[l]!, layout.biasOffsets[l]! + n)),
});

const dir = await mkdtemp(path.join(tmpdir(), "shoal-reference-"));
try {
  await writeFile(path.join(dir, "init.json"), JSON.stringify({ sizes, ...lists(initial.params) }));
  const labels = wide.targets.kind === "labels" ? wide.targets.labels : new Int32Array();
  await writeFile(path.join(dir, "labels.u8"), Uint8Array.from(labels));
  const inputs: Record<string, Dataset> = { float64: wide, float32: narrow };
  for (const [name, data] of Object.entries(inputs)) await writeFile(path.join(dir, `inputs-${name}.f64`), Float64Array.from(data.inputs));
  const script = new URL("./float64_reference.py", import.meta.url).pathname;
  const python = spawnSync(values.python, [script, dir, String(epochs), String(settings.miniBatchSize), String(settings.eta), "float64", "float32"], { encoding: "utf8" });
  if (python.status !== 0) throw new Error(`${values.python} ${script} failed (it needs numpy): ${python.stderr || python.error?.message}`);
  const numpyVersion = spawnSync(values.python, ["-c", "import numpy; print(numpy.__version__)"], { encoding: "utf8" }).stdout.trim();

  const rows: string[][] = [];
  for (const [name, data] of Object.entries(inputs)) {
    const net = Network.create(sizes, { seed: 1, dtype: "float64" });
    await train(net, data, { ...settings, epochs, shuffle: false, threads: 2, kernel: "wasm", parallelism: "examples" });
    const ours = lists(net.params);
    for (const reference of ["float64", "float32"]) {
      const theirs = JSON.parse(await readFile(path.join(dir, `numpy-${reference}.json`), "utf8")) as { weights: number[][]; biases: number[][] };
      let most = 0;
      for (const key of ["weights", "biases"] as const) ours[key].forEach((layer, l) => layer.forEach((v, i) => (most = Math.max(most, Math.abs(v - theirs[key][l]![i]!)))));
      rows.push([`${name} (${name === "float64" ? "--dtype float64's data" : "float32 values, widened"})`, `${reference} values`, most.toExponential(1)]);
    }
  }
  const markdown =
    `### A float64 run against numpy's network.py in float64 (\`${command}\`)\n\n${machine()}. numpy ${numpyVersion}. ` +
    `784-30-10, sigmoid, quadratic cost, η ${settings.eta}, batch ${settings.miniBatchSize}, no shuffle, ${epochs} epochs on the first ${examples.toLocaleString("en-US")} bundled digits, from the same float64 weights. ` +
    `shoal: float64 wasm kernel, 2 threads. numpy: bench/float64_reference.py, vectorised over the batch (its sums in another order). Largest absolute difference of any weight or bias.\n\n` +
    table(["shoal's inputs", "numpy's inputs", "largest difference of a parameter"], rows);
  console.log(markdown);
  if (values.record) await recordSection("float64-reference", markdown);
} finally {
  await rm(dir, { recursive: true, force: true });
  await closeDefaultPool();
}
