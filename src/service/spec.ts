import { availableParallelism } from "node:os";
import path from "node:path";
import type { DatasetInit } from "../core/dataset.js";
import type { NetworkOptions } from "../core/network.js";
import { checkLambda, checkMomentum } from "../core/sgd.js";
import { checkDropout } from "../core/dropout.js";
import type { ValidationSplit } from "../core/hold-out.js";
import type { TrainOptions } from "../train/options.js";
import { check, checkInteger, checkOneOf, show, ValidationError } from "../core/errors.js";
import { defaultInit, randomSeed, validateSpec } from "../core/network.js";
import { classCount } from "../core/classes.js";
import { checkEarlyStopping, checkEtaSchedule, monitorFlags } from "../core/schedule.js";
import { checkField, dataKinds, jobSpecSchema, type FieldSchema } from "./spec-schema.js";
import type { CsvData, IdxData, NamedData } from "../data/source.js";

/**
 * A training job as plain, serialisable data: what the data is, the network, and the
 * hyperparameters. The names are those of `Network.create` and `train` (`layers` = `sizes`).
 */
export interface JobSpec
  extends Pick<NetworkOptions, "activation" | "outputActivation" | "cost" | "init" | "dtype">,
    Pick<TrainOptions, "epochs" | "miniBatchSize" | "eta" | "lambda" | "momentum" | "dropout" | "seed" | "shuffle" | "threads" | "parallelism" | "etaSchedule" | "earlyStopping" | "monitor"> {
  /** The training data (and its test set, when the source has one). */
  data: DataRef;
  /** Neurons per layer, input first: `[784, 30, 10]`. Must fit the data. */
  layers: number[];
  /** Evaluate on the source's test set after each epoch (default true when it has one). */
  evaluate?: boolean;
  /**
   * Hold this many training examples out as a validation set, evaluated after each epoch: what
   * `earlyStopping` and a plateau `etaSchedule` then watch (as `shoal train --validation n`).
   */
  validation?: number;
  /** Which examples `validation` holds out: `"random"` (default; drawn with the job's seed) or `"last"`. */
  validationSplit?: ValidationSplit;
  /** A label for people; not interpreted. */
  name?: string;
}

/**
 * Where a job's data comes from:
 * - `{ name: "mnist" }`: the bundled 8,000/2,000 digits; `{ name: "fashion-mnist" }`: the Debian package;
 * - `{ idx: folder }`: the four standard IDX files; `{ csv: file, test?: file }`: CSV files;
 * - inline data: `{ inputs, labels | targets, classes?, test? }`, rows of numbers or flat typed arrays
 *   (a Float32Array over a SharedArrayBuffer reaches the trainer thread without a copy).
 * `limit` / `testLimit` keep only the first examples.
 */
export type DataRef = NamedData | IdxData | CsvData | InlineData;

export type { NamedData, IdxData, CsvData } from "../data/source.js";

/** Examples given in the spec itself: what `createDataset` takes. */
export type InlineExamples = DatasetInit;

export interface InlineData extends InlineExamples {
  test?: InlineExamples;
}

/** Inline examples flattened into typed arrays: what crosses to the trainer thread (transferred, or shared). */
export interface FlatExamples {
  count: number;
  inputSize: number;
  inputs: Float32Array;
  labels?: Int32Array;
  classes?: number;
  targets?: Float32Array;
  targetSize?: number;
}

/** A checked spec with inline data flattened: what the trainer thread runs. */
export interface PreparedSpec extends Omit<JobSpec, "data" | "seed"> {
  data: NamedData | IdxData | CsvData | { inline: { train: FlatExamples; test?: FlatExamples } };
  seed: number;
  /** What goes into job records and model metadata: the spec without its data values. */
  summary: JobSummary;
}

/** A job's spec as listed: inline data is described by its shape, not repeated. */
export interface JobSummary extends Omit<JobSpec, "data"> {
  data: NamedData | IdxData | CsvData | { inline: { examples: number; inputSize: number; testExamples?: number } };
  /** `mnist`, `fashion-mnist`, the folder or file, or `inline (n examples)`. */
  dataset: string;
  seed: number;
}

/** Bounds a trainer puts on specs, so one request cannot take all memory. */
export interface SpecLimits {
  /** Most numbers (inputs plus targets, training plus test) inline data may hold. */
  maxInlineValues: number;
  /** Most parameters (weights plus biases) a network may have. */
  maxParameters: number;
  /** Most worker threads a job may ask for. */
  maxThreads: number;
  /**
   * Most work one job may ask for: epochs × training examples (the examples it trains on, all
   * epochs together), so one job cannot hold a server's queue for days. Default: no bound (a job
   * server sets {@link defaultMaxJobWork}).
   */
  maxJobWork?: number;
  /**
   * Folder that `idx` and `csv` paths are relative to and must stay inside; job records show them
   * relative to it (not as this machine's absolute paths). Without it paths are taken as given.
   */
  dataDir?: string;
}

/** A job server's bound on epochs × training examples: 1,000 epochs of Fashion-MNIST's 60,000 training images. */
export const defaultMaxJobWork = 60_000_000;

const fields = jobSpecSchema.properties;

export const defaultSpecLimits: SpecLimits = { maxInlineValues: 4_000_000, maxParameters: 50_000_000, maxThreads: availableParallelism() };

const specFields = Object.keys(jobSpecSchema.properties);

/** Input and output sizes and training examples of the named datasets, known before loading them. */
const knownShapes: Record<NamedData["name"], { inputs: number; classes: number; examples: number }> = {
  mnist: { inputs: 784, classes: 10, examples: 8_000 },
  "fashion-mnist": { inputs: 784, classes: 10, examples: 60_000 },
};

/** Throws a ValidationError naming the unknown field of a job spec, if it has one (before any other check: a typo explains the rest). */
export function checkSpecFields(value: Record<string, unknown>): void {
  const unknown = Object.keys(value).find((k) => !(specFields as readonly string[]).includes(k));
  check(unknown === undefined, `job spec has an unknown field ${show(unknown)}; fields are ${specFields.join(", ")}`);
}

/**
 * Throws a ValidationError when `epochs` over `examples` training examples is more work than
 * `maxJobWork` allows. `exact` false: the count is a lower bound (a file not read yet).
 */
export function checkJobWork(epochs: number, examples: number, maxJobWork: number | undefined, exact = true): void {
  const work = epochs * examples;
  if (maxJobWork === undefined || work <= maxJobWork) return;
  const sum = exact ? `${epochs} epochs × ${examples} training examples = ${work}` : `at least ${epochs} epochs × ${examples} training examples`;
  throw new ValidationError(`the job asks for ${sum} example passes, more than this trainer's limit of ${maxJobWork} (maxJobWork: epochs × training examples)`);
}

/**
 * Checks a job spec as a whole before anything is queued, naming the first field at fault
 * (`layers[1] must be a positive integer, got 0`, `data.limit must be …`), and flattens inline data.
 * Checks that need the data itself (values, labels in range, sizes of files' data) run when the job
 * starts, in the trainer thread, and fail the job with the library's message.
 * Returns the prepared spec and the buffers to transfer to the trainer thread.
 */
export function prepareSpec(value: unknown, limits: SpecLimits = defaultSpecLimits): { spec: PreparedSpec; transfer: ArrayBuffer[] } {
  check(isObject(value), `a job spec must be an object, got ${show(value)}`);
  checkSpecFields(value);
  const spec = value as Partial<JobSpec>;

  const layers: unknown = spec.layers;
  check(Array.isArray(layers) && layers.length >= 2, `layers must list at least two sizes (input and output), got ${show(layers)}`);
  layers.forEach((n: unknown, l: number) => checkField(`layers[${l}]`, n, fields.layers.items));
  const sizes = layers as number[];
  let parameters = 0;
  for (let l = 0; l + 1 < sizes.length; l++) parameters += (sizes[l]! + 1) * sizes[l + 1]!;
  check(parameters <= limits.maxParameters, `layers ${show(sizes)} make ${parameters} parameters, more than this trainer's limit of ${limits.maxParameters}`);
  const activation = spec.activation ?? "sigmoid";
  validateSpec({
    sizes,
    activation,
    outputActivation: spec.outputActivation ?? activation,
    cost: spec.cost ?? "quadratic",
    dtype: spec.dtype ?? "float32",
  });
  if (spec.init !== undefined) checkField("init", spec.init, fields.init);
  // train()'s checks, with its messages, before anything is queued (train checks again when the job runs).
  checkField("epochs", spec.epochs, fields.epochs);
  checkField("miniBatchSize", spec.miniBatchSize, fields.miniBatchSize);
  checkField("eta", spec.eta, fields.eta);
  if (spec.seed !== undefined) checkField("seed", spec.seed, fields.seed);
  if (spec.shuffle !== undefined) checkField("shuffle", spec.shuffle, fields.shuffle);
  if (spec.threads !== undefined && spec.threads !== "auto") {
    checkInteger("threads", spec.threads, 0);
    check(spec.threads <= limits.maxThreads, `threads must be at most ${limits.maxThreads} on this trainer, got ${spec.threads}`);
  }
  // The seed is fixed now, so the job record shows it and the job can be repeated.
  const seed = spec.seed ?? randomSeed();
  if (spec.evaluate !== undefined) checkField("evaluate", spec.evaluate, fields.evaluate);
  if (spec.validation !== undefined) checkField("validation", spec.validation, fields.validation);
  if (spec.validationSplit !== undefined) {
    checkField("validationSplit", spec.validationSplit, fields.validationSplit);
    check(spec.validation !== undefined, "validationSplit says how to pick the validation examples: give validation (how many) too");
  }
  const hasValidation = spec.validation !== undefined;
  if (spec.parallelism !== undefined) checkField("parallelism", spec.parallelism, fields.parallelism);
  if (spec.lambda !== undefined) checkLambda(spec.lambda);
  if (spec.momentum !== undefined) checkMomentum(spec.momentum);
  if (spec.dropout !== undefined) checkDropout(spec.dropout);
  if (spec.etaSchedule !== undefined) checkEtaSchedule(spec.etaSchedule);
  if (spec.monitor !== undefined) {
    check(Array.isArray(spec.monitor), `monitor must be a list such as ["training-accuracy", "test-cost"], got ${show(spec.monitor)}`);
    for (const flag of spec.monitor) checkOneOf("monitor", flag, monitorFlags);
    check(hasValidation || !spec.monitor.includes("validation-cost"), "monitor validation-cost needs a validation set: give validation (examples to hold out)");
  }
  if (spec.earlyStopping !== undefined) checkEarlyStopping(spec.earlyStopping);
  // they watch the validation accuracy when there is a validation set, else the test set's (as train() does)
  const watches = spec.earlyStopping !== undefined ? "earlyStopping" : spec.etaSchedule?.kind === "plateau" ? "a plateau etaSchedule" : undefined;
  const watched = spec.earlyStopping?.monitor ?? (hasValidation ? "validation" : "test");
  check(watches === undefined || watched !== "test" || spec.evaluate !== false, `${watches} watches the test accuracy: leave evaluate on, or give validation`);
  check(watched !== "validation" || hasValidation, `${watches ?? "earlyStopping"} monitors the validation accuracy: give validation (examples to hold out)`);
  if (spec.name !== undefined) checkField("name", spec.name, fields.name);

  const transfer: ArrayBuffer[] = [];
  const { data, summary: dataSummary, dataset, shape, examples } = prepareData(spec.data, limits, transfer);
  // a file's examples are counted when the job loads it (then the trainer checks again, exactly)
  checkJobWork(spec.epochs, examples ?? 1, limits.maxJobWork, examples !== undefined);
  // known now (named or inline data): refused at submit; a file's, by holdOut when the job loads it
  if (hasValidation && examples !== undefined) check(spec.validation! < examples, `validation ${spec.validation} leaves no training examples: the training set has ${examples}`);
  if (shape) {
    const out = sizes[sizes.length - 1]!;
    check(sizes[0] === shape.inputs, `layers[0] is ${sizes[0]}, but ${dataset} examples have ${shape.inputs} inputs`);
    if (shape.classes !== undefined) {
      check(shape.classes <= classCount(out), `layers[${sizes.length - 1}] is ${out}, but ${dataset} has ${shape.classes} classes`);
    } else {
      check(shape.targets === out, `layers[${sizes.length - 1}] is ${out}, but ${dataset} has ${shape.targets} targets per example`);
    }
  }

  // Fixed here too, so the job record says which initialisation its seed drew from.
  const init = spec.init ?? defaultInit;
  const rest = withoutUndefined(spec as JobSpec);
  const summary: JobSummary = { ...rest, data: dataSummary, dataset, seed, init, layers: [...sizes] };
  const prepared: PreparedSpec = { ...rest, layers: [...sizes], data, seed, init, summary };
  return { spec: prepared, transfer };
}

interface PreparedData {
  data: PreparedSpec["data"];
  summary: JobSummary["data"];
  dataset: string;
  /** The data's input and output sizes, when known without loading it. */
  shape?: { inputs: number; classes?: number; targets?: number };
  /** Training examples, when known without loading the data. */
  examples?: number;
}

function prepareData(ref: unknown, limits: SpecLimits, transfer: ArrayBuffer[]): PreparedData {
  check(isObject(ref), `data must be an object: { name: "mnist" }, { name: "fashion-mnist" }, { idx: folder }, { csv: file } or { inputs, labels }; got ${show(ref)}`);
  const fieldsOf = (kind: keyof typeof dataKinds): void => {
    const allowed = Object.keys(dataKinds[kind]);
    const extra = Object.keys(ref).find((k) => !allowed.includes(k));
    check(extra === undefined, `data has an unknown field ${show(extra)} for ${kind} data; its fields are ${allowed.join(", ")}`);
  };
  const optional = (kind: keyof typeof dataKinds, key: string): void => {
    if (ref[key] !== undefined) checkField(`data.${key}`, ref[key], (dataKinds[kind] as Record<string, FieldSchema>)[key]!);
  };
  const filePath = (key: string): string => {
    const v = ref[key];
    check(typeof v === "string" && v.length > 0, `data.${key} must be a non-empty path, got ${show(v)}`);
    return v;
  };
  // With a data folder: the file to read, and the path records show (relative to the folder).
  const located = (key: string): { file: string; shown: string } => {
    const given = filePath(key);
    if (limits.dataDir === undefined) return { file: given, shown: given };
    const root = path.resolve(limits.dataDir);
    const file = path.resolve(root, given);
    const relative = path.relative(root, file);
    check(relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative), `data.${key} must be a path inside the trainer's data folder, got ${show(given)}`);
    return { file, shown: relative.split(path.sep).join("/") };
  };

  if ("name" in ref) {
    fieldsOf("named");
    checkField("data.name", ref.name, dataKinds.named.name);
    optional("named", "limit");
    optional("named", "testLimit");
    const named = ref as unknown as NamedData;
    const copy = withoutUndefined({ name: named.name, limit: named.limit, testLimit: named.testLimit });
    const shape = knownShapes[named.name];
    const examples = Math.min(named.limit ?? shape.examples, shape.examples);
    return { data: copy, summary: copy, dataset: named.name, shape: { inputs: shape.inputs, classes: shape.classes }, examples };
  }
  if ("idx" in ref) {
    fieldsOf("IDX");
    const { file, shown } = located("idx");
    optional("IDX", "limit");
    optional("IDX", "testLimit");
    optional("IDX", "classes");
    const idx = ref as unknown as IdxData;
    const copy = withoutUndefined({ idx: file, limit: idx.limit, testLimit: idx.testLimit, classes: idx.classes });
    return { data: copy, summary: { ...copy, idx: shown }, dataset: shown };
  }
  if ("csv" in ref) {
    fieldsOf("CSV");
    const csvFile = located("csv");
    const testFile = ref.test === undefined ? undefined : located("test");
    const label = ref.labelColumn;
    if (typeof label === "number") checkInteger("data.labelColumn", label, 0);
    else check(label === undefined || typeof label === "string", `data.labelColumn must be a column name or a 0-based index, got ${show(label)}`);
    optional("CSV", "scale");
    optional("CSV", "classes");
    optional("CSV", "limit");
    optional("CSV", "testLimit");
    check(ref.header === undefined || ref.header === "auto" || typeof ref.header === "boolean", `data.header must be "auto", true or false, got ${show(ref.header)}`);
    const sep = ref.separator;
    check(sep === undefined || (typeof sep === "string" && [...sep].length === 1 && !/["\r\n]/.test(sep)), `data.separator must be one character (not a quote or a line break), got ${show(sep)}`);
    const csv = ref as unknown as CsvData;
    const copy = withoutUndefined({ ...csv, csv: csvFile.file, test: testFile?.file });
    return { data: copy, summary: withoutUndefined({ ...copy, csv: csvFile.shown, test: testFile?.shown }), dataset: csvFile.shown };
  }
  if ("inputs" in ref) {
    fieldsOf("inline");
    const inline = ref as unknown as InlineData;
    const train = flatten(inline, "data", transfer);
    let values = train.inputs.length + (train.targets?.length ?? train.count);
    let test: FlatExamples | undefined;
    if (inline.test !== undefined) {
      check(isObject(inline.test), `data.test must be an object { inputs, labels | targets }, got ${show(inline.test)}`);
      test = flatten(inline.test, "data.test", transfer);
      check(test.inputSize === train.inputSize, `data.test has ${test.inputSize} inputs per example, data has ${train.inputSize}`);
      values += test.inputs.length + (test.targets?.length ?? test.count);
    }
    check(values <= limits.maxInlineValues, `inline data holds ${values} numbers, more than this trainer's limit of ${limits.maxInlineValues}; give a file instead`);
    const dataset = `inline data (${train.count} examples)`;
    const classes = train.labels ? Math.max(train.classes ?? 0, test?.classes ?? 0) : undefined;
    const summary = { inline: withoutUndefined({ examples: train.count, inputSize: train.inputSize, testExamples: test?.count }) };
    const shape = classes !== undefined ? { inputs: train.inputSize, classes } : { inputs: train.inputSize, targets: train.targetSize! };
    return { data: { inline: test ? { train, test } : { train } }, summary, dataset, shape, examples: train.count };
  }
  throw new ValidationError(`data must have one of the fields name, idx, csv or inputs; got fields ${show(Object.keys(ref))}`);
}

/** Inline examples as typed arrays. Row lengths are checked here; values and labels in the trainer thread. */
function flatten(examples: InlineExamples, where: string, transfer: ArrayBuffer[]): FlatExamples {
  const [inputs, inputSize] = flatRows(examples.inputs, examples.inputSize, `${where}.inputs`, `${where}.inputSize`, transfer);
  const count = inputs.length / inputSize;
  check(count >= 1, `${where}.inputs has no examples`);
  const flat: FlatExamples = { count, inputSize, inputs };
  if (examples.labels !== undefined) {
    check(examples.targets === undefined, `${where}: give either labels or targets, not both`);
    const labels = examples.labels;
    check(isArrayLike(labels), `${where}.labels must be an array of class numbers, got ${show(labels)}`);
    check(labels.length === count, `${where}.labels has ${labels.length} labels for ${count} examples`);
    const out = new Int32Array(count);
    let largest = -1;
    for (let i = 0; i < count; i++) {
      const v = labels[i];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
        throw new ValidationError(`${where}.labels[${i}] is ${show(v)}, expected an integer ≥ 0`);
      }
      out[i] = v;
      largest = Math.max(largest, v);
    }
    if (examples.classes !== undefined) checkInteger(`${where}.classes`, examples.classes);
    flat.labels = out;
    flat.classes = examples.classes ?? largest + 1;
    transfer.push(out.buffer as ArrayBuffer);
  } else {
    check(examples.targets !== undefined, `${where} needs labels or targets`);
    const [targets, targetSize] = flatRows(examples.targets, examples.targetSize, `${where}.targets`, `${where}.targetSize`, transfer);
    check(targets.length === count * targetSize, `${where}.targets has ${targets.length / targetSize} rows for ${count} examples`);
    flat.targets = targets;
    flat.targetSize = targetSize;
  }
  return flat;
}

/**
 * Rows of numbers (or a flat Float32Array) as one Float32Array. A Float32Array over a
 * SharedArrayBuffer is used as it is (shared, not copied); other given Float32Arrays are copied, so
 * the caller's array stays usable; new arrays go into `transfer`.
 */
function flatRows(rows: unknown, width: unknown, where: string, widthName: string, transfer: ArrayBuffer[]): [Float32Array, number] {
  if (rows instanceof Float32Array) {
    checkInteger(widthName, width);
    check(rows.length % width === 0, `${where} holds ${rows.length} values, not a multiple of ${widthName} ${width}`);
    if (rows.buffer instanceof SharedArrayBuffer) return [rows, width];
    const copy = rows.slice();
    transfer.push(copy.buffer);
    return [copy, width];
  }
  check(Array.isArray(rows), `${where} must be an array of rows (arrays of numbers), got ${show(rows)}`);
  const first: unknown = rows[0];
  check(isArrayLike(first), `${where}[0] must be an array of numbers, got ${show(first)}`);
  check(width !== undefined || first.length > 0, `${where}[0] is empty`);
  const size = width ?? first.length;
  checkInteger(widthName, size);
  const flat = new Float32Array(rows.length * size);
  rows.forEach((row: unknown, i) => {
    check(isArrayLike(row), `${where}[${i}] must be an array of numbers, got ${show(row)}`);
    check(row.length === size, `${where}[${i}] has ${row.length} values, expected ${size} (as ${width === undefined ? `${where}[0]` : widthName})`);
    for (let k = 0; k < size; k++) {
      const v = row[k];
      if (typeof v !== "number") throw new ValidationError(`${where}[${i}][${k}] is ${show(v)}, expected a number`);
      flat[i * size + k] = v;
    }
  });
  transfer.push(flat.buffer);
  return [flat, size];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
