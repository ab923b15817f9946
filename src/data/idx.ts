import { constants } from "node:buffer";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { createGunzip } from "node:zlib";
import { dataValues, withCommonClasses, type Dataset } from "../core/dataset.js";
import { checkInteger, checkOneOf } from "../core/errors.js";
import { dtypes, type DType } from "../core/layout.js";
import { DataFileError, readDataFile } from "./errors.js";

/**
 * The IDX format (LeCun's MNIST files): a big-endian header, then the data.
 *   bytes 0–1  zero
 *   byte  2    data type (0x08 = unsigned byte, the only one MNIST-style files use)
 *   byte  3    number of dimensions d
 *   then d big-endian uint32 sizes, then the values row-major.
 * So images are magic 0x00000803 = 2051 (count × rows × cols) and labels 0x00000801 = 2049 (count).
 */
export const idxMagic = { images: 0x00000803, labels: 0x00000801 } as const;

const typeNames: Record<number, string> = {
  0x08: "unsigned byte",
  0x09: "signed byte",
  0x0b: "16-bit integer",
  0x0c: "32-bit integer",
  0x0d: "float",
  0x0e: "double",
};

/** An IDX image file: `pixels` holds count × rows × cols bytes 0 … 255, image i at [i·rows·cols, (i+1)·rows·cols). */
export interface IdxImages {
  readonly file: string;
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  readonly pixels: Uint8Array;
}

/** An IDX label file: one byte per example. */
export interface IdxLabels {
  readonly file: string;
  readonly count: number;
  readonly labels: Uint8Array;
}

/** Reads and validates an IDX image file (magic 2051), raw or gzipped. */
export async function readIdxImages(file: string): Promise<IdxImages> {
  const { dims, data } = await readIdx(file, "images");
  const [count, rows, cols] = dims as [number, number, number];
  if (rows === 0 || cols === 0) throw new DataFileError(file, `${file}: images are ${rows}×${cols}, expected at least 1×1`);
  return { file, count, rows, cols, pixels: data };
}

/** Reads and validates an IDX label file (magic 2049), raw or gzipped. */
export async function readIdxLabels(file: string): Promise<IdxLabels> {
  const { dims, data } = await readIdx(file, "labels");
  return { file, count: dims[0]!, labels: data };
}

/** Options of {@link loadIdxDataset}. */
export interface IdxDatasetOptions {
  /** Number of classes (default: largest label in the whole file + 1). A larger label is an error. */
  classes?: number;
  /** Keep only the first `limit` examples (default: all). */
  limit?: number;
  /** The type of the inputs: `"float32"` (default) or `"float64"` (each byte ÷ 255 exactly, for a float64 network). */
  dtype?: DType;
}

/**
 * An IDX image file and its label file as a dataset: inputs are the pixels scaled to [0, 1]
 * (÷ 255), rows × cols per example; targets are the labels. Both files are validated in full,
 * also when `limit` keeps only a few examples.
 */
export async function loadIdxDataset(
  imagesPath: string,
  labelsPath: string,
  options: IdxDatasetOptions = {},
): Promise<Dataset> {
  const { limit } = options;
  if (options.classes !== undefined) checkInteger("options.classes", options.classes);
  if (options.dtype !== undefined) checkOneOf("options.dtype", options.dtype, dtypes);
  if (limit !== undefined) checkInteger("options.limit", limit, 0);
  const [images, labels] = await Promise.all([readIdxImages(imagesPath), readIdxLabels(labelsPath)]);
  if (images.count !== labels.count) {
    throw new DataFileError(
      imagesPath,
      `${imagesPath}: ${images.count} images, but ${labelsPath} has ${labels.count} labels; the counts must match`,
    );
  }
  // at least one class, so that an empty label file still gives a valid (empty) dataset
  const classes = options.classes ?? Math.max(1, labels.labels.reduce((m, v) => Math.max(m, v), -1) + 1);
  const bad = labels.labels.findIndex((v) => v >= classes);
  if (bad >= 0) {
    throw new DataFileError(
      labelsPath,
      `${labelsPath}: label ${labels.labels[bad]} at index ${bad} is out of range 0..${classes - 1} (classes: ${classes})`,
    );
  }
  const count = Math.min(images.count, limit ?? images.count);
  const inputSize = images.rows * images.cols;
  const inputs = dataValues(options.dtype ?? "float32", count * inputSize);
  for (let i = 0; i < inputs.length; i++) inputs[i] = images.pixels[i]! / 255;
  return {
    count,
    inputSize,
    inputs,
    targets: { kind: "labels", labels: new Int32Array(labels.labels.subarray(0, count)), classes },
  };
}

/**
 * The standard file names of an IDX dataset folder (MNIST, Fashion-MNIST). Each may also end in
 * `.gz`, or use a dot before `idx` (`train-images.idx3-ubyte`, as some re-distributions of MNIST do).
 */
export const idxFileNames = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

/** Paths of the four files of an IDX folder. */
export type IdxFiles = { readonly [K in keyof typeof idxFileNames]: string };

/** A training set and a test set. */
export type IdxSplit = { readonly train: Dataset; readonly test: Dataset };

/** Options of {@link loadIdxFolder}. */
export interface IdxFolderOptions {
  /** Keep only the first `limit` training examples (default: all). */
  limit?: number;
  /** Keep only the first `testLimit` test examples (default: all). */
  testLimit?: number;
  /** Number of classes (default: largest label in either label file + 1). */
  classes?: number;
  /** The type of the inputs (see {@link IdxDatasetOptions.dtype}). */
  dtype?: DType;
}

/** Finds the four standard IDX files in `dir`; the error lists what a folder must hold. */
export async function findIdxFiles(dir: string): Promise<IdxFiles> {
  let names: Set<string>;
  try {
    names = new Set(await readdir(dir));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such folder" : code === "ENOTDIR" ? "is a file, expected a folder" : (err as Error).message;
    throw new DataFileError(dir, `${dir}: ${why}`, { cause: err });
  }
  const find = (base: string): string => {
    const dotted = base.replace("-idx", ".idx");
    // raw first: it loads faster than the gzipped copy if both are there
    const name = [base, `${base}.gz`, dotted, `${dotted}.gz`].find((n) => names.has(n));
    if (name !== undefined) return path.join(dir, name);
    const all = Object.values(idxFileNames).join(", ");
    throw new DataFileError(dir, `${dir}: no ${base} or ${base}.gz; an IDX folder holds ${all} (each optionally .gz)`);
  };
  return {
    trainImages: find(idxFileNames.trainImages),
    trainLabels: find(idxFileNames.trainLabels),
    testImages: find(idxFileNames.testImages),
    testLabels: find(idxFileNames.testLabels),
  };
}

/**
 * The training and test sets of a folder holding the four standard IDX files (see
 * {@link idxFileNames}), for example the original MNIST files. Pixels are scaled to [0, 1].
 */
export async function loadIdxFolder(dir: string, options: IdxFolderOptions = {}): Promise<IdxSplit> {
  const { limit, testLimit, classes } = options;
  if (limit !== undefined) checkInteger("options.limit", limit, 0);
  if (testLimit !== undefined) checkInteger("options.testLimit", testLimit, 0);
  if (classes !== undefined) checkInteger("options.classes", classes);
  const files = await findIdxFiles(dir);
  const [train, test] = await Promise.all([
    loadIdxDataset(files.trainImages, files.trainLabels, { classes, limit, dtype: options.dtype }),
    loadIdxDataset(files.testImages, files.testLabels, { classes, limit: testLimit, dtype: options.dtype }),
  ]);
  if (train.inputSize !== test.inputSize) {
    throw new DataFileError(
      files.testImages,
      `${files.testImages}: images have ${test.inputSize} pixels, but the training images ${files.trainImages} have ${train.inputSize}`,
    );
  }
  // Without an explicit count, both sets get the larger of their two defaults so a network fits both.
  return withCommonClasses({ train, test });
}

/** Parses the header of an images (3 dims) or labels (1 dim) file and checks it against the file length. */
async function readIdx(file: string, kind: "images" | "labels"): Promise<{ dims: number[]; data: Uint8Array }> {
  const ndims = kind === "images" ? 3 : 1;
  const { bytes, gzipped } = await readMaybeGzipped(file, 4 + 4 * ndims);
  const expected = idxMagic[kind];
  const want = `${expected} (${hex(expected)}, IDX ${kind})`;
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < 4) {
    throw new DataFileError(file, `${file}: truncated: ${bytes.length} bytes, an IDX ${kind} header needs ${headerSize}`);
  }
  const magic = bytes.readUInt32BE(0);
  const type = bytes[2]!;
  const found = bytes[3]!;
  if (bytes[0] !== 0 || bytes[1] !== 0 || typeNames[type] === undefined) {
    throw new DataFileError(file, `${file}: not an IDX file: magic number ${magic} (${hex(magic)}), expected ${want}`);
  }
  if (type !== 0x08) {
    throw new DataFileError(
      file,
      `${file}: unsupported IDX data type 0x${type.toString(16).padStart(2, "0")} (${typeNames[type]}): only 0x08 (unsigned byte) is supported`,
    );
  }
  if (found !== ndims) {
    // the common case is images and labels swapped: say so
    const swapped = found === 4 - ndims ? `; this looks like an IDX ${kind === "images" ? "labels" : "images"} file` : "";
    throw new DataFileError(
      file,
      `${file}: magic number ${magic} (${hex(magic)}) declares ${found} dimensions, expected ${want} with ${ndims}${swapped}`,
    );
  }
  if (bytes.length < headerSize) {
    throw new DataFileError(file, `${file}: truncated: ${bytes.length} bytes, an IDX ${kind} header needs ${headerSize}`);
  }
  const dims = headerDims(bytes, ndims);
  // BigInt: three uint32 sizes can multiply past 2^53. Nothing is allocated from the declared size.
  const declared = dims.reduce((n, d) => n * BigInt(d), 1n);
  const actual = bytes.length - headerSize;
  if (declared !== BigInt(actual)) {
    const what = kind === "images" ? `${dims[0]} images of ${dims[1]}×${dims[2]}` : `${dims[0]} labels`;
    const has = `file has ${actual} bytes after the header${gzipped ? " (decompressed)" : ""}`;
    throw new DataFileError(
      file,
      declared > actual
        ? `${file}: truncated: header declares ${what} = ${declared} bytes, ${has}`
        : `${file}: header declares ${what} = ${declared} bytes, but ${has} (${BigInt(actual) - declared} extra)`,
    );
  }
  return { dims, data: bytes.subarray(headerSize) };
}

/**
 * The file's bytes, gunzipped if it is named `.gz` or starts with the gzip magic 1f 8b. Gzip data
 * is inflated only up to the size its IDX header (the first `headerSize` bytes) declares, plus
 * SLACK: a small .gz that inflates to gigabytes (a "gzip bomb") is refused without allocating
 * them. A header that is not a valid one stops inflating at once (readIdx then reports it).
 */
async function readMaybeGzipped(file: string, headerSize: number): Promise<{ bytes: Buffer; gzipped: boolean }> {
  const raw = await readDataFile(file);
  const gzipped = file.endsWith(".gz") || (raw[0] === 0x1f && raw[1] === 0x8b);
  if (!gzipped) return { bytes: raw, gzipped };
  const chunks: Buffer[] = [];
  let size = 0;
  let declared: number | undefined; // header + data bytes, once a valid header is in
  let stopAt = Infinity;
  const gunzip = createGunzip();
  try {
    gunzip.end(raw);
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (stopAt === Infinity && size >= headerSize) {
        declared = declaredLength(file, Buffer.concat(chunks), headerSize);
        stopAt = declared === undefined ? headerSize : declared + SLACK;
      }
      if (size > stopAt) break;
    }
  } catch (err) {
    throw new DataFileError(file, `${file}: cannot decompress gzip data: ${(err as Error).message}`, { cause: err });
  } finally {
    gunzip.destroy();
  }
  if (declared !== undefined && size > stopAt) {
    throw new DataFileError(
      file,
      `${file}: header declares ${declared - headerSize} bytes after the header, but the decompressed data is longer (stopped decompressing at ${size - headerSize})`,
    );
  }
  return { bytes: Buffer.concat(chunks), gzipped };
}

/** Bytes inflated beyond the declared size before giving up (fewer extra bytes are reported exactly by readIdx). */
const SLACK = 1 << 20;

/** The d sizes of an IDX header with d dimensions (big-endian uint32s after the magic number). */
function headerDims(bytes: Buffer, ndims: number): number[] {
  return Array.from({ length: ndims }, (_, k) => bytes.readUInt32BE(4 + 4 * k));
}

/** Header plus data bytes that a valid unsigned-byte IDX header declares, or undefined for any other header. */
function declaredLength(file: string, head: Buffer, headerSize: number): number | undefined {
  const ndims = (headerSize - 4) / 4;
  if (head[0] !== 0 || head[1] !== 0 || head[2] !== 0x08 || head[3] !== ndims) return undefined;
  const length = headerDims(head, ndims).reduce((n, d) => n * d, 1);
  if (length > constants.MAX_LENGTH - headerSize) {
    throw new DataFileError(file, `${file}: header declares ${length} bytes of data, more than one buffer can hold (${constants.MAX_LENGTH})`);
  }
  return headerSize + length;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
