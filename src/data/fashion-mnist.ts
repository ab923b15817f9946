import { stat } from "node:fs/promises";
import { DataFileError } from "./errors.js";
import { loadIdxFolder, type IdxSplit } from "./idx.js";

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
