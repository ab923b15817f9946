import { predictedClass } from "./classes.js";
import { check, show, ValidationError } from "./errors.js";
import type { DType } from "./layout.js";

/** A dataset's values: float32 (the default), or float64 for a float64 network that should see its data unrounded. */
export type DataValues = Float32Array | Float64Array;

/**
 * Training or test examples. Inputs are one row-major typed array (count × inputSize), so a
 * dataset can be copied into shared memory in one piece. Targets are either class labels
 * (turned into one-hot vectors on the fly) or explicit target vectors. A Float64Array dataset
 * keeps float64 values for a float64 network (a float32 network's run rounds them to float32).
 */
export interface Dataset {
  readonly count: number;
  readonly inputSize: number;
  /** count × inputSize values, example i at [i·inputSize, (i+1)·inputSize). */
  readonly inputs: DataValues;
  readonly targets: Targets;
}

/** Class labels 0 … classes−1, or count × size target vectors. */
export type Targets =
  | { readonly kind: "labels"; readonly labels: Int32Array; readonly classes: number }
  | { readonly kind: "vectors"; readonly vectors: DataValues; readonly size: number };

/** What {@link createDataset} accepts: arrays of rows or flat typed arrays, with labels or target vectors. */
export interface DatasetInit {
  /** One row per example, or a flat row-major array (then `inputSize` is required). */
  inputs: ArrayLike<number>[] | DataValues;
  inputSize?: number;
  /**
   * The type rows are stored in: `"float32"` (default) or `"float64"` (exact for a float64
   * network). A flat typed array keeps its own type.
   */
  dtype?: DType;
  /** Class label per example (give this or `targets`). */
  labels?: ArrayLike<number>;
  /** Number of classes (default: largest label + 1). */
  classes?: number;
  /** Target vector per example, or a flat row-major array (then `targetSize` is required). */
  targets?: ArrayLike<number>[] | DataValues;
  targetSize?: number;
}

/** The largest class label a dataset can hold (labels are stored in an Int32Array). */
export const MAX_LABEL = 0x7fffffff;

/** Length of the network output a dataset's targets need. */
export function outputSize(data: Dataset): number {
  return data.targets.kind === "labels" ? data.targets.classes : data.targets.size;
}

/**
 * Builds and validates a dataset; the error names the first bad example. Rows are copied into one
 * Float32Array (or Float64Array, with `dtype: "float64"`); a flat Float32Array or Float64Array given
 * as `inputs` or `targets` is used as it is, not copied.
 */
export function createDataset(init: DatasetInit): Dataset {
  const dtype = init.dtype ?? "float32";
  check(dtype === "float32" || dtype === "float64", `dtype must be float32 or float64, got ${show(dtype)}`);
  const [inputs, inputSize, count] = flatten("input", init.inputs, init.inputSize, dtype);
  let targets: Targets;
  if (init.labels !== undefined) {
    check(init.targets === undefined, "give either labels or targets, not both");
    const labels = Int32Array.from(init.labels as ArrayLike<number>, (v) => v);
    // Int32Array.from coerces: check the originals so 2.5 or NaN are not silently truncated
    for (let i = 0; i < init.labels.length; i++) {
      const v = init.labels[i];
      if (!Number.isInteger(v)) throw new ValidationError(`label ${show(v)} is not an integer at example ${i}`);
      if ((v as number) > MAX_LABEL) throw new ValidationError(`label ${v} is too large (at most ${MAX_LABEL}) at example ${i}`);
    }
    let classes = init.classes;
    if (classes === undefined) classes = labels.reduce((m, v) => Math.max(m, v), -1) + 1;
    targets = { kind: "labels", labels, classes };
  } else {
    check(init.targets !== undefined, "a dataset needs labels or targets");
    const [vectors, size] = flatten("target", init.targets, init.targetSize, dtype);
    targets = { kind: "vectors", vectors, size };
  }
  const data: Dataset = { count, inputSize, inputs, targets };
  validateDataset(data);
  return data;
}

function flatten(
  what: string,
  rows: ArrayLike<number>[] | DataValues,
  width: number | undefined,
  dtype: DType,
): [DataValues, number, number] {
  if (rows instanceof Float32Array || rows instanceof Float64Array) {
    check(
      typeof width === "number" && Number.isInteger(width) && width > 0,
      `${what}Size must be a positive integer when ${what}s is a flat ${rows.constructor.name}, got ${show(width)}`,
    );
    return [rows, width, rows.length / width];
  }
  check(Array.isArray(rows), `${what}s must be an array of rows, a Float32Array or a Float64Array`);
  const size = width ?? rows[0]?.length ?? 0;
  const flat = dataValues(dtype, rows.length * size);
  rows.forEach((row, i) => {
    check(row != null && typeof row.length === "number", `${what}s of example ${i} is not an array`);
    check(row.length === size, `example ${i} has ${row.length} ${what}s, expected ${size}`);
    for (let k = 0; k < size; k++) flat[i * size + k] = Number(row[k]);
  });
  return [flat, size, rows.length];
}

/**
 * Checks shapes, finite values and label range, naming the first bad example:
 * `label 11 out of range 0..9 at example 3`.
 */
export function validateDataset(data: Dataset, name = "dataset"): void {
  check(data != null && typeof data === "object", `${name} must be a Dataset, got ${show(data)}`);
  const { count, inputSize, inputs, targets } = data;
  check(isValues(inputs), `${name}: inputs must be a Float32Array or a Float64Array`);
  check(targets != null && typeof targets === "object", `${name}: targets must be labels or vectors, got ${show(targets)}`);
  check(targets.kind === "labels" ? targets.labels instanceof Int32Array : targets.kind === "vectors" && isValues(targets.vectors),
    `${name}: targets must be { kind: "labels", labels: Int32Array } or { kind: "vectors", vectors: Float32Array or Float64Array }`);
  check(Number.isInteger(inputSize) && inputSize > 0, `${name}: inputSize must be a positive integer, got ${show(inputSize)}`);
  check(Number.isInteger(count) && count >= 0, `${name}: inputs length ${inputs.length} is not a multiple of inputSize ${inputSize}`);
  check(inputs.length === count * inputSize, `${name}: inputs hold ${inputs.length} values, expected ${count} × ${inputSize}`);
  const badInput = firstNonFinite(inputs);
  if (badInput >= 0) {
    const i = Math.floor(badInput / inputSize);
    throw new ValidationError(`${name}: input ${badInput % inputSize} of example ${i} is ${inputs[badInput]}, expected a finite number`);
  }
  if (targets.kind === "labels") {
    const { labels, classes } = targets;
    check(Number.isInteger(classes) && classes >= 1, `${name}: classes must be a positive integer, got ${show(classes)}`);
    check(labels.length === count, `${name}: ${labels.length} labels for ${count} examples`);
    for (let i = 0; i < count; i++) {
      const v = labels[i]!;
      if (v < 0 || v >= classes) throw new ValidationError(`${name}: label ${v} out of range 0..${classes - 1} at example ${i}`);
    }
  } else {
    const { vectors, size } = targets;
    check(Number.isInteger(size) && size > 0, `${name}: target size must be a positive integer, got ${show(size)}`);
    check(vectors.length === count * size, `${name}: targets hold ${vectors.length} values, expected ${count} × ${size}`);
    const bad = firstNonFinite(vectors);
    if (bad >= 0) {
      throw new ValidationError(`${name}: target ${bad % size} of example ${Math.floor(bad / size)} is ${vectors[bad]}, expected a finite number`);
    }
  }
}

const isValues = (v: unknown): v is DataValues => v instanceof Float32Array || v instanceof Float64Array;

/** A zeroed array of `length` values of this type. */
export function dataValues(dtype: DType, length: number): DataValues {
  return dtype === "float64" ? new Float64Array(length) : new Float32Array(length);
}

/** The type of a dataset's values. */
export function dataType(data: Dataset): DType {
  return data.inputs instanceof Float64Array ? "float64" : "float32";
}

/**
 * The dataset with its values rounded to float32 (a copy), as a float32 network's run takes a
 * float64 dataset: so that every path — in process, on threads, on either kernel — sees the same
 * inputs. A float32 dataset is returned as it is.
 */
export function asFloat32(data: Dataset): Dataset {
  if (dataType(data) === "float32" && (data.targets.kind === "labels" || data.targets.vectors instanceof Float32Array)) return data;
  const t = data.targets;
  const targets: Targets = t.kind === "labels" ? t : { ...t, vectors: Float32Array.from(t.vectors) };
  return { ...data, inputs: Float32Array.from(data.inputs), targets };
}

function firstNonFinite(values: DataValues): number {
  // A sum of finite float32 values is finite in float64 (it cannot overflow), and a NaN or ±∞ makes
  // it NaN or ±∞: one quick pass (four independent sums, which pipeline: ~3× faster than testing
  // each value), and the search for the first bad value only when there is one (float64 values
  // can overflow the sum: then the search finds none).
  let a = 0, b = 0, c = 0, d = 0;
  const end = values.length - (values.length % 4);
  for (let i = 0; i < end; i += 4) {
    a += values[i]!;
    b += values[i + 1]!;
    c += values[i + 2]!;
    d += values[i + 3]!;
  }
  for (let i = end; i < values.length; i++) a += values[i]!;
  if (Number.isFinite(a + b + c + d)) return -1;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
  return -1;
}

/**
 * Writes example i's target vector into y: one-hot for labels, or for a one-output network (y of
 * length 1, a binary classifier) the label itself, 0 or 1.
 */
export function fillTarget(data: Dataset, i: number, y: Float64Array): void {
  const t = data.targets;
  if (t.kind === "labels") {
    if (y.length === 1) {
      y[0] = t.labels[i]!;
      return;
    }
    y.fill(0);
    y[t.labels[i]!] = 1;
  } else {
    for (let j = 0; j < t.size; j++) y[j] = t.vectors[i * t.size + j]!;
  }
}

/** Example i's class: its label, or the class its target vector stands for (a single target: 1 when ≥ 0.5). */
export function targetClass(data: Dataset, i: number): number {
  const t = data.targets;
  if (t.kind === "labels") return t.labels[i]!;
  return predictedClass(t.vectors, i * t.size, t.size);
}

/** The examples [start, end) as a new dataset sharing no memory with the original. */
export function sliceDataset(data: Dataset, start: number, end: number = data.count): Dataset {
  const s = Math.max(0, Math.min(start, data.count));
  const e = Math.max(s, Math.min(end, data.count));
  const inputs = data.inputs.slice(s * data.inputSize, e * data.inputSize);
  const t = data.targets;
  const targets: Targets =
    t.kind === "labels"
      ? { kind: "labels", labels: t.labels.slice(s, e), classes: t.classes }
      : { kind: "vectors", vectors: t.vectors.slice(s * t.size, e * t.size), size: t.size };
  return { count: e - s, inputSize: data.inputSize, inputs, targets };
}

/** The examples at `indices`, in that order, as a new dataset sharing no memory with the original. */
export function pickExamples(data: Dataset, indices: ArrayLike<number>): Dataset {
  const n = data.inputSize;
  const inputs = dataValues(dataType(data), indices.length * n);
  const t = data.targets;
  const labels = t.kind === "labels" ? new Int32Array(indices.length) : undefined;
  const vectors = t.kind === "vectors" ? (t.vectors instanceof Float64Array ? new Float64Array(indices.length * t.size) : new Float32Array(indices.length * t.size)) : undefined;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    inputs.set(data.inputs.subarray(i * n, (i + 1) * n), k * n);
    if (t.kind === "labels") labels![k] = t.labels[i]!;
    else vectors!.set(t.vectors.subarray(i * t.size, (i + 1) * t.size), k * t.size);
  }
  const targets: Targets =
    t.kind === "labels" ? { kind: "labels", labels: labels!, classes: t.classes } : { kind: "vectors", vectors: vectors!, size: t.size };
  return { count: indices.length, inputSize: n, inputs, targets };
}

/**
 * A training and a test set whose labels count the same classes, the larger of their two counts (a
 * set of target vectors counts its vector size and is returned as it is), so that one network's
 * output layer fits both.
 */
export function withCommonClasses(split: { train: Dataset; test: Dataset }): { train: Dataset; test: Dataset } {
  const classes = Math.max(outputSize(split.train), outputSize(split.test));
  return { train: withClasses(split.train, classes), test: withClasses(split.test, classes) };
}

function withClasses(data: Dataset, classes: number): Dataset {
  if (data.targets.kind !== "labels" || data.targets.classes === classes) return data;
  return { ...data, targets: { ...data.targets, classes } };
}
