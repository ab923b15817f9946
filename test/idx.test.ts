import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import type { Dataset } from "../src/core/dataset.js";
import { ValidationError } from "../src/core/errors.js";
import { DataFileError } from "../src/data/errors.js";
import { fashionMnistClasses, fashionMnistDirectory, loadFashionMnist } from "../src/data/fashion-mnist.js";
import { findIdxFiles, loadIdxDataset, loadIdxFolder, readIdxImages, readIdxLabels } from "../src/data/idx.js";

const dir = mkdtempSync(path.join(tmpdir(), "shoal-idx-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An IDX header: 0, 0, type, ndims, then the sizes as big-endian uint32. */
function header(type: number, dims: number[]): Buffer {
  const b = Buffer.alloc(4 + 4 * dims.length);
  b[2] = type;
  b[3] = dims.length;
  dims.forEach((d, k) => b.writeUInt32BE(d, 4 + 4 * k));
  return b;
}
const images = (count: number, rows: number, cols: number, pixels: number[]): Buffer =>
  Buffer.concat([header(0x08, [count, rows, cols]), Buffer.from(pixels)]);
const labels = (values: number[]): Buffer => Buffer.concat([header(0x08, [values.length]), Buffer.from(values)]);

let fileNo = 0;
/** Writes bytes to a fresh file in the temp dir and returns its path. */
function write(bytes: Buffer, name = `f${fileNo++}`): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

function labelsOf(data: Dataset): { labels: number[]; classes: number } {
  if (data.targets.kind !== "labels") throw new Error("expected labels");
  return { labels: Array.from(data.targets.labels), classes: data.targets.classes };
}

/** The error `promise` rejects with; fails the test if it resolves. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

// three 2×2 images and their labels
const PIXELS = [0, 255, 51, 102, /**/ 255, 0, 0, 0, /**/ 1, 2, 3, 4];
const LABELS = [2, 0, 1];
const SCALED = PIXELS.map((p) => Math.fround(p / 255));

describe("readIdxImages / readIdxLabels", () => {
  it("reads the header sizes and the raw bytes", async () => {
    const img = await readIdxImages(write(images(3, 2, 2, PIXELS)));
    expect([img.count, img.rows, img.cols]).toEqual([3, 2, 2]);
    expect(Array.from(img.pixels)).toEqual(PIXELS);
    const lab = await readIdxLabels(write(labels(LABELS)));
    expect(lab.count).toBe(3);
    expect(Array.from(lab.labels)).toEqual(LABELS);
  });

  it("reads gzipped files, by .gz name or by the gzip magic bytes alone", async () => {
    const named = await readIdxImages(write(gzipSync(images(3, 2, 2, PIXELS)), "images.gz"));
    const unnamed = await readIdxImages(write(gzipSync(images(3, 2, 2, PIXELS)), "images-no-suffix"));
    expect(Array.from(named.pixels)).toEqual(PIXELS);
    expect(Array.from(unnamed.pixels)).toEqual(PIXELS);
  });
});

describe("loadIdxDataset", () => {
  const imgFile = write(images(3, 2, 2, PIXELS), "three-images");
  const labFile = write(gzipSync(labels(LABELS)), "three-labels.gz");

  it("scales pixels to [0, 1] and keeps the labels", async () => {
    const data = await loadIdxDataset(imgFile, labFile);
    expect(data.count).toBe(3);
    expect(data.inputSize).toBe(4);
    expect(Array.from(data.inputs)).toEqual(SCALED);
    expect(labelsOf(data)).toEqual({ labels: LABELS, classes: 3 });
  });

  it("limit keeps the first N examples; the default class count still comes from the whole file", async () => {
    const data = await loadIdxDataset(imgFile, labFile, { limit: 2 });
    expect(data.count).toBe(2);
    expect(Array.from(data.inputs)).toEqual(SCALED.slice(0, 8));
    expect(labelsOf(data)).toEqual({ labels: [2, 0], classes: 3 });
    expect((await loadIdxDataset(imgFile, labFile, { limit: 0 })).count).toBe(0);
    expect((await loadIdxDataset(imgFile, labFile, { limit: 99 })).count).toBe(3);
  });

  it("uses an explicit class count", async () => {
    expect(labelsOf(await loadIdxDataset(imgFile, labFile, { classes: 10 })).classes).toBe(10);
  });

  it("rejects a label ≥ classes, naming the file, label and index", async () => {
    const err = await failure(loadIdxDataset(imgFile, labFile, { classes: 2 }));
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toBe(`${labFile}: label 2 at index 0 is out of range 0..1 (classes: 2)`);
  });

  it("rejects image and label counts that differ, naming both files", async () => {
    const fewer = write(labels([1, 0]));
    const err = await failure(loadIdxDataset(imgFile, fewer));
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toBe(`${imgFile}: 3 images, but ${fewer} has 2 labels; the counts must match`);
  });

  it("validates its options", async () => {
    await expect(loadIdxDataset(imgFile, labFile, { limit: -1 })).rejects.toThrow(ValidationError);
    await expect(loadIdxDataset(imgFile, labFile, { classes: 0 })).rejects.toThrow("options.classes must be a positive integer, got 0");
  });
});

describe("IDX file errors name the file and what is wrong", () => {
  it("bad magic number", async () => {
    const file = write(Buffer.from([0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7]));
    const err = await failure(readIdxImages(file));
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toBe(`${file}: not an IDX file: magic number 305419896 (0x12345678), expected 2051 (0x00000803, IDX images)`);
    expect((err as DataFileError).file).toBe(file);
  });

  it("a labels file where images are expected, and the other way round", async () => {
    const labFile = write(labels([1, 2]));
    expect((await failure(readIdxImages(labFile))).message).toBe(
      `${labFile}: magic number 2049 (0x00000801) declares 1 dimensions, expected 2051 (0x00000803, IDX images) with 3; this looks like an IDX labels file`,
    );
    const imgFile = write(images(1, 1, 1, [5]));
    expect((await failure(readIdxLabels(imgFile))).message).toMatch(/this looks like an IDX images file$/);
  });

  it("a data type other than unsigned byte is unsupported", async () => {
    const file = write(Buffer.concat([header(0x0d, [1, 1, 1]), Buffer.alloc(4)]));
    expect((await failure(readIdxImages(file))).message).toBe(
      `${file}: unsupported IDX data type 0x0d (float): only 0x08 (unsigned byte) is supported`,
    );
  });

  it("truncated data", async () => {
    const file = write(Buffer.concat([header(0x08, [60000, 28, 28]), Buffer.alloc(1000)]));
    const err = await failure(readIdxImages(file));
    expect(err.message).toBe(
      `${file}: truncated: header declares 60000 images of 28×28 = 47040000 bytes, file has 1000 bytes after the header`,
    );
    const gz = write(gzipSync(labels([1, 2, 3]).subarray(0, 10)), "short-labels.gz");
    expect((await failure(readIdxLabels(gz))).message).toBe(
      `${gz}: truncated: header declares 3 labels = 3 bytes, file has 2 bytes after the header (decompressed)`,
    );
  });

  it("a gzip bomb: a small .gz that inflates far past its header's size is refused without inflating it all", async () => {
    const bomb = gzipSync(Buffer.concat([labels([1, 2, 3]), Buffer.alloc(64 << 20)]));
    expect(bomb.length).toBeLessThan(1 << 20);
    const file = write(bomb, "bomb-labels.gz");
    const before = process.memoryUsage().arrayBuffers;
    const message = (await failure(readIdxLabels(file))).message;
    expect(message).toMatch(
      new RegExp(`^${file.replace(/[.\\]/g, "\\$&")}: header declares 3 bytes after the header, but the decompressed data is longer \\(stopped decompressing at \\d+\\)$`),
    );
    expect(Number(/at (\d+)\)$/.exec(message)![1])).toBeLessThan(2 << 20);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 << 20);
  });

  it("a 4 GiB gzip bomb (4 MB on disk) stops inflating just past its header's size: fast, in bounded memory", async () => {
    // gzip members concatenated inflate to one stream: a valid 3-label file, then 64 × 64 MiB of zeros
    const zeros = gzipSync(Buffer.alloc(64 << 20), { level: 9 });
    const bomb = Buffer.concat([gzipSync(labels([1, 2, 3])), ...Array<Buffer>(64).fill(zeros)]);
    expect(bomb.length).toBeLessThan(8 << 20);
    const file = write(bomb, "4gib-bomb-labels.gz");
    const before = process.memoryUsage().arrayBuffers;
    const start = performance.now();
    const message = (await failure(readIdxLabels(file))).message;
    // inflating all 4 GiB takes seconds and more memory than a buffer can hold
    expect(performance.now() - start).toBeLessThan(2000);
    expect(message).toMatch(/: header declares 3 bytes after the header, but the decompressed data is longer \(stopped decompressing at \d+\)$/);
    expect(Number(/at (\d+)\)$/.exec(message)![1])).toBeLessThan(2 << 20);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 << 20);
  });

  it("a file shorter than its header", async () => {
    const file = write(header(0x08, [3, 28, 28]).subarray(0, 10));
    expect((await failure(readIdxImages(file))).message).toBe(`${file}: truncated: 10 bytes, an IDX images header needs 16`);
  });

  it("bytes beyond the declared size", async () => {
    const file = write(Buffer.concat([header(0x08, [2]), Buffer.from([1, 2, 3, 4])]));
    expect((await failure(readIdxLabels(file))).message).toBe(
      `${file}: header declares 2 labels = 2 bytes, but file has 4 bytes after the header (2 extra)`,
    );
  });

  it("huge declared sizes on a 30-byte file fail at once, without allocating them", async () => {
    const max = 0xffffffff;
    const file = write(Buffer.concat([header(0x08, [max, max, max]), Buffer.alloc(14)]));
    const before = process.memoryUsage().arrayBuffers;
    const start = performance.now();
    const err = await failure(readIdxImages(file));
    expect(performance.now() - start).toBeLessThan(1000);
    expect(err).toBeInstanceOf(DataFileError); // an attempted allocation would be a RangeError instead
    const declared = BigInt(max) ** 3n;
    expect(err.message).toBe(
      `${file}: truncated: header declares ${max} images of ${max}×${max} = ${declared} bytes, file has 14 bytes after the header`,
    );
    // 60000 × 28 × 28 is allocatable (188 MB as float32), so this one shows the size check comes first
    const mnistSized = write(Buffer.concat([header(0x08, [60000, 28, 28]), Buffer.alloc(14)]));
    await expect(loadIdxDataset(mnistSized, write(labels([])))).rejects.toThrow(/truncated/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it("zero-sized images", async () => {
    const file = write(header(0x08, [5, 0, 28]));
    expect((await failure(readIdxImages(file))).message).toBe(`${file}: images are 0×28, expected at least 1×1`);
  });

  it("a missing file", async () => {
    const file = path.join(dir, "does-not-exist");
    const err = await failure(readIdxLabels(file));
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toBe(`${file}: no such file`);
  });

  it("a .gz file that is not gzip data", async () => {
    const file = write(labels([1]), "not-really.gz");
    expect((await failure(readIdxLabels(file))).message).toMatch(
      new RegExp(`^${file.replace(/[.\\]/g, "\\$&")}: cannot decompress gzip data: .+`),
    );
  });
});

describe("loadIdxFolder", () => {
  /** A folder with the four standard files; `gz` picks which are gzipped. */
  function folder(name: string, testLabels: number[], gz = false): string {
    const d = path.join(dir, name);
    rmSync(d, { recursive: true, force: true });
    const put = (file: string, bytes: Buffer): void => {
      writeFileSync(path.join(d, gz ? `${file}.gz` : file), gz ? gzipSync(bytes) : bytes);
    };
    mkdirSync(d);
    put("train-images-idx3-ubyte", images(3, 2, 2, PIXELS));
    put("train-labels-idx1-ubyte", labels(LABELS));
    put("t10k-images-idx3-ubyte", images(testLabels.length, 2, 2, testLabels.flatMap((l) => [l, l, l, l])));
    put("t10k-labels-idx1-ubyte", labels(testLabels));
    return d;
  }

  it("loads train and test sets from raw or gzipped standard names", async () => {
    for (const gz of [false, true]) {
      const { train, test } = await loadIdxFolder(folder(`std-${gz}`, [1, 0], gz));
      expect(Array.from(train.inputs)).toEqual(SCALED);
      expect(labelsOf(train)).toEqual({ labels: LABELS, classes: 3 });
      expect(test.count).toBe(2);
      expect(Array.from(test.inputs)).toEqual([1, 1, 1, 1, 0, 0, 0, 0].map((p) => Math.fround(p / 255)));
    }
  });

  it("applies limit and testLimit, and gives both sets the same class count", async () => {
    const { train, test } = await loadIdxFolder(folder("limits", [4, 0, 1]), { limit: 1, testLimit: 2 });
    expect(labelsOf(train)).toEqual({ labels: [2], classes: 5 });
    expect(labelsOf(test)).toEqual({ labels: [4, 0], classes: 5 });
  });

  it("finds the dotted names some MNIST copies use", async () => {
    const d = folder("dotted", [1]);
    for (const base of ["train-images", "train-labels", "t10k-images", "t10k-labels"]) {
      const kind = base.endsWith("images") ? "idx3" : "idx1";
      renameSync(path.join(d, `${base}-${kind}-ubyte`), path.join(d, `${base}.${kind}-ubyte`));
    }
    const files = await findIdxFiles(d);
    expect(files.trainImages).toBe(path.join(d, "train-images.idx3-ubyte"));
    expect((await loadIdxFolder(d)).train.count).toBe(3);
  });

  it("names a missing file, and what the folder must hold", async () => {
    const d = folder("missing", [1]);
    rmSync(path.join(d, "t10k-labels-idx1-ubyte"));
    expect((await failure(loadIdxFolder(d))).message).toBe(
      `${d}: no t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz; an IDX folder holds train-images-idx3-ubyte, ` +
        "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each optionally .gz)",
    );
    const nowhere = path.join(dir, "no-such-folder");
    expect((await failure(loadIdxFolder(nowhere))).message).toBe(`${nowhere}: no such folder`);
  });

  it("rejects test images of another size than the training images", async () => {
    const d = folder("sizes", [1]);
    writeFileSync(path.join(d, "t10k-images-idx3-ubyte"), images(1, 3, 3, [0, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect((await failure(loadIdxFolder(d))).message).toBe(
      `${path.join(d, "t10k-images-idx3-ubyte")}: images have 9 pixels, but the training images ${path.join(d, "train-images-idx3-ubyte")} have 4`,
    );
  });
});

// The Debian package dataset-fashion-mnist is part of the test environment (.ci/run installs it).
describe("Fashion-MNIST from the Debian package", () => {
  it("says how to install it when the folder is missing", async () => {
    const nowhere = path.join(dir, "fashion-nowhere");
    const err = await failure(loadFashionMnist({ dir: nowhere }));
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toBe(`Fashion-MNIST not found at ${nowhere}: install it with apt-get install dataset-fashion-mnist`);
  });

  it("loads a 5,000 / 1,000 slice: 784 pixels in [0, 1], labels 0..9", async () => {
    const { train, test } = await loadFashionMnist({ limit: 5000, testLimit: 1000 });
    expect([train.count, train.inputSize, test.count, test.inputSize]).toEqual([5000, 784, 1000, 784]);
    const trainLabels = labelsOf(train);
    expect(trainLabels.classes).toBe(10);
    expect(labelsOf(test).classes).toBe(10);
    // the first labels of the files, read independently with Python's gzip module
    expect(trainLabels.labels.slice(0, 10)).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(labelsOf(test).labels.slice(0, 10)).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    expect(new Set(trainLabels.labels)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    let min = Infinity;
    let max = -Infinity;
    for (const v of train.inputs) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect([min, max]).toEqual([0, 1]);
    // image 0 (an ankle boot): its bytes sum to 76247
    const first = Array.from(train.inputs.subarray(0, 784)).reduce((s, v) => s + v, 0);
    expect(first).toBeCloseTo(76247 / 255, 2);
    expect(fashionMnistClasses[trainLabels.labels[0]!]).toBe("Ankle boot");
  });

  it("holds 60,000 training labels and 10,000 test examples, 1,000 per class", async () => {
    const files = await findIdxFiles(fashionMnistDirectory);
    expect((await readIdxLabels(files.trainLabels)).count).toBe(60000);
    const test = await loadIdxDataset(files.testImages, files.testLabels);
    expect(test.count).toBe(10000);
    const perClass = new Array<number>(10).fill(0);
    for (const l of labelsOf(test).labels) perClass[l]!++;
    expect(perClass).toEqual(new Array(10).fill(1000));
  });
});
