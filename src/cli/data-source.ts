import { stat } from "node:fs/promises";
import path from "node:path";
import { classCount } from "../core/classes.js";
import { outputSize, targetClass, type Dataset } from "../core/dataset.js";
import type { DType } from "../core/layout.js";
import { holdOut as splitOff, type ValidationSplit } from "../core/hold-out.js";
import { DataFileError } from "../data/errors.js";
import { loadSource, type DataSource } from "../data/source.js";
import { ValidationError } from "../core/errors.js";
import { UsageError } from "./errors.js";

/**
 * What `--data` and its companion flags ask for. `data` is `mnist` (the bundled digits),
 * `fashion-mnist` (the Debian package), a folder of the four standard IDX files, or a CSV file
 * (then `testData` may name a second CSV file as the test set). The names `mnist` and
 * `fashion-mnist` win over a folder of that name; write `./mnist` for the folder.
 */
export interface DataRequest {
  data: string;
  /** The type the values come in (the network's): float32 (default) or float64, exact (see src/data/source.ts). */
  dtype?: DType;
  /** Keep the first `limit` training examples. */
  limit?: number;
  /** Keep the first `testLimit` test examples. */
  testLimit?: number;
  /** CSV only: the test set. */
  testData?: string;
  /** CSV only: the label column, a header name or a 0-based column number. */
  labelColumn?: string;
  /** CSV only: every feature is divided by this. */
  scale?: number;
  /** CSV only: the field separator (default: detected). */
  separator?: string;
  /** CSV only: the classes text labels name, in order (a model's); default: the training file's sorted names. */
  classNames?: readonly string[];
}

/** The datasets a request resolved to. */
export interface LoadedData {
  /** How to name the data in messages and metadata: `mnist`, `fashion-mnist` or the path as given. */
  readonly name: string;
  readonly kind: "mnist" | "fashion-mnist" | "idx" | "csv";
  readonly train: Dataset;
  /** The test set, if the source has one. */
  readonly test?: Dataset;
  /** Names of the classes, when the source has them (Fashion-MNIST, a CSV file with text labels). */
  readonly classNames?: readonly string[];
  /** Number of classes: the size of the network's output layer. */
  readonly classes: number;
}

/** Loads the datasets `request` names. Missing or malformed files are DataFileErrors (exit 1). */
export async function loadData(request: DataRequest): Promise<LoadedData> {
  const { data, limit, testLimit } = request;
  const csvOnly = (["testData", "labelColumn", "scale", "separator"] as const).find((k) => request[k] !== undefined);
  const kind = await kindOf(data);
  if (kind !== "csv" && csvOnly !== undefined) {
    throw new UsageError(`${flagOf(csvOnly)} applies to CSV data only, but --data is ${data}`);
  }
  const source: DataSource =
    kind === "mnist" || kind === "fashion-mnist" ? { name: kind, limit, testLimit }
    : kind === "idx" ? { idx: data, limit, testLimit }
    : {
        csv: data,
        test: request.testData,
        labelColumn: request.labelColumn === undefined ? undefined : columnOf(request.labelColumn),
        scale: request.scale,
        separator: request.separator,
        classNames: request.classNames,
        limit,
        testLimit,
      };
  const { train, test, classNames } = await loadSource({ ...source, ...(request.dtype && { dtype: request.dtype }) });
  return withCount({ name: data, kind, train, ...(test && { test }), ...(classNames && { classNames }) });
}

/** Which kind of source `data` names: a keyword, a folder (IDX) or a file (CSV). */
async function kindOf(data: string): Promise<LoadedData["kind"]> {
  if (data === "mnist" || data === "fashion-mnist") return data;
  const info = await stat(data).catch(() => undefined);
  if (info === undefined) {
    throw new DataFileError(data, `${data}: no such file or folder (--data takes mnist, fashion-mnist, an IDX folder or a CSV file)`);
  }
  if (info.isDirectory()) return "idx";
  if (path.extname(data).toLowerCase() === ".csv") return "csv";
  throw new UsageError(`--data ${data}: expected mnist, fashion-mnist, a folder of IDX files or a .csv file`);
}

/** `--label-column 0` is a column number; anything else a header name. */
function columnOf(value: string): string | number {
  return /^\d+$/.test(value) ? Number(value) : value;
}

function flagOf(key: "testData" | "labelColumn" | "scale" | "separator"): string {
  return { testData: "--test-data", labelColumn: "--label-column", scale: "--scale", separator: "--separator" }[key];
}

/** Adds the class count: the larger of the two sets' (a CSV test file may lack the top class). */
function withCount(loaded: Omit<LoadedData, "classes">): LoadedData {
  const classes = Math.max(outputSize(loaded.train), loaded.test ? outputSize(loaded.test) : 0);
  return { ...loaded, classes };
}

export type { ValidationSplit } from "../core/hold-out.js";

/**
 * Splits `n` training examples off as a validation set, as `split` says, after `--limit`
 * (core/hold-out.ts), with the flag's name in the message when none would be left to train on.
 */
export function holdOut(train: Dataset, n: number, split: ValidationSplit, seed: number): { train: Dataset; validation: Dataset } {
  if (n >= train.count) {
    throw new UsageError(`--validation ${n} leaves no training examples: the training set has ${train.count}`);
  }
  return splitOff(train, n, split, seed);
}

/** The classes of `other`'s examples that no example of `train` has, in increasing order. */
export function classesMissing(train: Dataset, other: Dataset): number[] {
  const seen = new Set<number>();
  for (let i = 0; i < train.count; i++) seen.add(targetClass(train, i));
  const missing = new Set<number>();
  for (let i = 0; i < other.count; i++) {
    const c = targetClass(other, i);
    if (!seen.has(c)) missing.add(c);
  }
  return [...missing].sort((a, b) => a - b);
}

/** Throws a ValidationError unless `net` takes the data's inputs and has an output per class (or one output for two classes). */
export function checkModelFits(sizes: readonly number[], data: LoadedData, model: string): void {
  const inputs = sizes[0]!;
  const outputs = sizes[sizes.length - 1]!;
  if (inputs !== data.train.inputSize) {
    throw new ValidationError(`${model} takes ${inputs} inputs, but ${data.name} has ${data.train.inputSize} per example`);
  }
  if (classCount(outputs) < data.classes) {
    throw new ValidationError(`${model} has ${outputs} outputs, but ${data.name} has ${data.classes} classes`);
  }
}
