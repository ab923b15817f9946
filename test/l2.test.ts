// Issue 18 §1: L2 regularisation, network2.py's rule w ← (1 − ηλ/n)·w − (η/m)·Σ_x ∂C_x/∂w, biases
// not decayed; the same bits at any thread count on each kernel, with either parallelism, and
// through checkpoints.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { backprop, createScratch } from "../src/core/backprop.js";
import { fillTarget } from "../src/core/dataset.js";
import { createDataset, createPool, loadCheckpoint, Network, train, ValidationError, type TrainOptions } from "../src/index.js";
import { someDigits } from "./fixtures/digits.js";
import { expectChunkedBatchBits, expectCliRule, expectJobSpecRule } from "./fixtures/training-rules.js";

const pools = [2, 3, 4].map((threads) => createPool({ threads }));
afterAll(() => Promise.all(pools.map((p) => p.close())));
const dir = mkdtempSync(join(tmpdir(), "shoal-l2-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("L2 regularisation", () => {
  it("two steps by hand (float64, 2-3-1): weights decay by 1 − ηλ/n before the gradient step, biases do not", async () => {
    const data = createDataset({ inputs: [[0.5, -1], [1, 0.25], [-0.5, 0.75], [0.2, 0.1]], labels: [1, 0, 1, 0], classes: 2 });
    const [eta, lambda, m, n] = [0.7, 2, 2, data.count];
    const net = Network.create([2, 3, 1], { seed: 5, dtype: "float64" });
    const expected = Float64Array.from(net.params);
    const { weightOffsets, biasOffsets, sizes } = net.architecture.layout;
    const isWeight = (i: number): boolean => sizes.slice(1).some((_, l) => i >= weightOffsets[l]! && i < biasOffsets[l]!);
    const scratch = createScratch(net.sizes);
    for (const batch of [[0, 1], [2, 3]]) {
      const gradient = new Float64Array(expected.length);
      for (const i of batch) {
        fillTarget(data, i, scratch.y);
        backprop(net.architecture, expected, data.inputs, i * data.inputSize, gradient, scratch);
      }
      const decay = 1 - (eta * lambda) / n;
      for (let i = 0; i < expected.length; i++) expected[i] = (isWeight(i) ? decay : 1) * expected[i]! - (eta / m) * gradient[i]!;
    }
    await train(net, data, { epochs: 1, miniBatchSize: m, eta, lambda, shuffle: false, threads: 0 });
    expect(Array.from(net.params)).toEqual(Array.from(expected));
    expect(expected.some((v, i) => isWeight(i) && v !== 0)).toBe(true);
  });

  it("λ = 0 is the run without L2, bit for bit", async () => {
    const { train: data } = await someDigits(100);
    const run = async (more: Partial<TrainOptions>): Promise<number[]> => {
      const net = Network.create([784, 10, 10], { seed: 2 });
      await train(net, data, { epochs: 1, miniBatchSize: 10, eta: 3, seed: 1, threads: 2, ...more });
      return Array.from(net.params);
    };
    expect(await run({ lambda: 0 })).toEqual(await run({}));
  });

  it("the same bits in process and on 1–4 threads (float64), and on 1–4 threads by examples and by neurons (wasm)", async () => {
    const { train: data, test } = await someDigits(300, 50);
    const run = async (dtype: "float32" | "float64", more: Partial<TrainOptions>): Promise<{ params: number[]; costs: number[] }> => {
      const net = Network.create([784, 20, 10], { seed: 3, dtype });
      const result = await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 3, lambda: 5, seed: 1, testData: test, ...more });
      return { params: Array.from(net.params), costs: result.epochs.map((e) => e.cost) };
    };
    const float64 = await run("float64", { threads: 0 });
    for (const threads of [1, 2]) expect(await run("float64", { threads })).toEqual(float64);
    for (const pool of pools) expect(await run("float64", { pool })).toEqual(float64);
    const float32 = await run("float32", { threads: 1 });
    for (const parallelism of ["examples", "neurons"] as const) {
      for (const pool of pools) expect(await run("float32", { pool, parallelism })).toEqual(float32);
    }
    // and it does something: the weights are smaller than without L2
    const plain = await run("float32", { threads: 1, lambda: 0 });
    const norm = (xs: number[]): number => xs.reduce((s, x) => s + x * x, 0);
    expect(norm(float32.params)).toBeLessThan(norm(plain.params));
  });

  it("on the wasm kernel, a weight no example's input reaches (a corner pixel) still decays each step, by examples and by neurons", async () => {
    const { train: data } = await someDigits(100);
    const inputs = data.inputs;
    expect(Array.from({ length: data.count }, (_, i) => inputs[i * 784]).every((v) => v === 0)).toBe(true); // pixel 0 is blank
    for (const parallelism of ["examples", "neurons"] as const) {
      const net = Network.create([784, 8, 10], { seed: 7 });
      const before = Array.from({ length: 8 }, (_, j) => net.params[j * 784]!); // w_j0, row-major w_jk
      await train(net, data, { epochs: 1, miniBatchSize: 10, eta: 3, lambda: 4, seed: 1, threads: 2, parallelism });
      // the kernel multiplies in float32 by the float32 decay, once per step (10 steps)
      const decay = Math.fround(1 - (3 * 4) / 100);
      const expected = before.map((w) => Array.from({ length: 10 }).reduce<number>((x) => Math.fround(decay * x), w));
      expect(Array.from({ length: 8 }, (_, j) => net.params[j * 784]!)).toEqual(expected);
    }
  });

  it("a batch larger than the example split's slots (summed in chunks, the update applied after the last) decays the same", async () => {
    await expectChunkedBatchBits({ epochs: 1, lambda: 5 });
  });

  it("a checkpoint records λ: the run resumes bit-identically, and another λ is refused", async () => {
    const { train: data } = await someDigits(200);
    const path = join(dir, "l2.json");
    const straight = Network.create([784, 10, 10], { seed: 6 });
    await train(straight, data, { epochs: 3, miniBatchSize: 10, eta: 3, lambda: 2, seed: 3, threads: 2 });
    await train(Network.create([784, 10, 10], { seed: 6 }), data, { epochs: 1, miniBatchSize: 10, eta: 3, lambda: 2, seed: 3, threads: 2, checkpoint: { path } });
    const checkpoint = await loadCheckpoint(path);
    expect(checkpoint.options.lambda).toBe(2);
    await expect(train(checkpoint.network.clone(), data, { resume: checkpoint, epochs: 3, lambda: 1 })).rejects.toThrow("lambda 1 is not the checkpoint's 2");
    await train(checkpoint.network, data, { resume: checkpoint, epochs: 3 });
    expect(Array.from(checkpoint.network.params)).toEqual(Array.from(straight.params));
  });

  it("λ < 0, NaN or not a number is refused before any thread starts", async () => {
    const { train: data } = await someDigits(20);
    for (const lambda of [-1, Number.NaN, Infinity, "5" as unknown as number]) {
      const error = await train(Network.create([784, 5, 10], { seed: 1 }), data, { epochs: 1, miniBatchSize: 10, eta: 3, lambda, threads: 2 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/^lambda must be a finite number ≥ 0, got /);
    }
  });
});

describe("λ from the command line and in job specs", () => {
  it("shoal train --lambda trains the library's bits, records λ, and --resume continues it bit-identically; a negative one is a usage error", async () => {
    await expectCliRule({ option: "lambda", value: 5, flag: "--lambda" }, dir, ["-1"], "a number ≥ 0");
  }, 60_000);

  it("a job spec's lambda trains as the library does; a bad one is refused at submit", async () => {
    await expectJobSpecRule({ option: "lambda", value: 5, flag: "--lambda" }, -2, "lambda must be a finite number ≥ 0, got -2");
  }, 60_000);
});
