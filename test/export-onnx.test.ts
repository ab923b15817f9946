// exportOnnx, run in a real ONNX runtime (onnxruntime-node, installed by the test set-up into
// test/onnx-runtime): on real digits and Fashion-MNIST images its answers are shoal's own, for
// every activation, both dtypes, softmax and a one-output model; and the file says what it is.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDataset, sliceDataset, type Dataset } from "../src/core/dataset.js";
import { ValidationError } from "../src/core/errors.js";
import { Network, type NetworkOptions } from "../src/core/network.js";
import { fashionMnistClasses, loadFashionMnist } from "../src/data/fashion-mnist.js";
import { exportOnnx, onnxIrVersion, onnxOpset } from "../src/index.js";
import { closeDefaultPool, train } from "../src/train/train.js";
import { someDigits } from "./fixtures/digits.js";
import { readOnnx } from "./fixtures/onnx-reader.js";
import { runOnnx } from "./fixtures/onnx-runtime.js";
import { classesOf, feedforwardAll } from "./fixtures/shoal-outputs.js";

let digits: { train: Dataset; test: Dataset };
beforeAll(async () => {
  digits = await someDigits(2000, 1000);
});
afterAll(closeDefaultPool);

/** A network trained for one quick in-process epoch (seeded), so its answers mean something. */
async function trained(sizes: number[], options: NetworkOptions, data: Dataset, eta = 3): Promise<Network> {
  const net = Network.create(sizes, { seed: 1, ...options });
  await train(net, data, { epochs: 1, miniBatchSize: 10, eta, threads: 0, seed: 1 });
  return net;
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let most = 0;
  for (let i = 0; i < a.length; i++) most = Math.max(most, Math.abs(a[i]! - b[i]!));
  return most;
}

/** Runs the exported model on `test` in onnxruntime and compares with shoal: returns the largest difference. */
async function compare(net: Network, test: Dataset, metadata?: Record<string, unknown>): Promise<number> {
  const type = net.spec.dtype;
  const answer = await runOnnx(exportOnnx(net, metadata), test.inputs, test.inputSize, type);
  const outputs = net.sizes[net.sizes.length - 1]!;
  expect(answer.type).toBe(type);
  expect(answer.dims).toEqual([test.count, outputs]);
  const shoal = feedforwardAll(net, test.inputs);
  expect(classesOf(answer.values, outputs)).toEqual(shoal.classes);
  return maxDifference(answer.values, shoal.outputs);
}

describe("exportOnnx in onnxruntime-node", () => {
  it("answers 1,000 real digits as shoal's predict (784-30-10 sigmoid, float32): outputs within 1e-5, the same classes", async () => {
    const net = await trained([784, 30, 10], {}, digits.train);
    expect(net.evaluate(digits.test).accuracy).toBeGreaterThan(0.7); // a model that has learned (77.7%), not noise
    expect(await compare(net, digits.test)).toBeLessThan(1e-5);
  });

  it("has a symbolic batch dimension: the same file answers one input and a thousand", async () => {
    const net = Network.create([784, 16, 10], { seed: 2 });
    const bytes = exportOnnx(net);
    const one = await runOnnx(bytes, digits.test.inputs.subarray(0, 784), 784, "float32");
    const many = await runOnnx(bytes, digits.test.inputs, 784, "float32");
    expect(one.dims).toEqual([1, 10]);
    expect(many.dims).toEqual([1000, 10]);
    expect(Array.from(one.values)).toEqual(Array.from(many.values.subarray(0, 10)));
  });

  it("answers Fashion-MNIST as shoal does, and carries the model's class names and accuracy in metadata_props", async () => {
    const fashion = await loadFashionMnist({ limit: 3000, testLimit: 1000 });
    const net = await trained([784, 30, 10], { cost: "cross-entropy" }, fashion.train, 0.5);
    const accuracy = net.evaluate(fashion.test).accuracy;
    expect(accuracy).toBeGreaterThan(0.6);
    const metadata = { data: "fashion-mnist", classNames: [...fashionMnistClasses], testAccuracy: accuracy, epochs: 1 };
    expect(await compare(net, fashion.test, metadata)).toBeLessThan(1e-5);

    const props = readOnnx(exportOnnx(net, metadata)).metadata;
    expect(props).toMatchObject({
      sizes: "[784,30,10]",
      activation: "sigmoid",
      outputActivation: "sigmoid",
      cost: "cross-entropy",
      dtype: "float32",
      init: "scaled-gaussian",
      data: "fashion-mnist",
      testAccuracy: String(accuracy),
      epochs: "1",
    });
    expect(JSON.parse(props.classNames!)).toEqual([...fashionMnistClasses]);
  });

  it("exports a float64 model as double tensors, answering within 1e-12 of shoal", async () => {
    const net = await trained([784, 20, 10], { dtype: "float64" }, digits.train);
    expect(await compare(net, digits.test)).toBeLessThan(1e-12);
    const file = readOnnx(exportOnnx(net));
    const DOUBLE = 11;
    expect(file.initializers.map((t) => t.dataType)).toEqual([DOUBLE, DOUBLE, DOUBLE, DOUBLE]);
    expect([file.inputs[0]!.elemType, file.outputs[0]!.elemType]).toEqual([DOUBLE, DOUBLE]);
  });

  it("exports a softmax model (log-likelihood): class probabilities as shoal's, summing to 1", async () => {
    const net = await trained([784, 30, 10], { outputActivation: "softmax", cost: "log-likelihood" }, digits.train, 0.5);
    expect(await compare(net, digits.test)).toBeLessThan(1e-5);
    const answer = await runOnnx(exportOnnx(net), digits.test.inputs.subarray(0, 784 * 5), 784, "float32");
    for (let i = 0; i < 5; i++) expect(answer.values.subarray(10 * i, 10 * (i + 1)).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 6);
  });

  it("exports tanh hidden layers with a relu output, and relu hidden layers with an identity output", async () => {
    const tanh = await trained([784, 20, 12, 10], { activation: "tanh", outputActivation: "relu" }, digits.train, 0.05);
    expect(await compare(tanh, digits.test)).toBeLessThan(1e-5);
    const relu = await trained([784, 20, 12, 10], { activation: "relu", outputActivation: "identity" }, digits.train, 0.01);
    expect(await compare(relu, digits.test)).toBeLessThan(1e-5);
    expect(readOnnx(exportOnnx(tanh)).nodes.map((n) => n.opType)).toEqual(["Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Relu"]);
    // identity: no node; the last Gemm writes "output" itself
    const nodes = readOnnx(exportOnnx(relu)).nodes;
    expect(nodes.map((n) => n.opType)).toEqual(["Gemm", "Relu", "Gemm", "Relu", "Gemm"]);
    expect(nodes.at(-1)!.outputs).toEqual(["output"]);
  });

  it("exports a one-output model, whose class is 1 when its output is ≥ 0.5", async () => {
    const labels = Array.from({ length: digits.train.count }, (_, i) => (digits.train.targets.kind === "labels" && digits.train.targets.labels[i] === 0 ? 1 : 0));
    const zeros = createDataset({ inputs: digits.train.inputs, inputSize: 784, labels, classes: 2 });
    const net = await trained([784, 8, 1], {}, zeros);
    const test = sliceDataset(digits.test, 0, 1000);
    expect(await compare(net, test)).toBeLessThan(1e-5);
    const classes = feedforwardAll(net, test.inputs).classes;
    expect(classes.filter((c) => c === 1).length).toBeGreaterThan(20); // it found the zeros, not only "not zero"
  });
});

describe("the ONNX file", () => {
  it(`is IR version ${onnxIrVersion}, opset ${onnxOpset}: per layer a Gemm (weights as stored, transB = 1) and its activation`, () => {
    const net = Network.create([4, 3, 2], { seed: 3, outputActivation: "softmax", cost: "log-likelihood", activation: "tanh" });
    const file = readOnnx(exportOnnx(net));
    expect([file.irVersion, onnxIrVersion, onnxOpset]).toEqual([7, 7, 13]);
    expect(file.opsets).toEqual([{ domain: "", version: 13 }]);
    expect(file.producer).toBe("shoal");
    expect(file.inputs).toEqual([{ name: "input", elemType: 1, dims: ["batch", 4] }]);
    expect(file.outputs).toEqual([{ name: "output", elemType: 1, dims: ["batch", 2] }]);
    expect(file.nodes).toEqual([
      { opType: "Gemm", inputs: ["input", "weights0", "biases0"], outputs: ["z0"], attributes: { transB: 1 } },
      { opType: "Tanh", inputs: ["z0"], outputs: ["a0"], attributes: {} },
      { opType: "Gemm", inputs: ["a0", "weights1", "biases1"], outputs: ["z1"], attributes: { transB: 1 } },
      { opType: "Softmax", inputs: ["z1"], outputs: ["output"], attributes: { axis: 1 } },
    ]);
    expect(file.initializers.map((t) => [t.name, t.dims, t.dataType])).toEqual([
      ["weights0", [3, 4], 1],
      ["biases0", [3], 1],
      ["weights1", [2, 3], 1],
      ["biases1", [2], 1],
    ]);
    // raw_data is little-endian: read it so, whatever this machine's byte order
    const floats = (raw: Uint8Array): number[] => Array.from({ length: raw.length / 4 }, (_, i) => new DataView(raw.buffer, raw.byteOffset).getFloat32(4 * i, true));
    expect(floats(file.initializers[0]!.raw)).toEqual(Array.from(net.weights(0)));
    expect(floats(file.initializers[3]!.raw)).toEqual(Array.from(net.biases(1)));
  });

  it("records the network's own description over metadata keys of the same name", () => {
    const net = Network.create([4, 2], { seed: 1 });
    const props = readOnnx(exportOnnx(net, { sizes: [1, 2], dtype: "int8", data: "iris.csv" })).metadata;
    expect(props).toMatchObject({ sizes: "[4,2]", dtype: "float32", data: "iris.csv" });
  });

  it.each([NaN, Infinity, -Infinity])("refuses a network with a %s parameter, naming it", (bad) => {
    const net = Network.create([4, 3, 2], { seed: 1, dtype: "float64" });
    net.params[7] = bad;
    expect(() => exportOnnx(net)).toThrow(ValidationError);
    expect(() => exportOnnx(net)).toThrow(`cannot export a model whose parameter 7 is ${bad}: training must have diverged`);
  });

  it("refuses metadata that is not a plain JSON object, and records it as JSON would (undefined values dropped)", () => {
    const net = Network.create([4, 2], { seed: 1 });
    expect(() => exportOnnx(net, ["a"] as unknown as Record<string, unknown>)).toThrow("metadata must be a plain object, got [\"a\"]");
    expect(() => exportOnnx(net, { seed: 1n })).toThrow(/^metadata must be JSON \(as a model file's is\): /);
    const props = readOnnx(exportOnnx(net, { gone: undefined, when: new Date(0), note: "kept" })).metadata;
    expect(props).not.toHaveProperty("gone");
    expect(props).toMatchObject({ when: "1970-01-01T00:00:00.000Z", note: "kept" });
  });
});
