// Issue 18 §2: momentum, chapter 3's rule v ← μ·v − (η/m)·Σ_x ∂C_x/∂w, w ← w + v (biases likewise),
// velocities in shared memory owned like their rows; the same bits at any thread count on each
// kernel, with either parallelism, through an epoch's replay and through checkpoints.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { backprop, createScratch } from "../src/core/backprop.js";
import { fillTarget } from "../src/core/dataset.js";
import { createDataset, createPool, loadCheckpoint, Network, train, ValidationError, type TrainOptions } from "../src/index.js";
import { someDigits } from "./fixtures/digits.js";
import { expectChunkedBatchBits, expectCliRule, expectJobSpecRule, expectReplayToLastGoodStep } from "./fixtures/training-rules.js";

const pools = [2, 3, 4].map((threads) => createPool({ threads }));
afterAll(() => Promise.all(pools.map((p) => p.close())));
const dir = mkdtempSync(join(tmpdir(), "shoal-momentum-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("momentum", () => {
  it("two steps by hand (float64, 2-3-1): v ← μv − (η/m)Σ, w ← w + v, biases too; with λ the weights decay first", async () => {
    const data = createDataset({ inputs: [[0.5, -1], [1, 0.25], [-0.5, 0.75], [0.2, 0.1]], labels: [1, 0, 1, 0], classes: 2 });
    const [eta, mu, m, n] = [0.7, 0.6, 2, data.count];
    for (const lambda of [0, 2]) {
      const net = Network.create([2, 3, 1], { seed: 5, dtype: "float64" });
      const expected = Float64Array.from(net.params);
      const velocity = new Float64Array(expected.length);
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
        for (let i = 0; i < expected.length; i++) {
          velocity[i] = mu * velocity[i]! - (eta / m) * gradient[i]!;
          expected[i] = (isWeight(i) ? decay : 1) * expected[i]! + velocity[i]!;
        }
      }
      const result = await train(net, data, { epochs: 1, miniBatchSize: m, eta, lambda, momentum: mu, shuffle: false, threads: 0 });
      expect(Array.from(net.params)).toEqual(Array.from(expected));
      // the second step moved by more than its own gradient: the first step's velocity carried on
      expect(velocity.some((v) => v !== 0)).toBe(true);
      expect(result.epochs).toHaveLength(1);
    }
  });

  it("μ = 0 is plain SGD, bit for bit, on both kernels", async () => {
    const { train: data } = await someDigits(100);
    const run = async (dtype: "float32" | "float64", more: Partial<TrainOptions>): Promise<number[]> => {
      const net = Network.create([784, 10, 10], { seed: 2, dtype });
      await train(net, data, { epochs: 1, miniBatchSize: 10, eta: 3, seed: 1, threads: 2, ...more });
      return Array.from(net.params);
    };
    for (const dtype of ["float32", "float64"] as const) expect(await run(dtype, { momentum: 0 })).toEqual(await run(dtype, {}));
  });

  it("the same bits in process and on 1–4 threads (float64), and on 1–4 threads by examples and by neurons (wasm), with λ too", async () => {
    const { train: data, test } = await someDigits(300, 50);
    const run = async (dtype: "float32" | "float64", more: Partial<TrainOptions>): Promise<{ params: number[]; costs: number[] }> => {
      const net = Network.create([784, 20, 10], { seed: 3, dtype });
      const result = await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 1, momentum: 0.5, lambda: 2, seed: 1, testData: test, ...more });
      return { params: Array.from(net.params), costs: result.epochs.map((e) => e.cost) };
    };
    const float64 = await run("float64", { threads: 0 });
    for (const threads of [1, 2]) expect(await run("float64", { threads })).toEqual(float64);
    for (const pool of pools) expect(await run("float64", { pool })).toEqual(float64);
    const float32 = await run("float32", { threads: 1 });
    for (const parallelism of ["examples", "neurons"] as const) {
      for (const pool of pools) expect(await run("float32", { pool, parallelism })).toEqual(float32);
    }
    // and it changes the run: not the bits of plain SGD
    expect((await run("float32", { threads: 1, momentum: 0 })).params).not.toEqual(float32.params);
  });

  it("on the wasm kernel, a weight no example's input reaches (a corner pixel) still moves by its velocity", async () => {
    const { train: data } = await someDigits(100);
    expect(Array.from({ length: data.count }, (_, i) => data.inputs[i * 784]).every((v) => v === 0)).toBe(true); // pixel 0 is blank
    const corner = (net: Network): number[] => Array.from({ length: 8 }, (_, j) => net.params[j * 784]!); // w_j0, row-major w_jk
    // its gradient is always 0, so its velocity stays 0 from zero: the weight must not move, by examples and by neurons
    for (const parallelism of ["examples", "neurons"] as const) {
      const net = Network.create([784, 8, 10], { seed: 7 });
      const before = corner(net);
      await train(net, data, { epochs: 1, miniBatchSize: 10, eta: 3, momentum: 0.9, seed: 1, threads: 2, parallelism });
      expect(corner(net)).toEqual(before);
    }
    // from a checkpoint with a non-zero velocity there, it moves by μ^k · v each step (10 steps), in float32
    const path = join(dir, "corner.json");
    const first = Network.create([784, 8, 10], { seed: 7 });
    await train(first, data, { epochs: 1, miniBatchSize: 10, eta: 3, momentum: 0.9, seed: 1, threads: 1, checkpoint: { path } });
    const checkpoint = await loadCheckpoint(path);
    const { saveCheckpoint } = await import("../src/io/checkpoint.js");
    const velocities = checkpoint.velocities!.slice();
    for (let j = 0; j < 8; j++) velocities[j * 784] = 0.25;
    const edited = join(dir, "corner-edited.json");
    await saveCheckpoint(edited, { ...checkpoint, velocities });
    for (const parallelism of ["examples", "neurons"] as const) {
      const resumed = await loadCheckpoint(edited);
      const before = corner(resumed.network);
      await train(resumed.network, data, { resume: resumed, epochs: 2, threads: 2, parallelism });
      const mu = Math.fround(0.9);
      const expected = before.map((w) => {
        let [x, v] = [w, 0.25];
        for (let step = 0; step < 10; step++) {
          v = Math.fround(mu * v);
          x = Math.fround(x + v);
        }
        return x;
      });
      expect(corner(resumed.network)).toEqual(expected);
    }
  });

  it("a batch larger than the example split's slots (summed in chunks, the update applied after the last) gives the same bits", async () => {
    await expectChunkedBatchBits({ epochs: 2, momentum: 0.7 });
  });

  it("a checkpoint keeps the velocities: resuming mid-run is bit-identical on each kernel; another μ is refused", async () => {
    const { train: data } = await someDigits(200);
    for (const [dtype, threads] of [["float32", 2], ["float64", 0]] as const) {
      const path = join(dir, `momentum-${dtype}.json`);
      const options = { miniBatchSize: 10, eta: 1, momentum: 0.8, seed: 3, threads } as const;
      const straight = Network.create([784, 10, 10], { seed: 6, dtype });
      await train(straight, data, { epochs: 3, ...options });
      await train(Network.create([784, 10, 10], { seed: 6, dtype }), data, { epochs: 1, ...options, checkpoint: { path } });
      const checkpoint = await loadCheckpoint(path);
      expect(checkpoint.options.momentum).toBe(0.8);
      expect(checkpoint.velocities?.some((v) => v !== 0)).toBe(true);
      await expect(train(checkpoint.network.clone(), data, { resume: checkpoint, epochs: 3, momentum: 0.5 })).rejects.toThrow("momentum 0.5 is not the checkpoint's 0.8");
      await train(checkpoint.network, data, { resume: checkpoint, epochs: 3, threads: dtype === "float32" ? 3 : 0 });
      expect(Array.from(checkpoint.network.params)).toEqual(Array.from(straight.params));
    }
  });

  it("checkpoint → resume with momentum in the middle of a plateau schedule, after an early-stopping improvement, is bit-identical", async () => {
    const { train: data, test } = await someDigits(300, 100);
    const more = {
      miniBatchSize: 10, eta: 1, momentum: 0.5, seed: 2, testData: test,
      etaSchedule: { kind: "plateau", patience: 1 }, earlyStopping: { patience: 3, restoreBest: true },
    } as const;
    const straight = Network.create([784, 10, 10], { seed: 6 });
    const whole = await train(straight, data, { ...more, epochs: 12, threads: 2 });
    // the last epoch before the end that ran with a halved η and set a new best accuracy
    const accuracies = whole.epochs.map((e) => e.accuracy!);
    const cut = whole.epochs.filter((e, i) => i + 1 < whole.epochs.length && e.eta < more.eta && accuracies[i]! > Math.max(...accuracies.slice(0, i))).at(-1)?.epoch;
    expect(cut).toBeDefined();
    const path = join(dir, "momentum-mid-schedule.json");
    await train(Network.create([784, 10, 10], { seed: 6 }), data, { ...more, epochs: cut!, threads: 1, checkpoint: { path } });
    const checkpoint = await loadCheckpoint(path);
    expect([checkpoint.epoch, checkpoint.schedule?.bestEpoch, checkpoint.options.momentum]).toEqual([cut, cut, 0.5]);
    const rest = await train(checkpoint.network, data, { resume: checkpoint, epochs: 12, testData: test, threads: 3 });
    expect(Array.from(checkpoint.network.params)).toEqual(Array.from(straight.params));
    expect(rest.epochs.map((e) => [e.eta, e.accuracy])).toEqual(whole.epochs.slice(cut).map((e) => [e.eta, e.accuracy]));
    expect([rest.stopped, rest.bestEpoch]).toEqual([whole.stopped, whole.bestEpoch]);
  });

  it("a diverging run replays its epoch from the velocities it started with: the network is that of the last good step", async () => {
    await expectReplayToLastGoodStep({ momentum: 0.9 }, [["float32", 2], ["float64", 0], ["float64", 2]]);
  });

  it("μ outside [0, 1) or not a number is refused before any thread starts", async () => {
    const { train: data } = await someDigits(20);
    for (const momentum of [-0.1, 1, 1.5, Number.NaN, "0.9" as unknown as number]) {
      const error = await train(Network.create([784, 5, 10], { seed: 1 }), data, { epochs: 1, miniBatchSize: 10, eta: 3, momentum, threads: 2 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/^momentum must be a number in \[0, 1\), got /);
    }
  });
});

describe("momentum from the command line, in job specs and in checkpoint files", () => {
  it("shoal train --momentum trains the library's bits, records μ, and --resume continues it bit-identically", async () => {
    await expectCliRule({ option: "momentum", value: 0.9, flag: "--momentum" }, dir, ["1", "-0.5", "x"], "a number in [0, 1)");
  }, 60_000);

  it("a job spec's momentum trains as the library does; a bad one is refused at submit", async () => {
    await expectJobSpecRule({ option: "momentum", value: 0.5, flag: "--momentum" }, 1, "momentum must be a number in [0, 1), got 1");
  }, 60_000);

  it("a version 3 checkpoint (before momentum) loads and resumes as a run without it", async () => {
    // test/fixtures/formats/checkpoint-v3.json: shoal at checkpoint format 3 trained Network.create([2, 3, 2], { seed: 7 })
    // on tiny.csv with { epochs: 1, miniBatchSize: 10, eta: 3, lambda: 0.5, seed: 7, threads: 0, testData: the same,
    // etaSchedule: step 1 × 0.5, earlyStopping: { patience: 5, restoreBest: true } }
    const { loadCsv } = await import("../src/index.js");
    const { fileURLToPath } = await import("node:url");
    const fixtures = fileURLToPath(new URL("fixtures/formats/", import.meta.url));
    const checkpoint = await loadCheckpoint(join(fixtures, "checkpoint-v3.json"));
    expect(checkpoint.options.momentum).toBeUndefined();
    expect(checkpoint.velocities).toBeUndefined();
    expect(checkpoint.options.lambda).toBe(0.5);
    expect(checkpoint.schedule?.eta).toBe(1.5);
    expect(checkpoint.metadata).toEqual({ made: "checkpoint format 3 fixture" });
    const data = await loadCsv(join(fixtures, "tiny.csv"));
    const resumed = checkpoint.network;
    const result = await train(resumed, data, { resume: checkpoint, epochs: 3, testData: data });
    expect(result.epochs.map((e) => e.eta)).toEqual([1.5, 0.75]);
    const straight = Network.create([2, 3, 2], { seed: 7 });
    await train(straight, data, {
      epochs: 3, miniBatchSize: 10, eta: 3, lambda: 0.5, seed: 7, threads: 0, testData: data,
      etaSchedule: { kind: "step", every: 1, factor: 0.5 }, earlyStopping: { patience: 5, restoreBest: true },
    });
    expect(Array.from(resumed.params)).toEqual(Array.from(straight.params));
    // momentum cannot be added to a run that had none: it would change the weights
    await expect(train(checkpoint.network.clone(), data, { resume: checkpoint, epochs: 3, testData: data, momentum: 0.5 })).rejects.toThrow("momentum 0.5 is not the checkpoint's 0");
  });
});
