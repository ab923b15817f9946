import { stat } from "node:fs/promises";
import path from "node:path";
import { checkInteger } from "../core/errors.js";
import type { DType } from "../core/layout.js";
import { exactFloat64 } from "./exact-float64.js";
import { DataFileError } from "./errors.js";
import { findIdxFiles, loadIdxFolder, type IdxSplit } from "./idx.js";
import { cachedSplit, folderKey } from "./split-cache.js";

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
  /**
   * Folder of the compact uncompressed copy made on first use, which later loads read instead of
   * decompressing the IDX files (default `$XDG_CACHE_HOME/shoal` or `~/.cache/shoal`); `false`: none.
   */
  cache?: string | false;
  /** The type of the inputs: `"float32"` (default) or `"float64"` (each byte ÷ 255 exactly, for a float64 network). */
  dtype?: DType;
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
  const classes = fashionMnistClasses.length;
  const { limit, testLimit, cache, dtype } = options;
  if (cache === false) return loadIdxFolder(dir, { limit, testLimit, classes, dtype });
  if (limit !== undefined) checkInteger("options.limit", limit, 0);
  if (testLimit !== undefined) checkInteger("options.testLimit", testLimit, 0);
  // The copy is of these very files: a changed file (size or time) makes it again.
  const files = Object.values(await findIdxFiles(dir));
  const fingerprint = (await Promise.all(files.map(async (f) => {
    const { size, mtimeMs } = await stat(f);
    return `${path.basename(f)}:${size}:${mtimeMs}`;
  }))).join(" ");
  // the compact copy holds float32 values; float64 ones are remade from them exactly
  const split = await cachedSplit(`fashion-mnist-${folderKey(dir)}`, `fashion-mnist ${fingerprint}`, { train: limit, test: testLimit }, () => loadIdxFolder(dir, { classes }), cache);
  return dtype === "float64" ? { train: exactFloat64(split.train, 255), test: exactFloat64(split.test, 255) } : split;
}
