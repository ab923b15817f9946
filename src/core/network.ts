import { activation, activationNames, hiddenActivationNames, type ActivationName } from "./activations.js";
import { createScratch, feedforward } from "./backprop.js";
import { classCount, predictedClass } from "./classes.js";
import { validateDataset, outputSize, type Dataset } from "./dataset.js";
import { countCorrect, evaluation, type Evaluation } from "./evaluate.js";
import { cost, costNames, type CostName } from "./costs.js";
import { check, checkInteger, checkKnownKeys, checkOneOf, show, ValidationError } from "./errors.js";
import { allocateParams, dtypes, layoutOf, type Architecture, type DType, type Layout, type Params } from "./layout.js";
import { Rng } from "./rng.js";

export { allocateParams, dtypes, layoutOf, type Architecture, type DType, type Layout, type Params } from "./layout.js";

/**
 * Weight initialisation: N(0, 1/n_in) as network2.py's default (`"scaled-gaussian"`, shoal's default),
 * or N(0, 1) as network.py (`"gaussian"`). Biases are N(0, 1) in both.
 */
export type Init = "gaussian" | "scaled-gaussian";
export const inits: readonly Init[] = ["gaussian", "scaled-gaussian"];

/**
 * The default initialisation (library, CLI, job specs). N(0,1) weights saturate sigmoid neurons fed
 * by many inputs: on 784-30-10 MNIST some seeds never learn a digit (issue 14: ~82% on 2 of 12 seeds).
 */
export const defaultInit: Init = "scaled-gaussian";

/** Everything that defines a network except its parameter values. Plain data: it crosses threads and goes into model files. */
export interface NetworkSpec {
  /** Neurons per layer, input first: `[784, 30, 10]`. */
  readonly sizes: readonly number[];
  /** σ of the hidden layers. */
  readonly activation: ActivationName;
  /** σ of the output layer. */
  readonly outputActivation: ActivationName;
  readonly cost: CostName;
  readonly dtype: DType;
  /**
   * How the initial weights were drawn, when known: set by {@link Network.create} and kept in model
   * files and checkpoints. Absent for a network built from given parameters or a network2.py file.
   */
  readonly init?: Init;
}

/** Options of {@link Network.create}; all optional, defaults are Nielsen's (network.py's, network2.py's initialisation). */
export interface NetworkOptions {
  /** Seed of the initial weights (default: a random seed). */
  seed?: number;
  /** `"float32"` (default) or `"float64"`. */
  dtype?: DType;
  /** σ of every layer (default `"sigmoid"`); not `"softmax"`, which only an output layer may have. */
  activation?: ActivationName;
  /** σ of the output layer (default: same as `activation`); `"softmax"` needs cost `"log-likelihood"`. */
  outputActivation?: ActivationName;
  /**
   * `"quadratic"` (default), `"cross-entropy"` (needs a sigmoid output layer) or `"log-likelihood"`
   * (needs a softmax output layer: the outputs are then class probabilities).
   */
  cost?: CostName;
  /**
   * `"scaled-gaussian"` (default: weights N(0, 1/n_in), as network2.py) or `"gaussian"` (N(0,1), as
   * network.py). Before shoal recorded it, the default was `"gaussian"`: pass it to get those weights.
   */
  init?: Init;
}

/** Every key of NetworkOptions (the type makes this list complete). */
const networkOptionKeys: Record<keyof NetworkOptions, true> = { seed: true, dtype: true, activation: true, outputActivation: true, cost: true, init: true };

/** Resolves a spec's names into the functions the kernel calls. */
export function architectureOf(spec: NetworkSpec): Architecture {
  return {
    layout: layoutOf(spec.sizes),
    hidden: activation(spec.activation),
    output: activation(spec.outputActivation),
    cost: cost(spec.cost),
  };
}

/** Checks a spec, naming the first thing wrong with it. */
export function validateSpec(spec: NetworkSpec): void {
  const sizes: unknown = spec.sizes;
  check(
    Array.isArray(sizes) && sizes.length >= 2,
    `sizes must list at least two layers (input and output), got ${show(sizes)}`,
  );
  for (let l = 0; l < sizes.length; l++) checkInteger(`sizes[${l}]`, sizes[l]); // a loop, not forEach: holes are checked too
  const { paramCount } = layoutOf(sizes as number[]);
  check(paramCount <= MAX_PARAMETERS, `sizes ${show(sizes)} make ${paramCount} parameters, more than shoal supports (${MAX_PARAMETERS})`);
  check(
    spec.activation !== "softmax",
    `activation softmax is for the output layer only: give outputActivation softmax with cost log-likelihood, and as activation (the hidden layers') one of ${hiddenActivationNames.join(", ")}`,
  );
  checkOneOf("activation", spec.activation, hiddenActivationNames);
  checkOneOf("outputActivation", spec.outputActivation, activationNames);
  checkOneOf("cost", spec.cost, costNames);
  checkOneOf("dtype", spec.dtype, dtypes);
  if (spec.init !== undefined) checkOneOf("init", spec.init, inits);
  check(
    spec.cost !== "cross-entropy" || spec.outputActivation === "sigmoid",
    `cost cross-entropy needs outputActivation sigmoid (outputs in (0, 1)), got ${show(spec.outputActivation)}`,
  );
  // Softmax and log-likelihood only go together: their pair gives δ^L = a − y (costs.ts), which the
  // kernel computes without the softmax Jacobian.
  check(
    spec.cost !== "log-likelihood" || spec.outputActivation === "softmax",
    `cost log-likelihood needs outputActivation softmax (outputs that are probabilities summing to 1), got ${show(spec.outputActivation)}`,
  );
  check(
    spec.outputActivation !== "softmax" || spec.cost === "log-likelihood",
    `outputActivation softmax needs cost log-likelihood (C = −ln a_y), got ${show(spec.cost)}`,
  );
  check(
    spec.outputActivation !== "softmax" || (sizes as number[])[sizes.length - 1]! >= 2,
    `outputActivation softmax needs at least 2 outputs (a single softmax output is always 1), got sizes ${show(sizes)}`,
  );
}

/** The most parameters a network may have (2^28: 1 GiB as float32), so a bad size is an error, not an allocation failure. */
export const MAX_PARAMETERS = 2 ** 28;

/** A random 31-bit seed, for when the caller gives none. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

/**
 * A fully-connected feed-forward network: a spec plus one flat parameter vector.
 * Training updates `params` in place.
 */
export class Network {
  readonly spec: NetworkSpec;
  readonly architecture: Architecture;
  /** All weights and biases, laid out as {@link Layout} says. */
  readonly params: Params;

  /** Wraps an existing parameter vector (validated against the spec). Most callers want {@link Network.create}. */
  constructor(spec: NetworkSpec, params: Params) {
    validateSpec(spec);
    this.spec = { ...spec, sizes: [...spec.sizes] };
    this.architecture = architectureOf(this.spec);
    const expected = spec.dtype === "float32" ? Float32Array : Float64Array;
    check(params instanceof expected, `params must be a ${expected.name} for dtype ${spec.dtype}`);
    check(
      params.length === this.architecture.layout.paramCount,
      `params has ${params.length} values, expected ${this.architecture.layout.paramCount} for sizes ${show(spec.sizes)}`,
    );
    this.params = params;
  }

  /** A new network with Gaussian initial parameters drawn from `options.seed` (weights scaled by 1/√n_in unless `init` is `"gaussian"`). */
  static create(sizes: readonly number[], options: NetworkOptions = {}): Network {
    check(options !== null && typeof options === "object", `options must be an object, got ${show(options)}`);
    checkKnownKeys("network option", options, networkOptionKeys);
    const act = options.activation ?? "sigmoid";
    const spec: NetworkSpec = {
      sizes,
      activation: act,
      outputActivation: options.outputActivation ?? act,
      cost: options.cost ?? "quadratic",
      dtype: options.dtype ?? "float32",
      init: options.init ?? defaultInit,
    };
    validateSpec(spec);
    const init = spec.init;
    const seed = options.seed ?? randomSeed();
    checkInteger("seed", seed, 0);

    const layout = layoutOf(spec.sizes);
    const params = allocateParams(spec.dtype, layout.paramCount);
    const rng = new Rng(seed);
    for (let l = 0; l + 1 < sizes.length; l++) {
      const scale = init === "scaled-gaussian" ? 1 / Math.sqrt(sizes[l]!) : 1;
      const w = layout.weightOffsets[l]!;
      const b = layout.biasOffsets[l]!;
      for (let i = w; i < b; i++) params[i] = rng.gaussian() * scale;
      for (let i = b; i < b + sizes[l + 1]!; i++) params[i] = rng.gaussian();
    }
    return new Network(spec, params);
  }

  /** Neurons per layer, input first. */
  get sizes(): readonly number[] {
    return this.spec.sizes;
  }

  /** Number of weight layers (sizes.length − 1). */
  get layerCount(): number {
    return this.spec.sizes.length - 1;
  }

  /** Layer l's weights w^l: a view of sizes[l+1] × sizes[l] values, row-major (row j = neuron j). */
  weights(l: number): Params {
    this.checkLayer(l);
    const { weightOffsets, biasOffsets } = this.architecture.layout;
    return this.params.subarray(weightOffsets[l]!, biasOffsets[l]!);
  }

  /** Layer l's biases b^l: a view of sizes[l+1] values. */
  biases(l: number): Params {
    this.checkLayer(l);
    const b = this.architecture.layout.biasOffsets[l]!;
    return this.params.subarray(b, b + this.spec.sizes[l + 1]!);
  }

  /** The output activations a^L for one input vector of length sizes[0]. */
  feedforward(input: ArrayLike<number>): Float64Array {
    const n = this.spec.sizes[0]!;
    check(input != null && input.length === n, `input has ${input?.length} values, expected ${n}`);
    for (let k = 0; k < n; k++) {
      if (!Number.isFinite(input[k])) throw new ValidationError(`input ${k} is ${input[k]}, expected a finite number`);
    }
    return feedforward(this.architecture, this.params, input, 0, createScratch(this.spec.sizes)).slice();
  }

  /** The predicted class: index of the largest output; with one output, 1 when it is ≥ 0.5, else 0. */
  predict(input: ArrayLike<number>): number {
    return predictedClass(this.feedforward(input));
  }

  /** Classification accuracy on a dataset whose shape matches the network. */
  evaluate(data: Dataset): Evaluation {
    this.checkFits(data, "data");
    return evaluation(countCorrect(this.architecture, this.params, data), data.count);
  }

  /** Throws unless `data` is valid and its input and target sizes match this network. */
  checkFits(data: Dataset, name: string): void {
    validateDataset(data, name);
    const sizes = this.spec.sizes;
    check(data.inputSize === sizes[0], `${name} has ${data.inputSize} inputs per example, the network expects ${sizes[0]}`);
    const out = sizes[sizes.length - 1]!;
    check(outputSize(data) === out || (data.targets.kind === "labels" && data.targets.classes <= classCount(out)),
      `${name} has ${outputSize(data)} ${data.targets.kind === "labels" ? "classes" : "targets per example"}, the network has ${out} outputs`);
  }

  /** An independent copy (same spec, copied parameters). */
  clone(): Network {
    return new Network(this.spec, this.params.slice());
  }

  private checkLayer(l: number): void {
    check(Number.isInteger(l) && l >= 0 && l < this.layerCount, `layer must be 0..${this.layerCount - 1}, got ${show(l)}`);
  }
}
