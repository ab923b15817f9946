import { describe, expect, it } from "vitest";
import { createDataset, outputSize, withCommonClasses, type DatasetInit } from "../src/core/dataset.js";
import { ValidationError } from "../src/core/errors.js";
import { Network, type NetworkOptions, type NetworkSpec } from "../src/core/network.js";

/** The ValidationError `fn` throws (fails the test if it throws nothing or something else). */
function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("expected a ValidationError, nothing was thrown");
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

function variance(values: ArrayLike<number>): number {
  const m = mean(values);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i]! - m) ** 2;
  return sum / values.length;
}

describe("Network.create validation", () => {
  it("names the bad layer size", () => {
    expect(validationError(() => Network.create([784, 0, 10])).message).toBe("sizes[1] must be a positive integer, got 0");
    expect(validationError(() => Network.create([784, 30, 10], { activaton: "relu" } as never)).message).toBe(
      'unknown network option "activaton"; known: seed, dtype, activation, outputActivation, cost, init',
    );
    expect(validationError(() => Network.create([784, 30, 2.5])).message).toBe("sizes[2] must be a positive integer, got 2.5");
    expect(validationError(() => Network.create([784])).message).toBe(
      "sizes must list at least two layers (input and output), got [784]",
    );
  });

  it("rejects cross-entropy without a sigmoid output layer", () => {
    expect(validationError(() => Network.create([4, 3], { cost: "cross-entropy", activation: "relu" })).message).toBe(
      'cost cross-entropy needs outputActivation sigmoid (outputs in (0, 1)), got "relu"',
    );
    // a sigmoid output under relu hidden layers is fine
    expect(Network.create([4, 3, 2], { cost: "cross-entropy", activation: "relu", outputActivation: "sigmoid", seed: 1 }).spec).toMatchObject({
      activation: "relu",
      outputActivation: "sigmoid",
      cost: "cross-entropy",
    });
  });

  it("rejects unknown names and bad seeds, naming the option", () => {
    const create = (options: Record<string, unknown>) => () => Network.create([2, 2], options as NetworkOptions);
    expect(validationError(create({ activation: "swish" })).message).toBe(
      'activation must be one of sigmoid, tanh, relu, identity, got "swish"',
    );
    expect(validationError(create({ outputActivation: "swish" })).message).toBe(
      'outputActivation must be one of sigmoid, tanh, relu, identity, softmax, got "swish"',
    );
    expect(validationError(create({ cost: "hinge" })).message).toBe('cost must be one of quadratic, cross-entropy, log-likelihood, got "hinge"');
    expect(validationError(create({ dtype: "float16" })).message).toBe('dtype must be one of float32, float64, got "float16"');
    expect(validationError(create({ init: "xavier" })).message).toBe('init must be one of gaussian, scaled-gaussian, got "xavier"');
    expect(validationError(create({ seed: -1 })).message).toBe("seed must be an integer ≥ 0, got -1");
    expect(validationError(create({ seed: 1.5 })).message).toBe("seed must be an integer ≥ 0, got 1.5");
    expect(validationError(create({ seed: 2 ** 53 })).message).toBe("seed must be an integer ≥ 0 below 2^53, got 9007199254740992");
  });

  it("the constructor checks the parameter vector against the spec", () => {
    const spec: NetworkSpec = { sizes: [1, 1, 1], activation: "sigmoid", outputActivation: "sigmoid", cost: "quadratic", dtype: "float64" };
    expect(validationError(() => new Network(spec, new Float32Array(4))).message).toBe("params must be a Float64Array for dtype float64");
    expect(validationError(() => new Network(spec, new Float64Array(3))).message).toBe(
      "params has 3 values, expected 4 for sizes [1, 1, 1]",
    );
  });
});

describe("initialisation", () => {
  it("is determined by the seed", () => {
    const a = Network.create([6, 5, 3], { seed: 42 });
    const b = Network.create([6, 5, 3], { seed: 42 });
    const c = Network.create([6, 5, 3], { seed: 43 });
    expect(Array.from(a.params)).toEqual(Array.from(b.params));
    expect(Array.from(a.params)).not.toEqual(Array.from(c.params));
    expect(a.params.some((v) => v !== 0)).toBe(true);
  });

  it("every seed below 2^53 has its own weights; seeds below 2^32 keep the weights they always had", () => {
    const weights = (seed: number): number[] => Array.from(Network.create([3, 2], { seed, dtype: "float64", init: "gaussian" }).params);
    // first weights of seeds 5 and 2^32 − 1 as recorded before the bits above 32 were used
    expect(weights(5)[0]).toBe(-0.4539924004950854);
    expect(weights(2 ** 32 - 1)[0]).toBe(-0.5770781085301061);
    expect(weights(2 ** 32 + 5)).not.toEqual(weights(5));
    expect(weights(2 ** 40 + 5)).not.toEqual(weights(2 ** 32 + 5));
    expect(weights(Number.MAX_SAFE_INTEGER)).not.toEqual(weights(2 ** 32 - 1));
  });

  it("uses float32 by default and float64 on request, from the same draws", () => {
    const f32 = Network.create([6, 5, 3], { seed: 9 });
    const f64 = Network.create([6, 5, 3], { seed: 9, dtype: "float64" });
    expect(f32.params).toBeInstanceOf(Float32Array);
    expect(f64.params).toBeInstanceOf(Float64Array);
    expect(f32.spec.dtype).toBe("float32");
    expect(Array.from(f32.params)).toEqual(Array.from(f64.params, Math.fround));
  });

  it('"gaussian" (network.py\'s) draws every weight and bias from N(0, 1)', () => {
    const net = Network.create([784, 100, 10], { seed: 5, dtype: "float64", init: "gaussian" });
    expect(net.params.length).toBe(784 * 100 + 100 + 100 * 10 + 10);
    // 79,510 draws: the sample mean's standard error is 0.0035, the variance's 0.005
    expect(Math.abs(mean(net.params))).toBeLessThan(0.02);
    expect(Math.abs(variance(net.params) - 1)).toBeLessThan(0.03);
    expect(Math.abs(variance(net.weights(0)) - 1)).toBeLessThan(0.03);
    expect(Math.abs(variance(net.weights(1)) - 1)).toBeLessThan(0.15); // 1,000 draws
  });

  it('"scaled-gaussian" (the default, network2.py\'s) draws layer l\'s weights from N(0, 1/n_in) and biases from N(0, 1)', () => {
    const net = Network.create([784, 100, 10], { seed: 5, dtype: "float64" });
    expect(net.spec.init).toBe("scaled-gaussian");
    expect(Math.abs(mean(net.weights(0)))).toBeLessThan(0.02 / Math.sqrt(784));
    expect(variance(net.weights(0)) * 784).toBeCloseTo(1, 1); // 78,400 draws, within 0.05
    expect(Math.abs(variance(net.weights(1)) * 100 - 1)).toBeLessThan(0.15); // 1,000 draws
    const biases = Float64Array.from([...net.biases(0), ...net.biases(1)]);
    expect(Math.abs(variance(biases) - 1)).toBeLessThan(0.35); // only 110 draws
    expect(Math.abs(mean(biases))).toBeLessThan(0.35);
  });
});

describe("weights(l) and biases(l)", () => {
  const net = Network.create([4, 3, 2], { seed: 1, dtype: "float64" });

  it("are views of the flat parameter vector in the documented layout", () => {
    expect(net.layerCount).toBe(2);
    expect(net.weights(0).length).toBe(3 * 4);
    expect(net.biases(0).length).toBe(3);
    expect(net.weights(1).length).toBe(2 * 3);
    expect(net.biases(1).length).toBe(2);
    // layer 0's weights, layer 0's biases, layer 1's weights, layer 1's biases, back to back
    const joined = [...net.weights(0), ...net.biases(0), ...net.weights(1), ...net.biases(1)];
    expect(joined).toEqual(Array.from(net.params));
    expect(net.weights(1).buffer).toBe(net.params.buffer);
  });

  it("write through to the parameters", () => {
    const copy = net.clone();
    copy.biases(1)[1] = 123;
    copy.weights(0)[4] = -7; // w^0_{1,0}: neuron 1, input 0
    expect(copy.params[copy.params.length - 1]).toBe(123);
    expect(copy.params[4]).toBe(-7);
    // the clone is independent
    expect(net.params[net.params.length - 1]).not.toBe(123);
  });

  it("reject a layer that does not exist", () => {
    expect(validationError(() => net.weights(2)).message).toBe("layer must be 0..1, got 2");
    expect(validationError(() => net.biases(-1)).message).toBe("layer must be 0..1, got -1");
  });
});

describe("feedforward, predict and evaluate", () => {
  // 2-2 identity network with w = I and b = 0: the output is the input
  const spec: NetworkSpec = { sizes: [2, 2], activation: "identity", outputActivation: "identity", cost: "quadratic", dtype: "float64" };
  const echo = new Network(spec, Float64Array.of(1, 0, 0, 1, 0, 0));

  it("computes a = σ(w x + b) layer by layer", () => {
    expect(Array.from(echo.feedforward([0.25, -3]))).toEqual([0.25, -3]);
    // one sigmoid neuron, w = (1, −2), b = 0.5: z = 1·2 − 2·1 + 0.5 = 0.5
    const neuron = new Network({ ...spec, sizes: [2, 1], activation: "sigmoid", outputActivation: "sigmoid" }, Float64Array.of(1, -2, 0.5));
    expect(neuron.feedforward([2, 1])[0]).toBeCloseTo(1 / (1 + Math.exp(-0.5)), 15);
  });

  it("names a wrong-length or non-finite input", () => {
    expect(validationError(() => echo.feedforward([1, 2, 3])).message).toBe("input has 3 values, expected 2");
    expect(validationError(() => echo.feedforward([1, Number.NaN])).message).toBe("input 1 is NaN, expected a finite number");
  });

  it("predicts the argmax and evaluates accuracy on a dataset", () => {
    expect(echo.predict([0.2, 0.9])).toBe(1);
    expect(echo.predict([0.9, 0.2])).toBe(0);
    const data = createDataset({ inputs: [[1, 0], [0, 1], [0.3, 0.1], [0.1, 0.3]], labels: [0, 1, 1, 1] });
    expect(echo.evaluate(data)).toEqual({ correct: 3, total: 4, accuracy: 0.75 });
    // target vectors: the class is the target's argmax
    const vectors = createDataset({ inputs: [[1, 0], [0, 1]], targets: [[0, 1], [0, 1]] });
    expect(echo.evaluate(vectors)).toEqual({ correct: 1, total: 2, accuracy: 0.5 });
  });

  it("rejects a dataset of the wrong shape", () => {
    const wide = createDataset({ inputs: [[1, 0, 0]], labels: [0] });
    expect(validationError(() => echo.evaluate(wide)).message).toBe("data has 3 inputs per example, the network expects 2");
    const many = createDataset({ inputs: [[1, 0]], labels: [0], classes: 3 });
    expect(validationError(() => echo.evaluate(many)).message).toBe("data has 3 classes, the network has 2 outputs");
  });
});

describe("dataset validation", () => {
  const rows = (count: number, width: number) => Array.from({ length: count }, (_, i) => Array.from({ length: width }, (_, k) => ((i + k) % 7) / 7));

  it("accepts a valid dataset and infers the number of classes", () => {
    const data = createDataset({ inputs: rows(5, 3), labels: [0, 1, 2, 1, 0] });
    expect(data.count).toBe(5);
    expect(data.inputSize).toBe(3);
    expect(data.inputs).toBeInstanceOf(Float32Array);
    expect(data.targets).toMatchObject({ kind: "labels", classes: 3 });
  });

  it("names a label out of range", () => {
    const init: DatasetInit = { inputs: rows(5, 4), labels: [0, 1, 2, 11, 3], classes: 10 };
    expect(validationError(() => createDataset(init)).message).toBe("dataset: label 11 out of range 0..9 at example 3");
    expect(validationError(() => createDataset({ ...init, labels: [0, -1, 0, 0, 0] })).message).toBe(
      "dataset: label -1 out of range 0..9 at example 1",
    );
    expect(validationError(() => createDataset({ ...init, labels: [0, 2.5, 0, 0, 0] })).message).toBe(
      "label 2.5 is not an integer at example 1",
    );
    expect(validationError(() => createDataset({ ...init, labels: [0, 1, 2] })).message).toBe("dataset: 3 labels for 5 examples");
  });

  it("names a non-finite input or target", () => {
    const inputs = rows(4, 6);
    inputs[2]![5] = Number.NaN;
    expect(validationError(() => createDataset({ inputs, labels: [0, 1, 0, 1] })).message).toBe(
      "dataset: input 5 of example 2 is NaN, expected a finite number",
    );
    expect(
      validationError(() => createDataset({ inputs: rows(2, 2), targets: [[0, 1], [Number.POSITIVE_INFINITY, 0]] })).message,
    ).toBe("dataset: target 0 of example 1 is Infinity, expected a finite number");
  });

  it("finds a non-finite value anywhere, first one named: in the last values (past a multiple of 4), and +∞ beside −∞", () => {
    for (const [at, value] of [[0, Number.NaN], [21, Number.NaN], [22, Number.NEGATIVE_INFINITY], [9, Number.POSITIVE_INFINITY]] as const) {
      const inputs = new Float32Array(23).fill(0.5); // 23 values: the last 3 are outside the four-way sums
      inputs[at] = value;
      expect(validationError(() => createDataset({ inputs, inputSize: 1, labels: new Array(23).fill(0) })).message).toBe(
        `dataset: input 0 of example ${at} is ${value}, expected a finite number`,
      );
    }
    const both = new Float32Array(8).fill(1);
    both[3] = Number.POSITIVE_INFINITY;
    both[6] = Number.NEGATIVE_INFINITY; // the sums meet as NaN
    expect(validationError(() => createDataset({ inputs: both, inputSize: 2, labels: [0, 0, 0, 0] })).message).toBe(
      "dataset: input 1 of example 1 is Infinity, expected a finite number",
    );
  });

  it("names a row of the wrong length", () => {
    const inputs = rows(20, 784);
    inputs[17] = inputs[17]!.slice(0, 780);
    expect(validationError(() => createDataset({ inputs, labels: new Array(20).fill(0) })).message).toBe(
      "example 17 has 780 inputs, expected 784",
    );
  });

  it("checks flat Float32Array inputs against inputSize", () => {
    expect(validationError(() => createDataset({ inputs: new Float32Array(10), inputSize: 3, labels: [0, 0, 0] })).message).toBe(
      "dataset: inputs length 10 is not a multiple of inputSize 3",
    );
    expect(validationError(() => createDataset({ inputs: new Float32Array(6), labels: [0, 0] })).message).toMatch(
      "inputSize must be a positive integer when inputs is a flat Float32Array, got undefined",
    );
  });
});

describe("withCommonClasses (a training and a test set for one network)", () => {
  const labelled = (classes: number) => createDataset({ inputs: [[0]], labels: [0], classes });
  it("gives both labelled sets the larger class count, and returns a set already at it unchanged", () => {
    const train = labelled(5);
    const both = withCommonClasses({ train, test: labelled(3) });
    expect([outputSize(both.train), outputSize(both.test)]).toEqual([5, 5]);
    expect(both.train).toBe(train);
  });
  it("counts target vectors by their size and leaves them as they are", () => {
    const test = createDataset({ inputs: [[0]], targets: [[0, 1, 0, 0]] });
    const both = withCommonClasses({ train: labelled(2), test });
    expect(outputSize(both.train)).toBe(4);
    expect(both.test).toBe(test);
  });
});
