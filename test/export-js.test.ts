// exportJsModule: the generated module, imported by a fresh Node process in a folder with no
// node_modules, answers exactly as shoal does — the same doubles, bit for bit — for both dtypes and
// every activation, and says clearly what is wrong with bad input.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../src/core/dataset.js";
import { ValidationError } from "../src/core/errors.js";
import { Network, type NetworkOptions } from "../src/core/network.js";
import { exportJsModule } from "../src/index.js";
import { toModelJson } from "../src/io/model-format.js";
import { closeDefaultPool, train } from "../src/train/train.js";
import { makeTempDir, removeTempDir } from "./fixtures/cli-helpers.js";
import { someDigits } from "./fixtures/digits.js";
import { runJsModule } from "./fixtures/js-module-runner.js";
import { feedforwardAll } from "./fixtures/shoal-outputs.js";

let digits: { train: Dataset; test: Dataset };
let dir: string;
beforeAll(async () => {
  digits = await someDigits(2000, 1000);
  dir = await makeTempDir();
});
afterAll(async () => {
  await closeDefaultPool();
  await removeTempDir(dir);
});

async function trained(sizes: number[], options: NetworkOptions, eta = 3): Promise<Network> {
  const net = Network.create(sizes, { seed: 1, ...options });
  await train(net, digits.train, { epochs: 1, miniBatchSize: 10, eta, threads: 0, seed: 1 });
  return net;
}

/** Writes the module to its own folder and has a fresh process import it and predict `count` test digits. */
async function exported(name: string, net: Network, metadata?: Record<string, unknown>, count = 200) {
  const folder = path.join(dir, name);
  await mkdir(folder);
  const file = path.join(folder, "model.mjs");
  await writeFile(file, exportJsModule(net, metadata));
  const inputs = digits.test.inputs.subarray(0, count * 784);
  return { answer: await runJsModule(folder, file, inputs, 784), shoal: feedforwardAll(net, inputs) };
}

/** Every output's bits equal (Object.is: -0 and NaN count too). */
function sameBits(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

describe("exportJsModule, imported in a fresh Node process", () => {
  it("answers 1,000 real digits with shoal's very outputs (float32 784-30-10 sigmoid) and classes", async () => {
    const net = await trained([784, 30, 10], {});
    const { answer, shoal } = await exported("digits", net, { data: "mnist", testAccuracy: 0.81 }, 1000);
    expect(answer.rows).toBe(1000);
    expect(sameBits(answer.outputs, shoal.outputs)).toBe(true);
    expect(answer.classes).toEqual(shoal.classes);
    expect(answer.exports).toEqual(["classNames", "metadata", "predict", "sizes"]);
    expect(answer.sizes).toEqual([784, 30, 10]);
    expect(answer.classNames).toBeNull();
    expect(answer.metadata).toMatchObject({ sizes: [784, 30, 10], activation: "sigmoid", dtype: "float32", data: "mnist", testAccuracy: 0.81 });
  });

  it("gives the same bits for a float64 model with tanh layers and a softmax output, with its class names", async () => {
    const net = await trained([784, 20, 12, 10], { dtype: "float64", activation: "tanh", outputActivation: "softmax", cost: "log-likelihood" }, 0.1);
    const classNames = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
    const { answer, shoal } = await exported("softmax", net, { classNames });
    expect(sameBits(answer.outputs, shoal.outputs)).toBe(true);
    expect(answer.classes).toEqual(shoal.classes);
    expect(answer.classNames).toEqual(classNames);
  });

  it("gives the same bits for relu hidden layers with an identity output, and for a one-output model", async () => {
    const relu = await trained([784, 16, 10], { activation: "relu", outputActivation: "identity" }, 0.01);
    const a = await exported("relu", relu);
    expect(sameBits(a.answer.outputs, a.shoal.outputs)).toBe(true);
    expect(a.answer.classes).toEqual(a.shoal.classes);

    const binary = Network.create([784, 6, 1], { seed: 4, dtype: "float64" });
    const b = await exported("binary", binary);
    expect(sameBits(b.answer.outputs, b.shoal.outputs)).toBe(true);
    expect(b.answer.classes).toEqual(b.shoal.classes);
    expect(b.answer.classes.every((c) => c === 0 || c === 1)).toBe(true);
  });

  it("says what is wrong with bad input, naming the input and the value", async () => {
    const { answer } = await exported("errors", Network.create([784, 4, 10], { seed: 1 }), undefined, 1);
    expect(answer.errors).toEqual({
      short: "RangeError: input 0 has 2 values, expected 784",
      flat: "TypeError: predict takes a list of input vectors, not one vector of numbers: give predict([input])",
      nan: "RangeError: input 0, value 3 is NaN, expected a finite number",
    });
  });
});

describe("the module's source", () => {
  it("imports nothing and inlines the parameters compactly (under half the model file's size)", () => {
    const net = Network.create([784, 30, 10], { seed: 1 });
    const source = exportJsModule(net);
    expect(source).not.toMatch(/^\s*import\b|\bimport\(|\brequire\(/m);
    expect(source.length).toBeLessThan(JSON.stringify(toModelJson(net)).length / 2);
  });

  it("refuses a network with a non-finite parameter", () => {
    const net = Network.create([4, 3, 2], { seed: 1 });
    net.params[0] = NaN;
    expect(() => exportJsModule(net)).toThrow(ValidationError);
    expect(() => exportJsModule(net)).toThrow("cannot export a model whose parameter 0 is NaN");
  });
});
