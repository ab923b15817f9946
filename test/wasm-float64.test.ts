// Issue 17 §3: the float64 WebAssembly SIMD kernel makes the TypeScript kernel's operations in its
// order (every O(neurons) step is the TypeScript kernel's own function), so a float64 network has
// one set of bits: in process, on the TypeScript kernel's threads and on the wasm kernel's, at any
// thread count, split by examples or by neurons — with every rule, and through checkpoints.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDataset, createPool, DivergenceError, loadCheckpoint, loadModel, Network, train, type Dataset, type NetworkOptions, type TrainOptions } from "../src/index.js";
import { kernelText } from "../src/core/wasm/build-kernel.js";
import { loadSource } from "../src/data/source.js";
import { shoal, writeIdxFolder } from "./fixtures/cli-helpers.js";
import { someDigits } from "./fixtures/digits.js";

const pools = [1, 2, 3].map((threads) => createPool({ threads }));
afterAll(() => Promise.all(pools.map((p) => p.close())));
const dir = mkdtempSync(join(tmpdir(), "shoal-wasm64-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  params: Float64Array;
  costs: number[];
  accuracy: (number | undefined)[];
  kernel: string | undefined;
}

async function outcome(sizes: number[], layers: NetworkOptions, data: Dataset, test: Dataset, options: Partial<TrainOptions>): Promise<Outcome> {
  const net = Network.create(sizes, { seed: 9, dtype: "float64", ...layers });
  const path = join(dir, `run-${Math.random()}.json`);
  const result = await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 3, seed: 2, testData: test, checkpoint: { path }, ...options });
  const { options: recorded } = await loadCheckpoint(path);
  return { params: net.params as Float64Array, costs: result.epochs.map((e) => e.cost), accuracy: result.epochs.map((e) => e.accuracy), kernel: recorded.kernel };
}

describe("the float64 wasm kernel gives the TypeScript kernel's bits", () => {
  // pairwise over layers × rules × batch, each against the in-process TypeScript path
  const cases: [string, number[], NetworkOptions, Partial<TrainOptions>][] = [
    ["784-30-10, network.py's sigmoid and quadratic cost, batch 10", [784, 30, 10], {}, {}],
    ["784-20-15-10, tanh, softmax with log-likelihood, L2 and momentum, batch 7 (a short last batch)", [784, 20, 15, 10], { activation: "tanh", outputActivation: "softmax", cost: "log-likelihood" }, { miniBatchSize: 7, lambda: 2, momentum: 0.5, eta: 0.5 }],
    ["784-13-10, relu and identity, dropout 0.3", [784, 13, 10], { activation: "relu", outputActivation: "identity" }, { dropout: 0.3, eta: 0.02 }],
    ["784-30-10, cross-entropy, batch 300 (summed in chunks of the slots, through the gradient buffers), momentum", [784, 30, 10], { cost: "cross-entropy" }, { miniBatchSize: 300, momentum: 0.9, eta: 0.5 }],
    ["784-6-10, fewer rows than threads in the output layer, batch 2", [784, 6, 10], {}, { miniBatchSize: 2, lambda: 1 }],
  ];
  for (const [name, sizes, layers, options] of cases) {
    it(`${name}: in process = wasm on 1–3 threads = TypeScript on 2`, async () => {
      const { train: data, test } = await someDigits(options.miniBatchSize === 300 ? 650 : 150, 40);
      const reference = await outcome(sizes, layers, data, test, { ...options, threads: 0 });
      expect(reference.kernel).toBe("js");
      expect(reference.params.every(Number.isFinite)).toBe(true);
      for (const pool of pools) {
        const wasm = await outcome(sizes, layers, data, test, { ...options, pool, parallelism: "examples" });
        expect(wasm.kernel).toBe("wasm");
        expect(wasm).toEqual({ ...reference, kernel: "wasm" });
      }
      expect(await outcome(sizes, layers, data, test, { ...options, threads: 2, kernel: "js" })).toEqual(reference);
    });
  }

  it("is what auto runs for float64 on threads; split by neurons (the TypeScript kernel's split), the same bits", async () => {
    const { train: data, test } = await someDigits(120, 40);
    const byDefault = await outcome([784, 30, 10], {}, data, test, { threads: 2 });
    expect(byDefault.kernel).toBe("wasm");
    const byNeurons = await outcome([784, 30, 10], {}, data, test, { threads: 2, parallelism: "neurons" });
    expect(byNeurons.kernel).toBe("js");
    expect(byNeurons).toEqual({ ...byDefault, kernel: "js" });
  });

  it("stops a diverging run at the same mini-batch, on the same weights", async () => {
    const { train: data } = await someDigits(300);
    const run = async (options: Partial<TrainOptions>): Promise<[unknown, Float64Array]> => {
      const net = Network.create([784, 30, 10], { seed: 1, dtype: "float64", activation: "identity" });
      const error = await train(net, data, { epochs: 3, miniBatchSize: 10, eta: 1e6, shuffle: false, ...options }).catch((e: unknown) => e);
      return [error, net.params as Float64Array];
    };
    const [serialError, serial] = await run({ threads: 0 });
    const [wasmError, wasm] = await run({ threads: 2, kernel: "wasm" });
    expect(serialError).toBeInstanceOf(DivergenceError);
    expect(wasmError).toEqual(serialError);
    expect(wasm.every(Number.isFinite)).toBe(true);
    expect(wasm).toEqual(serial);
  });

  it("a checkpoint resumes on the other kernel, or in process, bit-identically", async () => {
    const { train: data } = await someDigits(100);
    const settings = { miniBatchSize: 10, eta: 3, seed: 5, momentum: 0.5 } as const;
    const straight = Network.create([784, 20, 10], { seed: 3, dtype: "float64" });
    await train(straight, data, { ...settings, epochs: 4, threads: 0 });
    for (const [first, then] of [[{ threads: 2, kernel: "wasm" }, { threads: 0 }], [{ threads: 0 }, { threads: 2 }], [{ threads: 2, kernel: "js" }, { threads: 1, kernel: "wasm" }]] as const) {
      const path = join(dir, `resume-${first.threads}-${then.threads}.json`);
      await train(Network.create([784, 20, 10], { seed: 3, dtype: "float64" }), data, { ...settings, epochs: 2, ...first, checkpoint: { path } });
      const back = await loadCheckpoint(path);
      await train(back.network, data, { epochs: 4, resume: back, ...then });
      expect(back.network.params).toEqual(straight.params);
    }
  });
});

describe("the float64 kernel's text", () => {
  it("is kernel.wat on f64x2 vectors: no float32 vector operation, no placeholder, no sigmoid of its own", async () => {
    const text = await kernelText("float64");
    expect(text).not.toMatch(/@if|@endif|@unroll|@lane|[{}]/);
    const code = text.replace(/;;.*$/gm, "");
    expect(code).not.toMatch(/f32x4/);
    expect(code).toMatch(/\(local\.set \$z7 \(f64x2\.add/);
    expect(code).not.toMatch(/export "sigmoid"|export "quadraticSigmoidOutput"/);
    // float32's own: the same exports as before, and no float64 vectors outside its sigmoid
    const text32 = await kernelText("float32");
    expect(text32).toMatch(/export "sigmoid"/);
    expect(text32).not.toMatch(/f64x2\.(add|mul) \(local\.get \$[zg]/);
  });
});

describe("float64 data (issue 17 §3: a float64 run keeps its inputs in float64)", () => {
  /** 60 examples of 5 inputs that float32 cannot hold exactly (0.1, 0.123 …), 3 classes. */
  function decimals(): { rows: number[][]; labels: number[] } {
    const rows = Array.from({ length: 60 }, (_, i) => Array.from({ length: 5 }, (_, k) => ((i * 7 + k * 13) % 1000) / 1000));
    return { rows, labels: rows.map((_, i) => i % 3) };
  }

  it("createDataset keeps float64 rows, or a Float64Array, exactly; float32 is the default", () => {
    const { rows, labels } = decimals();
    const wide = createDataset({ inputs: rows, labels, dtype: "float64" });
    expect(wide.inputs).toBeInstanceOf(Float64Array);
    expect(Array.from(wide.inputs.subarray(0, 5))).toEqual(rows[0]);
    expect(createDataset({ inputs: rows, labels }).inputs).toBeInstanceOf(Float32Array);
    const flat = Float64Array.from(rows.flat());
    expect(createDataset({ inputs: flat, inputSize: 5, labels }).inputs).toBe(flat);
    expect(() => createDataset({ inputs: rows, labels, dtype: "float16" as never })).toThrow('dtype must be float32 or float64, got "float16"');
    expect(() => createDataset({ inputs: [[0.5, Number.NaN]], labels: [0], dtype: "float64" })).toThrow("input 1 of example 0 is NaN, expected a finite number");
  });

  it("a float64 network trains on the float64 values — in process, on the wasm kernel and on the TypeScript one — and a float32 network on their float32 rounding", async () => {
    const { rows, labels } = decimals();
    const wide = createDataset({ inputs: rows, labels, dtype: "float64" });
    const narrow = createDataset({ inputs: rows, labels });
    const run = async (dtype: "float32" | "float64", data: Dataset, options: Partial<TrainOptions>): Promise<number[]> => {
      const net = Network.create([5, 4, 3], { seed: 3, dtype });
      await train(net, data, { epochs: 3, miniBatchSize: 4, eta: 2, seed: 1, ...options });
      return Array.from(net.params);
    };
    const exact = await run("float64", wide, { threads: 0 });
    expect(await run("float64", wide, { pool: pools[1]!, kernel: "wasm" })).toEqual(exact);
    expect(await run("float64", wide, { pool: pools[1]!, kernel: "js" })).toEqual(exact);
    // the unrounded values made a difference: the float32 data's run is another run
    expect(await run("float64", narrow, { threads: 0 })).not.toEqual(exact);
    // a float32 network: the float64 data's run is the float32 data's, in process and on threads
    const rounded = await run("float32", narrow, { threads: 0 });
    expect(await run("float32", wide, { threads: 0 })).toEqual(rounded);
    const wasm = await run("float32", narrow, { pool: pools[1]!, kernel: "wasm" });
    expect(await run("float32", wide, { pool: pools[1]!, kernel: "wasm" })).toEqual(wasm);
    // a pool that last held the data as float32 copies it again as float64
    expect(await run("float64", wide, { pool: pools[1]!, kernel: "wasm" })).toEqual(exact);
  });

  it("the loaders give float64 values exactly: bytes ÷ 255, the digits' three decimals, CSV cells", async () => {
    const { train: digits } = await loadSource({ name: "mnist", limit: 50, dtype: "float64" });
    const { train: digits32 } = await loadSource({ name: "mnist", limit: 50 });
    expect(digits.inputs).toBeInstanceOf(Float64Array);
    digits.inputs.forEach((v, i) => {
      expect(Number.isInteger(Math.round(v * 1000)) && Math.round(v * 1000) / 1000 === v).toBe(true);
      expect(Math.fround(v)).toBe(digits32.inputs[i]);
    });
    const folder = join(dir, "idx");
    mkdirSync(folder);
    await writeIdxFolder(folder, 6, 3);
    const { train: bytes } = await loadSource({ idx: folder, dtype: "float64" });
    const images = readFileSync(join(folder, "train-images-idx3-ubyte")).subarray(16);
    expect(Array.from(bytes.inputs)).toEqual(Array.from(images, (b) => b / 255));
    const csv = join(dir, "tenths.csv");
    writeFileSync(csv, "label,a,b\n0,0.1,3\n1,0.7,9\n");
    const { train: cells } = await loadSource({ csv, scale: 10, dtype: "float64" });
    expect(Array.from(cells.inputs)).toEqual([0.1 / 10, 3 / 10, 0.7 / 10, 9 / 10]);
  });

  it("shoal train --dtype float64 trains on the CSV's float64 values, and --resume loads them so again", async () => {
    const { rows, labels } = decimals();
    const csv = join(dir, "decimals.csv");
    writeFileSync(csv, ["label,a,b,c,d,e", ...rows.map((r, i) => [labels[i], ...r].join(","))].join("\n"));
    const out = join(dir, "decimals.shoal.json");
    const checkpoint = join(dir, "decimals.ckpt.json");
    const args = ["train", "--data", csv, "--dtype", "float64", "--hidden", "4", "--batch", "4", "--eta", "2", "--seed", "3", "--threads", "2", "--out", out];
    const first = await shoal([...args, "--epochs", "1", "--checkpoint", checkpoint]);
    expect(first.code, first.stderr).toBe(0);
    const resumed = await shoal(["train", "--resume", checkpoint, "--epochs", "3"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const library = Network.create([5, 4, 3], { seed: 3, dtype: "float64" });
    await train(library, createDataset({ inputs: rows, labels, dtype: "float64" }), { epochs: 3, miniBatchSize: 4, eta: 2, seed: 3, threads: 0 });
    expect(Array.from((await loadModel(out)).network.params)).toEqual(Array.from(library.params));
  });
});
