// Issue 18 §7: dropout (chapter 3), per mini-batch with inverted scaling: masks drawn from a hash of
// (seed, absolute epoch, mini-batch, layer, neuron), so the same bits at any thread count on each
// kernel and through checkpoints; the zero-input skip stays exact; evaluation never drops.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Dropout, dropoutDraw, isDropped } from "../src/core/dropout.js";
import { createDataset, createPool, loadCheckpoint, Network, train, ValidationError, type TrainOptions } from "../src/index.js";
import { neuronSplitRuns } from "../src/train/options.js";
import { someDigits } from "./fixtures/digits.js";
import { expectCliRule, expectJobSpecRule, expectReplayToLastGoodStep } from "./fixtures/training-rules.js";

const pools = [2, 3, 4].map((threads) => createPool({ threads }));
afterAll(() => Promise.all(pools.map((p) => p.close())));
const dir = mkdtempSync(join(tmpdir(), "shoal-dropout-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("dropout's masks", () => {
  it("drop a share near p of the neurons, are a pure function of (seed, epoch, step, layer, neuron), and change with each", () => {
    for (const p of [0.2, 0.5, 0.8]) {
      let dropped = 0;
      const n = 50_000;
      for (let j = 0; j < n; j++) if (isDropped(p, 7, 1 + (j % 5), j % 13, 1 + (j % 2), j)) dropped++;
      expect(Math.abs(dropped / n - p)).toBeLessThan(0.01);
    }
    // a draw is in [0, 1) and the same every time it is made (no state: any thread makes the same)
    const draws = Array.from({ length: 1000 }, (_, j) => dropoutDraw(3, 2, 5, 1, j));
    expect(draws.every((u) => u >= 0 && u < 1)).toBe(true);
    expect(Array.from({ length: 1000 }, (_, j) => dropoutDraw(3, 2, 5, 1, j))).toEqual(draws);
    // two threads' Dropout objects draw the same masks; another epoch, step, layer or seed draws another
    const sizes = [784, 100, 30, 10];
    const mask = (seed: number, epoch: number, step: number): number[][] => {
      const d = new Dropout(sizes, { rate: 0.5, seed });
      d.draw(epoch, step);
      return d.factors.map((f) => Array.from(f));
    };
    const one = mask(3, 2, 5);
    expect(one.map((f) => f.length)).toEqual([100, 30]); // hidden layers only
    expect(one.flat().every((c) => c === 0 || c === 2)).toBe(true); // 1/(1 − p)
    expect(mask(3, 2, 5)).toEqual(one);
    for (const other of [mask(3, 3, 5), mask(3, 2, 6), mask(4, 2, 5), mask(3 + 2 ** 32, 2, 5)]) expect(other).not.toEqual(one);
    expect(one[0]!.slice(0, 30)).not.toEqual(one[1]); // each layer its own draws
  });

  it("bad rates are refused before any thread starts: below 0, 1 and more, NaN, a string", async () => {
    const { train: data } = await someDigits(20);
    for (const dropout of [-0.1, 1, 1.5, Number.NaN, "0.5" as unknown as number]) {
      const error = await train(Network.create([784, 5, 10], { seed: 1 }), data, { epochs: 1, miniBatchSize: 10, eta: 3, dropout, threads: 2 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/^dropout must be a number in \[0, 1\), got /);
    }
  });
});

describe("dropout", () => {
  it("two mini-batches by hand (float64, 2-4-1): dropped neurons' weights and biases stay, the rest take the masked gradient", async () => {
    const data = createDataset({ inputs: [[0.5, -1], [1, 0.25], [-0.5, 0.75], [0.25, 0.125]], labels: [1, 0, 1, 0], classes: 2 });
    const [eta, p, m] = [0.7, 0.5, 2];
    const drops = (seed: number, step: number): boolean[] => [0, 1, 2, 3].map((j) => isDropped(p, seed, 1, step, 1, j));
    // a seed whose masks differ between the batches, each dropping some neurons and keeping some, one neuron dropped in both
    const seed = Array.from({ length: 1000 }, (_, s) => s).find((s) => {
      const [a, b] = [drops(s, 0), drops(s, 1)];
      return a.join() !== b.join() && [a, b].every((d) => d.includes(true) && d.includes(false)) && a.some((d, j) => d && b[j]);
    })!;
    const net = Network.create([2, 4, 1], { seed: 5, dtype: "float64" });
    const initial = Float64Array.from(net.params);
    const w = Float64Array.from(net.params);
    const { weightOffsets: [w1, w2], biasOffsets: [b1, b2] } = net.architecture.layout;
    const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
    for (const [step, batch] of [[0, [0, 1]], [1, [2, 3]]] as const) {
      const c = drops(seed, step).map((d) => (d ? 0 : 1 / (1 - p)));
      const g = new Float64Array(w.length);
      for (const i of batch) {
        const x = [data.inputs[2 * i]!, data.inputs[2 * i + 1]!];
        const y = data.targets.kind === "labels" ? data.targets.labels[i]! : 0;
        // forward: a kept hidden activation is scaled by 1/(1 − p), a dropped one is 0
        const unscaled = [0, 1, 2, 3].map((j) => {
          let z = w[b1! + j]!;
          for (let k = 0; k < 2; k++) z += w[w1! + 2 * j + k]! * x[k]!;
          return sigmoid(z);
        });
        const a1 = unscaled.map((a, j) => a * c[j]!);
        let z2 = w[b2!]!;
        for (let k = 0; k < 4; k++) z2 += w[w2! + k]! * a1[k]!;
        const a2 = sigmoid(z2);
        // BP1 (quadratic cost), BP2 with σ' of the unscaled activation, times c_j
        const d2 = (a2 - y) * (a2 * (1 - a2));
        const d1 = unscaled.map((u, j) => {
          let below = 0;
          below += w[w2! + j]! * d2;
          return below * (u * (1 - u)) * c[j]!;
        });
        // BP3, BP4
        d1.forEach((d, j) => {
          g[b1! + j]! += d;
          if (d !== 0) for (let k = 0; k < 2; k++) g[w1! + 2 * j + k]! += d * x[k]!;
        });
        g[b2!]! += d2;
        for (let k = 0; k < 4; k++) g[w2! + k]! += d2 * a1[k]!;
      }
      for (let i = 0; i < w.length; i++) w[i] = 1 * w[i]! - (eta / m) * g[i]!;
    }
    await train(net, data, { epochs: 1, miniBatchSize: m, eta, dropout: p, seed, shuffle: false, threads: 0 });
    expect(Array.from(net.params)).toEqual(Array.from(w));
    // the neurons dropped in both batches kept their incoming weights, bias and outgoing weight
    const [first, second] = [drops(seed, 0), drops(seed, 1)];
    const neuron = (params: ArrayLike<number>, j: number): number[] => [params[w1! + 2 * j]!, params[w1! + 2 * j + 1]!, params[b1! + j]!, params[w2! + j]!];
    for (let j = 0; j < 4; j++) {
      if (first[j] && second[j]) expect(neuron(net.params, j)).toEqual(neuron(initial, j));
      else expect(neuron(net.params, j)).not.toEqual(neuron(initial, j));
    }
  });

  it("p = 0 is no dropout, bit for bit, on both kernels", async () => {
    const { train: data } = await someDigits(100);
    const run = async (dtype: "float32" | "float64", more: Partial<TrainOptions>): Promise<number[]> => {
      const net = Network.create([784, 10, 10], { seed: 2, dtype });
      await train(net, data, { epochs: 1, miniBatchSize: 10, eta: 3, seed: 1, threads: 2, ...more });
      return Array.from(net.params);
    };
    for (const dtype of ["float32", "float64"] as const) expect(await run(dtype, { dropout: 0 })).toEqual(await run(dtype, {}));
  });

  it("the same bits in process and on 1–4 threads (float64), and on 1–4 threads (wasm), with and without momentum; evaluation uses the whole network", async () => {
    const { train: data, test } = await someDigits(300, 50);
    const run = async (dtype: "float32" | "float64", more: Partial<TrainOptions>, sizes = [784, 20, 10]): Promise<{ params: number[]; costs: number[]; accuracy: number }> => {
      const net = Network.create(sizes, { seed: 3, dtype });
      const result = await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 1, dropout: 0.5, seed: 1, testData: test, ...more });
      // the reported accuracy is the whole network's (no mask), as evaluate() computes it
      expect(result.epochs.at(-1)!.accuracy).toBe(net.evaluate(test).accuracy);
      if (more.threads !== 0 && more.dropout !== 0) expect(result.parallelism).toBe("examples");
      return { params: Array.from(net.params), costs: result.epochs.map((e) => e.cost), accuracy: result.epochs.at(-1)!.accuracy! };
    };
    for (const momentum of [0, 0.5]) {
      const float64 = await run("float64", { threads: 0, momentum });
      for (const threads of [1, 2]) expect(await run("float64", { threads, momentum })).toEqual(float64);
      for (const pool of pools) expect(await run("float64", { pool, momentum })).toEqual(float64);
      const float32 = await run("float32", { threads: 1, momentum });
      for (const pool of pools) expect(await run("float32", { pool, momentum })).toEqual(float32);
      // and it changes the run
      expect((await run("float32", { threads: 1, momentum, dropout: 0 })).params).not.toEqual(float32.params);
      expect((await run("float64", { threads: 0, momentum, dropout: 0 })).params).not.toEqual(float64.params);
    }
    // two hidden layers, each masked; a ReLU hidden layer (σ' from z) with cross-entropy
    for (const dtype of ["float64", "float32"] as const) {
      const one = await run(dtype, { threads: 1 }, [784, 16, 12, 10]);
      for (const pool of pools.slice(0, 2)) expect(await run(dtype, { pool }, [784, 16, 12, 10])).toEqual(one);
    }
    const relu = async (more: Partial<TrainOptions>): Promise<number[]> => {
      const net = Network.create([784, 16, 10], { seed: 3, dtype: "float32", activation: "relu", outputActivation: "sigmoid", cost: "cross-entropy" });
      await train(net, data, { epochs: 1, miniBatchSize: 10, eta: 0.1, dropout: 0.3, seed: 2, ...more });
      return Array.from(net.params);
    };
    const relu1 = await relu({ threads: 1 });
    for (const pool of pools) expect(await relu({ pool })).toEqual(relu1);
  });

  it("the zero-input skip stays exact: a neuron dropped in every batch keeps all its weights, on both kernels, by examples", async () => {
    const { train: data } = await someDigits(20);
    const [seed, p, sizes] = [11, 0.8, [784, 12, 10]] as const;
    // two mini-batches of 10: the neurons dropped in both
    const both = Array.from({ length: 12 }, (_, j) => j).filter((j) => isDropped(p, seed, 1, 0, 1, j) && isDropped(p, seed, 1, 1, 1, j));
    const kept = Array.from({ length: 12 }, (_, j) => j).filter((j) => !both.includes(j));
    expect([both.length > 0, kept.length > 0]).toEqual([true, true]);
    const neuron = (net: Network, j: number): number[] => {
      const { weightOffsets: [w1, w2], biasOffsets: [b1] } = net.architecture.layout;
      const row = Array.from(net.params.subarray(w1! + 784 * j, w1! + 784 * (j + 1)));
      const out = Array.from({ length: 10 }, (_, o) => net.params[w2! + 12 * o + j]!);
      return [...row, net.params[b1! + j]!, ...out];
    };
    for (const [dtype, threads, momentum] of [["float32", 2, 0], ["float32", 1, 0.9], ["float64", 2, 0.9], ["float64", 0, 0]] as const) {
      const net = Network.create([...sizes], { seed: 4, dtype });
      const before = Network.create([...sizes], { seed: 4, dtype });
      await train(net, data, { epochs: 1, miniBatchSize: 10, eta: 3, dropout: p, momentum, seed, shuffle: false, threads });
      for (const j of both) expect(neuron(net, j)).toEqual(neuron(before, j));
      expect(kept.some((j) => neuron(net, j).join() !== neuron(before, j).join())).toBe(true);
    }
  });

  it("a checkpoint records p: resuming mid-run draws the masks of the run's own epochs, bit-identically on each kernel; another p is refused", async () => {
    const { train: data } = await someDigits(200);
    for (const [dtype, threads, resumeThreads, momentum] of [["float32", 2, 3, 0], ["float64", 2, 0, 0.5]] as const) {
      const path = join(dir, `dropout-${dtype}.json`);
      const options = { miniBatchSize: 10, eta: 1, dropout: 0.5, momentum, seed: 3, threads } as const;
      const straight = Network.create([784, 10, 10], { seed: 6, dtype });
      await train(straight, data, { epochs: 3, ...options });
      await train(Network.create([784, 10, 10], { seed: 6, dtype }), data, { epochs: 1, ...options, checkpoint: { path } });
      const checkpoint = await loadCheckpoint(path);
      expect(checkpoint.options.dropout).toBe(0.5);
      // the file says so (format 4), and a file with a bad rate is refused
      const json = JSON.parse(readFileSync(path, "utf8")) as { version: number; options: { dropout: unknown } };
      expect([json.version, json.options.dropout]).toEqual([4, 0.5]);
      json.options.dropout = 1;
      writeFileSync(join(dir, "bad.json"), JSON.stringify(json));
      await expect(loadCheckpoint(join(dir, "bad.json"))).rejects.toThrow("dropout must be a number in [0, 1), got 1");
      await expect(train(checkpoint.network.clone(), data, { resume: checkpoint, epochs: 3, dropout: 0.3 })).rejects.toThrow("dropout 0.3 is not the checkpoint's 0.5");
      await train(checkpoint.network, data, { resume: checkpoint, epochs: 3, threads: resumeThreads });
      expect(Array.from(checkpoint.network.params)).toEqual(Array.from(straight.params));
    }
  });

  it("a diverging run replays its epoch with the same masks: the network is that of the last good step", async () => {
    await expectReplayToLastGoodStep({ momentum: 0.9, dropout: 0.5, seed: 2 }, [["float32", 2], ["float64", 2]]);
  });

  it("the neuron split refuses dropout on either kernel: \"neurons\" asked is a ValidationError, \"auto\" shares by examples", async () => {
    const { train: data } = await someDigits(50);
    const layers = { activation: "sigmoid", outputActivation: "sigmoid", cost: "quadratic" } as const;
    expect(neuronSplitRuns([784, 30, 10], "wasm", layers, 10)).toBe(true);
    expect(neuronSplitRuns([784, 30, 10], "wasm", layers, 10, 0.5)).toBe(false);
    expect(neuronSplitRuns([784, 30, 10], "js", layers, 10, 0.5)).toBe(false);
    for (const dtype of ["float32", "float64"] as const) {
      const error = await train(Network.create([784, 30, 10], { seed: 1, dtype }), data, { epochs: 1, miniBatchSize: 10, eta: 3, dropout: 0.5, threads: 2, parallelism: "neurons" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toContain("parallelism neurons does not take dropout");
    }
    const result = await train(Network.create([784, 30, 10], { seed: 1 }), data, { epochs: 1, miniBatchSize: 10, eta: 3, dropout: 0.5, threads: 2, parallelism: "auto" });
    expect(result.parallelism).toBe("examples");
  });
});

describe("dropout from the command line and in job specs", () => {
  it("shoal train --dropout trains the library's bits, records p, and --resume continues it bit-identically", async () => {
    await expectCliRule({ option: "dropout", value: 0.5, flag: "--dropout" }, dir, ["1", "-0.5", "x"], "a number in [0, 1)");
  }, 60_000);

  it("a job spec's dropout trains as the library does; a bad one is refused at submit", async () => {
    await expectJobSpecRule({ option: "dropout", value: 0.5, flag: "--dropout" }, 1, "dropout must be a number in [0, 1), got 1");
  }, 60_000);
});
