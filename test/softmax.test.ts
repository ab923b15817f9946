import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activation } from "../src/core/activations.js";
import { backprop, createScratch, feedforward } from "../src/core/backprop.js";
import { cost } from "../src/core/costs.js";
import {
  fromModelJson,
  loadCheckpoint,
  loadMnistDigits,
  loadModel,
  ModelFileError,
  Network,
  Rng,
  toModelJson,
  train,
  ValidationError,
  type DType,
  type NetworkOptions,
} from "../src/index.js";
import { prepareSpec } from "../src/service/spec.js";
import { makeTempDir, removeTempDir, shoal } from "./fixtures/cli-helpers.js";
import { someDigits } from "./fixtures/digits.js";

// Chapter 3's softmax output layer with the log-likelihood cost C = −ln a_y: the pair gives δ^L = a − y.

const softmax = activation("softmax");
const logLikelihood = cost("log-likelihood");
const softmaxOptions = { outputActivation: "softmax", cost: "log-likelihood" } as const;

const sum = (values: ArrayLike<number>): number => Array.from(values).reduce((s, v) => s + v, 0);
const sameBits = (a: Network, b: Network): boolean => Buffer.from(a.params.buffer).equals(Buffer.from(b.params.buffer));
/** OS threads of this process (Linux): a started worker thread is one more. */
const threadCount = (): number => Number(/Threads:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);

describe("the softmax activation", () => {
  it("gives probabilities: a_j = e^(z_j) / Σ_k e^(z_k), summing to 1", () => {
    const z = Float64Array.of(0.5, -1, 2, 0.1, 0);
    const a = new Float64Array(5);
    softmax.apply(z, a);
    const total = sum(Array.from(z, Math.exp));
    z.forEach((zj, j) => expect(a[j]).toBeCloseTo(Math.exp(zj) / total, 15));
    expect(Math.abs(sum(a) - 1)).toBeLessThan(1e-15);
    expect(a.every((v) => v > 0 && v < 1)).toBe(true);
  });

  it("is stable for large z: z = 1000 does not overflow, and gives the bits of z − max z", () => {
    const a = new Float64Array(3);
    softmax.apply(Float64Array.of(1000, 999, 998), a);
    const shifted = new Float64Array(3);
    softmax.apply(Float64Array.of(2, 1, 0), shifted);
    expect(Array.from(a)).toEqual(Array.from(shifted));
    expect(a.every(Number.isFinite)).toBe(true);
    expect(Math.abs(sum(a) - 1)).toBeLessThan(1e-15);
    // a naive e^z / Σ e^z would be Infinity / Infinity = NaN here, and 0 / 0 for z = −1000
    const far = new Float64Array(2);
    softmax.apply(Float64Array.of(1000, -1000), far);
    expect(Array.from(far)).toEqual([1, 0]);
    const low = new Float64Array(3);
    softmax.apply(Float64Array.of(-1000, -1000, -1000), low);
    expect(Array.from(low)).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it("on a float32 layer (the WebAssembly kernel's views) stores the float64 result, rounded once", () => {
    const z64 = Float64Array.of(3.25, -0.5, 1000, 999.5, 0.125);
    const z32 = Float32Array.from(z64); // these values are exact in float32
    const a64 = new Float64Array(5);
    const a32 = new Float32Array(5);
    softmax.apply(z64, a64);
    softmax.apply(z32, a32);
    expect(Array.from(a32)).toEqual(Array.from(a64, Math.fround));
    expect(Math.abs(sum(a32) - 1)).toBeLessThan(1e-6);
  });

  it("scaleByDerivative is J^T v, with J = ∂a/∂z (checked by finite differences of apply)", () => {
    const z = Float64Array.of(0.3, -1.2, 0.8, 0.05);
    const v = Float64Array.of(0.7, -0.2, 1.5, -0.9);
    const a = new Float64Array(4);
    softmax.apply(z, a);
    const out = v.slice();
    softmax.scaleByDerivative(z, a, out);
    const h = 1e-5;
    for (let k = 0; k < 4; k++) {
      // (J^T v)_k = Σ_j v_j ∂a_j/∂z_k = ∂(v · a)/∂z_k
      const dot = (dz: number): number => {
        const zz = z.slice();
        zz[k]! += dz;
        const aa = new Float64Array(4);
        softmax.apply(zz, aa);
        return Array.from(aa).reduce((s, aj, j) => s + v[j]! * aj, 0);
      };
      expect(out[k]).toBeCloseTo((dot(h) - dot(-h)) / (2 * h), 9);
    }
  });
});

describe("the log-likelihood cost", () => {
  it("C = −ln a_y for a one-hot y, and δ^L = a − y, bit for bit", () => {
    const a = new Float64Array(4);
    softmax.apply(Float64Array.of(0.2, 1.7, -0.4, 0.9), a);
    const y = Float64Array.of(0, 0, 0, 1);
    expect(logLikelihood.value(a, y)).toBe(-Math.log(a[3]!));
    const delta = new Float64Array(4);
    logLikelihood.outputDelta(new Float64Array(4), a, y, softmax, delta);
    expect(Array.from(delta)).toEqual(Array.from(a, (aj, j) => aj - y[j]!));
    // and so on float32 views (the WebAssembly kernel's a and δ)
    const a32 = Float32Array.from(a);
    const delta32 = new Float32Array(4);
    logLikelihood.outputDelta(new Float32Array(4), a32, y, softmax, delta32);
    expect(Array.from(delta32)).toEqual(Array.from(a32, (aj, j) => Math.fround(aj - y[j]!)));
  });

  it("stays finite when the true class's probability underflows to 0", () => {
    const a = new Float64Array(2);
    softmax.apply(Float64Array.of(800, -800), a);
    expect(a[1]).toBe(0);
    const c = logLikelihood.value(a, Float64Array.of(0, 1));
    expect(Number.isFinite(c)).toBe(true);
    expect(c).toBeGreaterThan(20); // −ln 1e-12 ≈ 27.6
  });
});

describe("backprop against finite differences, one-hot targets (float64)", () => {
  // test/gradient-check.test.ts checks soft targets on every hidden activation; here Nielsen's case, y one-hot.
  const h = 1e-3;
  it.each([
    ["sigmoid", [4, 5, 3], 1],
    ["tanh", [4, 5, 3], 2],
    ["sigmoid", [3, 4, 4, 5], 3],
  ] as const)("%s hidden, sizes %j, seed %i", (hidden, sizes, seed) => {
    const net = Network.create(sizes, { seed, dtype: "float64", activation: hidden, ...softmaxOptions });
    const arch = net.architecture;
    const params = net.params as Float64Array;
    const rng = new Rng(seed);
    const x = Float64Array.from({ length: sizes[0] }, () => rng.uniform() * 2 - 1);
    const outputs = sizes[sizes.length - 1]!;
    const y = new Float64Array(outputs);
    y[seed % outputs] = 1;
    const scratch = createScratch(sizes);
    scratch.y.set(y);
    const gradient = new Float64Array(params.length);
    const c = backprop(arch, params, x, 0, gradient, scratch);
    const check = createScratch(sizes);
    const costAt = (i: number, d: number): number => {
      const original = params[i]!;
      params[i] = original + d;
      const value = arch.cost.value(feedforward(arch, params, x, 0, check), y);
      params[i] = original;
      return value;
    };
    expect(c).toBe(-Math.log(feedforward(arch, params, x, 0, check)[seed % outputs]!)); // C = −ln a_y
    let worst = 0;
    for (let i = 0; i < params.length; i++) {
      const numeric = (8 * (costAt(i, h) - costAt(i, -h)) - (costAt(i, 2 * h) - costAt(i, -2 * h))) / (12 * h);
      worst = Math.max(worst, Math.abs(gradient[i]! - numeric) / Math.max(1e-8, Math.abs(gradient[i]!) + Math.abs(numeric)));
    }
    expect(worst).toBeLessThan(1e-6);
    expect(gradient.filter((g) => g !== 0).length).toBeGreaterThan(params.length / 2);
  });
});

describe("softmax goes with log-likelihood only, and only on the output layer: a ValidationError before any thread starts", () => {
  const refused = (sizes: number[], options: NetworkOptions): string => {
    try {
      Network.create(sizes, options);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as Error).message;
    }
    return expect.fail(`created ${JSON.stringify(options)}`);
  };

  it("Network.create, a model file and a job spec refuse each wrong pairing, saying what to give", () => {
    const threads = threadCount();
    expect(refused([4, 3, 2], { outputActivation: "softmax", cost: "quadratic" })).toBe('outputActivation softmax needs cost log-likelihood (C = −ln a_y), got "quadratic"');
    expect(refused([4, 3, 2], { outputActivation: "softmax" })).toBe('outputActivation softmax needs cost log-likelihood (C = −ln a_y), got "quadratic"');
    expect(refused([4, 3, 2], { outputActivation: "softmax", cost: "cross-entropy" })).toBe('cost cross-entropy needs outputActivation sigmoid (outputs in (0, 1)), got "softmax"');
    expect(refused([4, 3, 2], { cost: "log-likelihood" })).toBe('cost log-likelihood needs outputActivation softmax (outputs that are probabilities summing to 1), got "sigmoid"');
    expect(refused([4, 3, 2], { cost: "log-likelihood", outputActivation: "relu" })).toBe('cost log-likelihood needs outputActivation softmax (outputs that are probabilities summing to 1), got "relu"');
    const hidden = "activation softmax is for the output layer only: give outputActivation softmax with cost log-likelihood, and as activation (the hidden layers') one of sigmoid, tanh, relu, identity";
    expect(refused([4, 3, 2], { activation: "softmax", ...softmaxOptions })).toBe(hidden);
    expect(refused([4, 3, 2], { activation: "softmax", cost: "log-likelihood" })).toBe(hidden);
    expect(refused([4, 1], softmaxOptions)).toBe("outputActivation softmax needs at least 2 outputs (a single softmax output is always 1), got sizes [4, 1]");

    // a model file that pairs them wrongly
    const json = toModelJson(Network.create([4, 3, 2], { seed: 1, ...softmaxOptions }));
    expect(() => fromModelJson({ ...json, outputActivation: "sigmoid" }, "m.json")).toThrow(
      new ModelFileError('m.json: cost log-likelihood needs outputActivation softmax (outputs that are probabilities summing to 1), got "sigmoid"'),
    );
    // a job spec (the background trainer, `shoal serve` and `shoal worker` all prepare it so), before it is queued
    const spec = { data: { name: "mnist" }, layers: [784, 30, 10], epochs: 1, miniBatchSize: 10, eta: 0.5 };
    expect(() => prepareSpec({ ...spec, cost: "log-likelihood" })).toThrow(new ValidationError(refused([4, 3, 2], { cost: "log-likelihood" })));
    expect(() => prepareSpec({ ...spec, outputActivation: "softmax", cost: "quadratic" })).toThrow(ValidationError);
    expect(() => prepareSpec({ ...spec, activation: "softmax", ...softmaxOptions })).toThrow(new ValidationError(hidden));
    expect(prepareSpec({ ...spec, ...softmaxOptions }).spec).toMatchObject(softmaxOptions);
    expect(threadCount()).toBe(threads);
  });
});

describe("training with softmax + log-likelihood", () => {
  async function trained(dtype: DType, threads: number, kernel: "auto" | "js" = "auto"): Promise<{ net: Network; costs: number[] }> {
    const { train: data } = await someDigits(300);
    const net = Network.create([784, 30, 10], { seed: 1, dtype, ...softmaxOptions });
    const result = await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 0.5, seed: 7, threads, kernel });
    return { net, costs: result.epochs.map((e) => e.cost) };
  }

  it("float64 (TypeScript kernel): the same bits and costs in process and at 1, 2 and 3 threads", async () => {
    const serial = await trained("float64", 0);
    expect(sameBits(serial.net, Network.create([784, 30, 10], { seed: 1, dtype: "float64", ...softmaxOptions }))).toBe(false);
    for (const threads of [1, 2, 3]) {
      const run = await trained("float64", threads);
      expect(sameBits(run.net, serial.net), `${threads} threads`).toBe(true);
      expect(run.costs).toEqual(serial.costs);
    }
  });

  it("float32 on the WebAssembly kernel (softmax in TypeScript on its float32 views): the same bits at 1, 2 and 3 threads, close to in process", async () => {
    const one = await trained("float32", 1);
    for (const threads of [2, 3]) {
      const run = await trained("float32", threads);
      expect(sameBits(run.net, one.net), `${threads} threads`).toBe(true);
      expect(run.costs).toEqual(one.costs);
    }
    const serial = await trained("float32", 0);
    let worst = 0;
    serial.net.params.forEach((v, i) => void (worst = Math.max(worst, Math.abs(v - one.net.params[i]!) / Math.max(1, Math.abs(v)))));
    expect(worst).toBeLessThan(1e-4);
    // float32 in process on the TypeScript kernel: the same bits at any thread count too
    for (const threads of [1, 2]) expect(sameBits((await trained("float32", threads, "js")).net, serial.net)).toBe(true);
  });

  it("learns the bundled digits: 784-30-10, η 0.5, 2 epochs reach ≥ 88% (measured 90.45%), and predictions are probabilities", async () => {
    const { train: data, test } = await loadMnistDigits();
    const net = Network.create([784, 30, 10], { seed: 1, ...softmaxOptions });
    const result = await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 0.5, seed: 1, threads: 1, testData: test });
    expect(result.epochs[1]!.accuracy).toBeGreaterThanOrEqual(0.88);
    expect(result.epochs[1]!.cost).toBeLessThan(result.epochs[0]!.cost);
    for (let i = 0; i < 20; i++) {
      const p = net.feedforward(test.inputs.subarray(i * 784, (i + 1) * 784));
      expect(Math.abs(sum(p) - 1)).toBeLessThan(1e-12);
      expect(p.every((v) => v >= 0 && v <= 1)).toBe(true);
    }
  });

  it("a checkpoint of a softmax run resumes bit-identically (float64, in process then 2 threads)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "shoal-softmax-"));
    try {
      const { train: data } = await someDigits(200);
      const settings = { miniBatchSize: 10, eta: 0.5, seed: 3, threads: 0 };
      const straight = Network.create([784, 12, 10], { seed: 2, dtype: "float64", ...softmaxOptions });
      await train(straight, data, { ...settings, epochs: 3 });
      const file = path.join(dir, "run.checkpoint.json");
      const first = Network.create([784, 12, 10], { seed: 2, dtype: "float64", ...softmaxOptions });
      await train(first, data, { ...settings, epochs: 1, checkpoint: { path: file } });
      const checkpoint = await loadCheckpoint(file);
      expect(checkpoint.network.spec).toMatchObject(softmaxOptions);
      const resumed = Network.create([784, 12, 10], { seed: 9, dtype: "float64", ...softmaxOptions });
      await train(resumed, data, { threads: 2, epochs: 3, resume: checkpoint });
      expect(sameBits(resumed, straight)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("shoal train --output-activation softmax --cost log-likelihood, then predict", () => {
  let dir: string;
  let model: string;
  let run: Awaited<ReturnType<typeof shoal>>;
  beforeAll(async () => {
    dir = await makeTempDir();
    model = path.join(dir, "softmax.json");
    run = await shoal([
      "train", "--output-activation", "softmax", "--cost", "log-likelihood", "--eta", "0.5", "--epochs", "2",
      "--limit", "1000", "--test-limit", "200", "--threads", "1", "--seed", "1", "--out", model,
    ]);
  }, 60_000);
  afterAll(() => removeTempDir(dir));

  it("trains and saves a softmax model; info says its outputs are class probabilities", async () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("sigmoid/softmax, log-likelihood cost");
    const { network, metadata } = await loadModel(model);
    expect(network.spec).toMatchObject({ sizes: [784, 30, 10], activation: "sigmoid", ...softmaxOptions });
    expect(metadata?.testAccuracy).toBeGreaterThan(0.7); // 1,000 digits, 2 epochs
    const file = JSON.parse(readFileSync(model, "utf8")) as Record<string, unknown>;
    expect(file).toMatchObject({ version: 2, cost: "LogLikelihoodCost", activation: "sigmoid", outputActivation: "softmax" });
    const info = await shoal(["info", "--model", model]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/^activation\s+sigmoid, output softmax \(outputs are class probabilities\)$/m);
    expect(info.stdout).toMatch(/^cost\s+log-likelihood$/m);
  });

  it("predict shows the class probabilities (summing to 100%) and the predicted class's", async () => {
    const { test } = await someDigits(0, 1);
    const values = Array.from(test.inputs.subarray(0, 784)).join(",");
    const text = await shoal(["predict", "--model", model, values]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("class probabilities (softmax outputs, summing to 100%):");
    const rows = [...text.stdout.matchAll(/^ {2}(\d)\s+(\d+\.\d\d)%/gm)].map((m) => [Number(m[1]), Number(m[2])] as const);
    expect(rows.map(([c]) => c)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Math.abs(sum(rows.map(([, p]) => p)) - 100)).toBeLessThan(0.06); // 10 values rounded to 0.01%
    const predicted = /^predicted: (\d), probability (\d+\.\d\d)%$/m.exec(text.stdout);
    expect(predicted).not.toBeNull();
    expect(Number(predicted![2])).toBe(Math.max(...rows.map(([, p]) => p)));

    const json = await shoal(["predict", "--model", model, values, "--json"]);
    const result = JSON.parse(json.stdout) as { predicted: number; probability: number; outputs: number[] };
    expect(result.predicted).toBe(Number(predicted![1]));
    expect(result.probability).toBe(result.outputs[result.predicted]);
    expect(Math.abs(sum(result.outputs) - 1)).toBeLessThan(1e-12);
  });

  it("--cost log-likelihood alone gives the output layer softmax (as cross-entropy gives it sigmoid)", async () => {
    const out = path.join(dir, "alone.json");
    const { code, stderr } = await shoal(["train", "--cost", "log-likelihood", "--layers", "784,10", "--epochs", "1", "--limit", "100", "--test-limit", "10", "--threads", "0", "--seed", "1", "--out", out, "--json"]);
    expect(code, stderr).toBe(0);
    expect((await loadModel(out)).network.spec).toMatchObject(softmaxOptions);
  });
});
