import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { Dataset } from "../core/dataset.js";
import { checkInteger } from "../core/errors.js";
import { DataFileError } from "./errors.js";
import { loadIdxDataset } from "./idx.js";

/** Where the Debian package `dataset-fashion-mnist` installs its four gzipped IDX files. */
export const fashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

/** Fashion-MNIST's class names; label i is `fashionMnistClasses[i]`. */
export const fashionMnistClasses = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
] as const;

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
    loadIdxDataset(files.trainImages, files.trainLabels, { classes, limit }),
    loadIdxDataset(files.testImages, files.testLabels, { classes, limit: testLimit }),
  ]);
  if (train.inputSize !== test.inputSize) {
    throw new DataFileError(
      files.testImages,
      `${files.testImages}: images have ${test.inputSize} pixels, but the training images ${files.trainImages} have ${train.inputSize}`,
    );
  }
  // Without an explicit count, both sets get the larger of their two defaults so a network fits both.
  const k = Math.max(classesOf(train), classesOf(test));
  return { train: withClasses(train, k), test: withClasses(test, k) };
}

/** Options of {@link loadFashionMnist}. */
export interface FashionMnistOptions {
  /** Folder holding the IDX files (default {@link fashionMnistDirectory}). */
  dir?: string;
  /** Keep only the first `limit` of the 60,000 training examples. */
  limit?: number;
  /** Keep only the first `testLimit` of the 10,000 test examples. */
  testLimit?: number;
}

/**
 * Fashion-MNIST from the Debian package `dataset-fashion-mnist`: 60,000 training and 10,000 test
 * images of 28 × 28 pixels in [0, 1], labels 0 … 9 named by {@link fashionMnistClasses}.
 */
export async function loadFashionMnist(options: FashionMnistOptions = {}): Promise<IdxSplit> {
  const dir = options.dir ?? fashionMnistDirectory;
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) {
    throw new DataFileError(dir, `Fashion-MNIST not found at ${dir}: install it with apt-get install dataset-fashion-mnist`);
  }
  return loadIdxFolder(dir, { limit: options.limit, testLimit: options.testLimit, classes: fashionMnistClasses.length });
}

function classesOf(data: Dataset): number {
  return data.targets.kind === "labels" ? data.targets.classes : data.targets.size;
}

function withClasses(data: Dataset, classes: number): Dataset {
  if (data.targets.kind !== "labels" || data.targets.classes === classes) return data;
  return { ...data, targets: { ...data.targets, classes } };
}
