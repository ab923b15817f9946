import type { ActivationName } from "../core/activations.js";
import { cost, costNames, type Cost, type CostName } from "../core/costs.js";
import { ModelFileError, show, ValidationError } from "../core/errors.js";
import { allocateParams, layoutOf, Network, validateSpec, type DType, type Init, type NetworkSpec } from "../core/network.js";

/**
 * The model file: Nielsen's network2.py save format `{sizes, weights, biases, cost}` plus our own
 * fields. network2.py's `load` only reads its four keys, so it can load our files, and we load its
 * files (which lack our fields) with network2's defaults: sigmoid everywhere, float64 (numpy).
 * Version 2 added `init`; version 1 files load without it (their initialisation is not known).
 * A softmax model (cost "LogLikelihoodCost", outputActivation "softmax") is still version 2: no
 * field changed, only two allowed values were added, and a shoal from before them refuses such a
 * file naming the unknown cost (network2.py's load() cannot read it either: it has no such class).
 *
 * Shapes, for layer l = 0 … L−1 mapping sizes[l] inputs to sizes[l+1] neurons:
 *   weights[l]   sizes[l+1] rows × sizes[l] columns; weights[l][j][k] = w_jk (row j = neuron j)
 *   biases[l]    a column vector: sizes[l+1] rows of one value each, [[b_0], [b_1], …]
 */
export interface ModelJson {
  format: typeof FORMAT;
  version: typeof VERSION;
  sizes: number[];
  /** network2.py's name of the cost class. */
  cost: Cost["fileName"];
  activation: ActivationName;
  outputActivation: ActivationName;
  dtype: DType;
  /** How the initial weights were drawn (NetworkSpec.init), when known. Since version 2. */
  init?: Init;
  /** Free-form JSON object (e.g. how the model was trained); stored and returned as is. */
  metadata?: Record<string, unknown>;
  weights: number[][][];
  biases: number[][][];
}

/** A network read from a model file, with the file's metadata (if any). */
export interface ParsedModel {
  network: Network;
  metadata?: Record<string, unknown>;
}

const FORMAT = "shoal-model";
const VERSION = 2;

/** The model file contents of `net`. Small fields come first so `head model.json` shows them. */
export function toModelJson(net: Network, metadata?: Record<string, unknown>): ModelJson {
  if (metadata !== undefined && !isObject(metadata)) {
    throw new ValidationError(`metadata must be a plain object, got ${show(metadata)}`);
  }
  // JSON would write NaN and ±Infinity as null: refuse rather than write a model that cannot be right.
  const bad = net.params.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new ValidationError(`cannot save a model whose parameter ${bad} is ${net.params[bad]}: training must have diverged`);
  const { sizes, activation, outputActivation, dtype } = net.spec;
  const weights: number[][][] = [];
  const biases: number[][][] = [];
  for (let l = 0; l < net.layerCount; l++) {
    const w = net.weights(l);
    const cols = sizes[l]!;
    // Array.from turns float32 values into the doubles they equal exactly, so they survive JSON unchanged.
    weights.push(Array.from({ length: sizes[l + 1]! }, (_, j) => Array.from(w.subarray(j * cols, (j + 1) * cols))));
    biases.push(Array.from(net.biases(l), (b) => [b]));
  }
  return {
    format: FORMAT,
    version: VERSION,
    sizes: [...sizes],
    cost: cost(net.spec.cost).fileName,
    activation,
    outputActivation,
    dtype,
    ...(net.spec.init !== undefined && { init: net.spec.init }),
    ...(metadata === undefined ? {} : { metadata }),
    weights,
    biases,
  };
}

/** The network in a parsed model file; throws a ModelFileError naming `source` and the first problem. */
export function fromModelJson(value: unknown, source = "model"): Network {
  return parseModel(value, source).network;
}

/** Like {@link fromModelJson}, also returning the file's metadata. */
export function parseModel(value: unknown, source = "model"): ParsedModel {
  function fail(message: string, cause?: unknown): never {
    throw new ModelFileError(`${source}: ${message}`, cause === undefined ? undefined : { cause });
  }
  if (!isObject(value)) return fail(`expected a JSON object, got ${show(value)}`);

  // Files without "format" are network2.py's; ours say which version wrote them.
  if ("format" in value || "version" in value) {
    if (value.format !== FORMAT) fail(`format is ${show(value.format)}, expected ${show(FORMAT)}`);
    const version = value.version;
    if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
      fail(`version must be a positive integer, got ${show(version)}`);
    } else if (version > VERSION) {
      fail(`version ${version} is newer than this shoal understands (${VERSION})`);
    }
  }
  for (const field of ["sizes", "weights", "biases", "cost"]) {
    if (!(field in value)) fail(`missing field "${field}"`);
  }

  const costName = costNames.find((name) => cost(name).fileName === value.cost);
  if (costName === undefined) {
    fail(`unknown cost ${show(value.cost)}, expected one of ${costNames.map((n) => cost(n).fileName).join(", ")}`);
  }
  const activation = value.activation ?? "sigmoid";
  const spec = {
    sizes: value.sizes,
    activation,
    outputActivation: value.outputActivation ?? activation,
    cost: costName,
    dtype: value.dtype ?? "float64",
    ...(value.init !== undefined && { init: value.init }),
  } as NetworkSpec; // unchecked until validateSpec below
  // Check the spec first, so the shape checks below can trust sizes.
  try {
    validateSpec(spec);
  } catch (err) {
    if (err instanceof ValidationError) fail(err.message, err);
    throw err;
  }
  const sizes = spec.sizes;
  const { weightOffsets, biasOffsets, paramCount } = layoutOf(sizes);
  const layers = sizes.length - 1;

  // Copies one number into params, checking it is finite in the file and in the target dtype.
  const put = (index: number, v: unknown, where: string): void => {
    if (typeof v !== "number" || !Number.isFinite(v)) fail(`${where} is ${show(v)}, expected a finite number`);
    params[index] = v;
    if (!Number.isFinite(params[index])) fail(`${where} is ${show(v)}, outside the ${spec.dtype} range`);
  };
  // Checks that `v` is an array of `length` entries, explaining what the length should match.
  const rowsOf = (v: unknown, where: string, length: number, what: string, why: string): unknown[] => {
    if (!Array.isArray(v)) return fail(`${where} is ${show(v)}, expected an array of ${length} ${what}`);
    if (v.length !== length) fail(`${where} has ${v.length} ${what}, expected ${length} (${why})`);
    return v;
  };

  const weights = rowsOf(value.weights, "weights", layers, "layers", `sizes has ${sizes.length} entries`);
  const biases = rowsOf(value.biases, "biases", layers, "layers", `sizes has ${sizes.length} entries`);
  // Shapes first: the arrays in the file bound what we allocate, not the sizes it declares.
  for (let l = 0; l < layers; l++) {
    rowsOf(weights[l], `weights[${l}]`, sizes[l + 1]!, "rows", `sizes[${l + 1}]`).forEach((row, j) =>
      rowsOf(row, `weights[${l}][${j}]`, sizes[l]!, "columns", `sizes[${l}]`),
    );
    rowsOf(biases[l], `biases[${l}]`, sizes[l + 1]!, "rows", `sizes[${l + 1}]`);
  }
  const params = allocateParams(spec.dtype, paramCount);
  for (let l = 0; l < layers; l++) {
    const rows = sizes[l + 1]!;
    const cols = sizes[l]!;
    const w = rowsOf(weights[l], `weights[${l}]`, rows, "rows", `sizes[${l + 1}]`);
    w.forEach((row, j) => {
      const r = rowsOf(row, `weights[${l}][${j}]`, cols, "columns", `sizes[${l}]`);
      r.forEach((v, k) => put(weightOffsets[l]! + j * cols + k, v, `weights[${l}][${j}][${k}]`));
    });
    const b = rowsOf(biases[l], `biases[${l}]`, rows, "rows", `sizes[${l + 1}]`);
    b.forEach((row, j) => {
      // network2.py stores biases as column vectors (n × 1 matrices): each row is a one-element list.
      if (!Array.isArray(row) || row.length !== 1) {
        fail(`biases[${l}][${j}] is ${show(row)}, expected a one-element row [b] (biases are column vectors)`);
      }
      put(biasOffsets[l]! + j, (row as unknown[])[0], `biases[${l}][${j}][0]`);
    });
  }

  const metadata = value.metadata;
  if (metadata !== undefined && !isObject(metadata)) fail(`metadata is ${show(metadata)}, expected an object`);
  const network = new Network(spec, params);
  return metadata === undefined ? { network } : { network, metadata: metadata as Record<string, unknown> };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
