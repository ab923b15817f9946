import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDataset, createPool, loadCheckpoint, loadMnistDigits, Network, train } from "../src/index.js";
import { chooseParallelism, chooseThreads, inputDensity, stepMicros, type Workload } from "../src/train/auto-threads.js";
import { threadChoice } from "../src/train/options.js";
import { PoolSet } from "../src/train/pool-set.js";
import { trainOn } from "../src/train/train.js";
import { mnistDigitsSplit } from "../src/data/mnist.js";
import { someDigits } from "./fixtures/digits.js";

const { train: digits } = await loadMnistDigits();
const density = inputDensity(digits);
const work = (sizes: number[], miniBatchSize: number, kernel: "wasm" | "js" = "wasm"): Workload => ({ sizes, miniBatchSize, kernel, inputDensity: density });

describe("threads: \"auto\" — the cost model's choice (src/train/auto-threads.ts)", () => {
  it("the bundled digits' recorded share of non-zero inputs (shoal train decides with it before loading them) is theirs", () => {
    expect(mnistDigitsSplit.inputDensity).toBeCloseTo(density, 2);
  });

  // Issue 16's grid, measured on this 2-core machine (npm run bench:auto, 2 threads ÷ 1 thread):
  // 784-30-10 b10 0.76×, b100 1.26×; 784-100-10 b10 0.78×, b100 1.28×; 784-256-128-10 b10 0.88×, b100 1.50×.
  it.each([
    [[784, 30, 10], 10, 1],
    [[784, 100, 10], 10, 1],
    [[784, 100, 10], 100, 2],
    [[784, 256, 128, 10], 10, 1],
    [[784, 256, 128, 10], 100, 2],
    [[784, 30, 10], 100, 2],
  ])("on 2 cores, %j at batch %i runs on %i thread(s)", (sizes, batch, expected) => {
    const choice = chooseThreads(work(sizes, batch), 2);
    expect(choice.threads).toBe(expected);
    expect(choice.reason).toMatch(new RegExp(`^${expected} threads?: a ${sizes.join("-")} step at batch ${batch} \\(wasm kernel\\) is ~[\\d.]+ (µs|ms) on 1 thread`));
    expect(choice.reason).not.toContain("modelled"); // 2 cores: what the model was fitted on
  });

  it("says why one thread: the step is too short to pay for the barriers", () => {
    expect(chooseThreads(work([784, 30, 10], 10), 2).reason).toMatch(
      /^1 thread: a 784-30-10 step at batch 10 \(wasm kernel\) is ~\d+ µs on 1 thread, too short for 2 threads to pay for their barriers and weight exchange \(~\d+ µs a step\): 2 would run at ~0\.\d\d× the speed of 1$/,
    );
  });

  it("the digits' inputs are ~19% non-zero, and a denser input makes the same network's step longer", () => {
    expect(density).toBeGreaterThan(0.15);
    expect(density).toBeLessThan(0.25);
    expect(stepMicros({ ...work([784, 100, 10], 10), inputDensity: 1 }, 1)).toBeGreaterThan(2 * stepMicros(work([784, 100, 10], 10), 1));
  });

  it("the TypeScript kernel's steps are long: every core pays off", () => {
    expect(chooseThreads(work([784, 30, 10], 10, "js"), 2).threads).toBe(2);
  });

  it("beyond 2 cores it extrapolates, and says so; one core, or one example a step, is one thread", () => {
    const big = chooseThreads(work([784, 256, 128, 10], 100), 8);
    expect(big.threads).toBeGreaterThan(2);
    expect(big.threads).toBeLessThanOrEqual(8);
    expect(big.reason).toContain("modelled beyond 2 threads: fitted on 2 cores, extrapolated to this machine's 8");
    expect(chooseThreads(work([784, 256, 128, 10], 100), 1)).toEqual({ threads: 1, parallelism: "examples", reason: "1 thread: this machine has 1 core" });
    expect(chooseThreads(work([784, 256, 128, 10], 1), 8).threads).toBe(1);
    expect(chooseThreads(work([784, 256, 128, 10], 10_000), 100_000).threads).toBeLessThanOrEqual(256);
  });

  it("where the neuron split can run, auto takes it when the model predicts it faster (784-30-10 at batch 10 on 2 cores)", () => {
    const w: Workload = { ...work([784, 30, 10], 10), neuronSplit: true };
    const choice = chooseThreads(w, 2);
    expect(choice).toMatchObject({ threads: 2, parallelism: "neurons" });
    expect(choice.reason).toMatch(/^2 threads sharing the hidden layer's neurons: a 784-30-10 step at batch 10 \(wasm kernel\) is ~\d+ µs on 1 thread, ~1\.\d\d× faster split by neurons on 2/);
    // without the neuron split, one thread, as before
    expect(chooseThreads(work([784, 30, 10], 10), 2)).toMatchObject({ threads: 1, parallelism: "examples" });
    expect(chooseParallelism(w, 1)).toBe("examples");
    expect(chooseParallelism(w, 2)).toBe("neurons");
    expect(chooseParallelism({ ...w, neuronSplit: false }, 2)).toBe("examples");
  });

  it("the chosen count's predicted step is within 10% of the fastest count's", () => {
    for (const sizes of [[784, 30, 10], [784, 100, 10], [784, 256, 128, 10]]) {
      for (const batch of [1, 10, 100, 1000]) {
        for (const cores of [2, 4, 16]) {
          const w = work(sizes, batch);
          const { threads } = chooseThreads(w, cores);
          for (let n = 1; n <= cores; n++) expect(stepMicros(w, threads)).toBeLessThanOrEqual(stepMicros(w, n) * 1.1);
        }
      }
    }
  });

  it("inputDensity counts the non-zero inputs", () => {
    expect(inputDensity(createDataset({ inputs: [[0, 1], [0, 0]], labels: [0, 1], classes: 2 }))).toBe(0.25);
    expect(inputDensity(createDataset({ inputs: [[2, 1], [3, -1]], labels: [0, 1], classes: 2 }))).toBe(1);
  });
});

describe("what a run's threads come to, and why (threadChoice, TrainResult.threadsReason)", () => {
  const shape = { sizes: [784, 10, 10], dtype: "float32" as const, data: digits };
  const options = { epochs: 1, miniBatchSize: 10, eta: 3, seed: 1 } as const;
  const dir = mkdtemp(path.join(tmpdir(), "shoal-auto-"));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it("a count given, or 0, is what runs, as asked; auto is the model's choice for this machine", () => {
    expect(threadChoice({ ...options, threads: 0 }, shape)).toEqual({ threads: 0, parallelism: "examples", reason: "in process, as asked" });
    const three = { sizes: shape.sizes, miniBatchSize: 10, kernel: "wasm", inputDensity: density, neuronSplit: true } as const;
    expect(threadChoice({ ...options, threads: 3 }, shape)).toEqual({ threads: 3, parallelism: chooseParallelism(three, 3), reason: "3 threads, as asked" });
    expect(threadChoice({ ...options, threads: 3, parallelism: "examples" }, shape)).toEqual({ threads: 3, parallelism: "examples", reason: "3 threads, as asked" });
    const auto = chooseThreads({ sizes: shape.sizes, miniBatchSize: 10, kernel: "wasm", inputDensity: density, neuronSplit: true });
    expect(threadChoice({ ...options, threads: "auto" }, shape)).toEqual(auto);
    expect(threadChoice(options, shape)).toEqual(auto);
    // float64 runs its own wasm kernel, split by examples (the wasm neuron split is float32's), or the TypeScript one split by neurons if asked
    expect(threadChoice(options, { ...shape, dtype: "float64" })).toEqual(chooseThreads({ sizes: shape.sizes, miniBatchSize: 10, kernel: "wasm", dtype: "float64", inputDensity: density, neuronSplit: false }));
    expect(threadChoice({ ...options, parallelism: "neurons" }, { ...shape, dtype: "float64" })).toMatchObject({ parallelism: "neurons" });
  });

  it("train() reports the count and its reason: auto, as asked, in process", async () => {
    const { train: data } = await someDigits(100);
    const auto = await train(Network.create([784, 10, 10], { seed: 1 }), data, options);
    expect({ threads: auto.threads, parallelism: auto.parallelism, reason: auto.threadsReason }).toEqual(threadChoice(options, { ...shape, data }));
    const two = await train(Network.create([784, 10, 10], { seed: 1 }), data, { ...options, threads: 2 });
    expect([two.threads, two.threadsReason]).toEqual([2, "2 threads, as asked"]);
    const serial = await train(Network.create([784, 10, 10], { seed: 1 }), data, { ...options, threads: 0 });
    expect([serial.threads, serial.threadsReason]).toEqual([0, "in process, as asked"]);
  });

  it("an explicit pool keeps its own count, whatever auto would choose", async () => {
    const { train: data } = await someDigits(100);
    const auto = threadChoice(options, { ...shape, data }).threads;
    const pool = createPool({ threads: auto + 1 });
    try {
      const result = await train(Network.create([784, 10, 10], { seed: 1 }), data, { ...options, pool });
      expect([result.threads, result.threadsReason]).toEqual([auto + 1, `${auto + 1} threads: the pool's`]);
    } finally {
      await pool.close();
    }
  });

  it("the default pool and a pool set resolve auto as train() does, and report the choice (not the pool's)", async () => {
    const { train: data } = await someDigits(100);
    const byDefault = await train(Network.create([784, 10, 10], { seed: 1 }), data, options);
    expect({ threads: byDefault.threads, parallelism: byDefault.parallelism, reason: byDefault.threadsReason }).toEqual(threadChoice(options, { ...shape, data }));
    const pools = new PoolSet();
    try {
      const result = await trainOn(pools, Network.create([784, 10, 10], { seed: 1 }), data, options);
      expect({ threads: result.threads, parallelism: result.parallelism, reason: result.threadsReason }).toEqual(threadChoice(options, { ...shape, data }));
    } finally {
      await pools.close();
    }
  });

  it("a resumed run that names no threads runs the checkpoint's count, and says so", async () => {
    const { train: data } = await someDigits(100);
    const file = path.join(await dir, "run.ckpt");
    await train(Network.create([784, 10, 10], { seed: 1 }), data, { ...options, threads: 0, checkpoint: { path: file } });
    const resumed = await train(Network.create([784, 10, 10], { seed: 1 }), data, { epochs: 2, resume: await loadCheckpoint(file) });
    expect([resumed.threads, resumed.threadsReason]).toEqual([0, "in process, as the checkpoint's run"]);
  });
});
