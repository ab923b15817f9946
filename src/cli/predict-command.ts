import { stat } from "node:fs/promises";
import path from "node:path";
import { predictedClass } from "../core/classes.js";
import { DataFileError, readDataFile } from "../data/errors.js";
import { readCsvTable } from "../data/csv.js";
import { readIdxImages, readIdxLabels } from "../data/idx.js";
import { loadModel } from "../io/model-file.js";
import { exitCodes, UsageError } from "./errors.js";
import { decodePng, isBlank, toModelInput, type GrayImage } from "./image.js";
import { classNamesOf, modelData } from "../io/model-metadata.js";

/** `shoal predict`'s flags, parsed. */
export interface PredictFlags {
  model: string;
  index: number;
  /** CSV input: the row's 1-based line number in the file (as editors and every CSV error message count). */
  row?: number;
  labelColumn?: string;
  scale?: number;
  separator?: string;
  json?: boolean;
}

/** The flags as prepare() reads them: with the `--scale` the model was trained with, for a CSV row. */
type PrepareFlags = PredictFlags & { readonly trainedScale?: number };

/** One input vector for the model, where it came from, and its true class if the source says. */
interface Prepared {
  input: ArrayLike<number>;
  source: string;
  steps: string[];
  expected?: number;
  /** An image with no ink (all one colour): any answer about it is noise. */
  blank?: boolean;
}

const pngSignature = [0x89, 0x50, 0x4e, 0x47];

/**
 * Classifies one input and prints the predicted class (with its name, when the model's metadata
 * has class names) and every output activation (as class probabilities for a softmax model). The
 * input is a PNG file, an image of an IDX file (`--index`), a row of a CSV file (`--row`), or
 * comma-separated values on the command line.
 */
export async function predictCommand(input: string, flags: PredictFlags): Promise<number> {
  const { network, metadata } = await loadModel(flags.model);
  const inputs = network.sizes[0]!;
  const style = modelData(metadata).data === "fashion-mnist" ? "fit" : "digit";
  const names = classNamesOf(metadata);
  // a CSV row is read as the model's training file was, unless the flags say otherwise
  const trained = modelData(metadata);
  const csvFlags: PrepareFlags = {
    ...flags, labelColumn: flags.labelColumn ?? trained.labelColumn, separator: flags.separator ?? trained.separator, trainedScale: trained.scale,
  };
  const prepared = await prepare(input, inputs, style, csvFlags, names);
  // still answered (exit 0, as for any input), but said on stderr so a script's output stays parseable
  if (prepared.blank) process.stderr.write(`shoal: warning: ${prepared.source} has no ink (the image is all one colour): the prediction means nothing\n`);
  const outputs = network.feedforward(prepared.input);
  const predicted = predictedClass(outputs);
  const name = (c: number): string => (names?.[c] === undefined ? String(c) : `${c} (${names[c]})`);
  // softmax outputs are class probabilities (they sum to 1): shown as such, the predicted one beside its class
  const probabilities = network.spec.outputActivation === "softmax";

  if (flags.json) {
    const result = {
      input: prepared.source,
      predicted,
      ...(names?.[predicted] !== undefined && { name: names[predicted] }),
      ...(prepared.expected !== undefined && { expected: prepared.expected }),
      ...(probabilities && { probability: outputs[predicted] }),
      outputs: Array.from(outputs),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return exitCodes.ok;
  }
  const unit = Array.from(outputs).every((v) => v >= 0 && v <= 1);
  const lines = [
    `input: ${prepared.source}${prepared.steps.length > 0 ? `; ${prepared.steps.join("; ")}` : ""}`,
    `predicted: ${name(predicted)}${probabilities ? `, probability ${percentage(outputs[predicted]!)}` : ""}`,
    ...(prepared.expected === undefined ? [] : [`expected: ${name(prepared.expected)}`]),
    // one output is a binary classifier: its value is not a class index
    outputs.length === 1
      ? "output activation (class 1 when ≥ 0.5, else class 0):"
      : probabilities
        ? "class probabilities (softmax outputs, summing to 100%):"
        : "output activations:",
    ...Array.from(outputs, (v, c) => {
      const label = (outputs.length === 1 ? "" : names?.[c] === undefined ? String(c) : `${c} ${names[c]}`).padEnd(names ? 14 : 3);
      const bar = unit ? "█".repeat(Math.round(v * 20)) : "";
      const value = probabilities ? percentage(v).padStart(7) : v.toFixed(4);
      return `  ${label} ${value} ${bar}${outputs.length > 1 && c === predicted ? " ←" : ""}`.trimEnd();
    }),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return exitCodes.ok;
}

/** A probability as a percentage with two decimals: 0.97123 → "97.12%". */
function percentage(p: number): string {
  return `${(100 * p).toFixed(2)}%`;
}

async function prepare(
  input: string,
  inputs: number,
  style: "digit" | "fit",
  flags: PrepareFlags,
  classNames: readonly string[] | undefined,
): Promise<Prepared> {
  const info = await stat(input).catch(() => undefined);
  if (info === undefined) {
    if (/^[\s\d.eE+-]*,[\s\d.,eE+-]*$/.test(input) || /^\s*[-+]?[\d.]+(e[-+]?\d+)?\s*$/i.test(input)) return inline(input, inputs, flags.scale);
    throw new DataFileError(input, `${input}: no such file (predict takes a .png, an IDX images file, a .csv file or values like 0.1,0.5)`);
  }
  if (info.isDirectory()) throw new DataFileError(input, `${input}: is a folder, expected a file`);
  const bytes = await readDataFile(input);
  if (pngSignature.every((b, i) => bytes[i] === b)) {
    const image = decodePng(bytes, input);
    const { input: vector, steps } = toModelInput(image, inputs, style, input);
    return { input: vector, source: `${input} (${image.width}×${image.height})`, steps, blank: isBlank(image) };
  }
  if (path.extname(input).toLowerCase() === ".csv") return csvRow(bytes.toString("utf8"), input, inputs, flags, classNames);
  if (isIdx(bytes)) return idxImage(input, inputs, style, flags.index);
  throw new DataFileError(input, `${input}: not a PNG, IDX or .csv file`);
}

/** IDX files start with two zero bytes and type 0x08 (raw), or are gzipped (1f 8b). */
function isIdx(bytes: Buffer): boolean {
  return (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0x08) || (bytes[0] === 0x1f && bytes[1] === 0x8b);
}

async function idxImage(file: string, inputs: number, style: "digit" | "fit", index: number): Promise<Prepared> {
  const images = await readIdxImages(file);
  if (index >= images.count) {
    throw new UsageError(`--index ${index} is out of range: ${file} has ${images.count} images (0..${images.count - 1})`);
  }
  const size = images.rows * images.cols;
  const pixels = Float64Array.from(images.pixels.subarray(index * size, (index + 1) * size), (v) => v / 255);
  const image: GrayImage = { width: images.cols, height: images.rows, pixels };
  const { input, steps } = toModelInput(image, inputs, style, file);
  return { input, source: `${file} image ${index}`, steps, expected: await siblingLabel(file, index), blank: isBlank(image) };
}

/** The label of image `index` from the labels file beside an images file (…-images-idx3-… → …-labels-idx1-…), if there is one. */
async function siblingLabel(file: string, index: number): Promise<number | undefined> {
  const labelsFile = file.replace(/images(-|\.)idx3/, "labels$1idx1");
  if (labelsFile === file) return undefined;
  const labels = await readIdxLabels(labelsFile).catch(() => undefined);
  return labels?.labels[index];
}

/** Values given on the command line: `0.1,0.5,…` */
function inline(text: string, inputs: number, scale = 1): Prepared {
  const cells = text.split(",").map((c) => c.trim());
  const values = cells.map((c, j) => {
    const v = c === "" ? NaN : Number(c);
    if (!Number.isFinite(v)) throw new UsageError(`input value ${j + 1} is ${JSON.stringify(c)}, not a number`);
    return v / scale;
  });
  if (values.length !== inputs) throw new UsageError(`${values.length} input values given, the model expects ${inputs}`);
  return { input: values, source: `${values.length} values`, steps: [] };
}

/**
 * The row on line `flags.row` of a CSV file (1-based, counting the header and blank lines, as the
 * CSV loader's error messages do, so a row an error names can be asked about; default: the first
 * data row). It holds either exactly the model's inputs,
 * or one more value, the label (column --label-column, default the first), which is then reported
 * as the expected class (a class name is looked up in the model's `classNames`). The file is read
 * as `shoal train` reads CSV (src/data/csv.ts): quoting, separators and the header row alike.
 */
function csvRow(text: string, file: string, inputs: number, flags: PrepareFlags, classNames: readonly string[] | undefined): Prepared {
  const { names: header, rows, headerLine } = readCsvTable(text, file, { separator: flags.separator });
  const isNumber = (c: string): boolean => c !== "" && Number.isFinite(Number(c));
  const row = flags.row === undefined ? rows[0] : rows.find((r) => r.line === flags.row);
  if (row === undefined) {
    if (rows.length === 0) throw new DataFileError(file, `${file}: has no data rows`);
    const what = headerLine !== undefined && flags.row === headerLine ? "is the header" : "is not a data row";
    throw new UsageError(
      `--row ${flags.row} ${what} of ${file}: its data rows are lines ${rows[0]!.line}..${rows[rows.length - 1]!.line} (rows are counted as lines of the file, from 1, as in error messages)`,
    );
  }
  let label: number | undefined;
  let cells = row.cells;
  if (cells.length === inputs + 1) {
    const column = labelIndex(flags.labelColumn, header, file);
    label = expectedClass(cells[column]!, classNames, file, row.line);
    cells = cells.filter((_, j) => j !== column);
  } else if (cells.length !== inputs) {
    throw new DataFileError(file, `${file}: row ${row.line} has ${cells.length} values, the model expects ${inputs} inputs (or ${inputs + 1} with a label)`);
  }
  // a row of a CSV file is read as the model's training file was: divided by its --scale unless --scale says otherwise
  const scale = flags.scale ?? flags.trainedScale ?? 1;
  const values = cells.map((c, j) => {
    if (!isNumber(c)) throw new DataFileError(file, `${file}: row ${row.line}, value ${j + 1}: ${JSON.stringify(c)} is not a number`);
    return Number(c) / scale;
  });
  return {
    input: values,
    source: `${file} row ${row.line}`,
    steps: scale === 1 ? [] : [`divided by ${scale}${flags.scale === undefined ? " (the model's --scale)" : ""}`],
    ...(label !== undefined && { expected: label }),
  };
}

/** A row's label as a class: a number, or a name of the model's classes (an unknown name is an error). */
function expectedClass(cell: string, classNames: readonly string[] | undefined, file: string, line: number): number | undefined {
  const n = cell === "" ? NaN : Number(cell);
  if (Number.isInteger(n) && n >= 0) return n;
  if (classNames === undefined) return undefined;
  const c = classNames.indexOf(cell);
  if (c < 0) throw new DataFileError(file, `${file}: row ${line}: unknown class ${JSON.stringify(cell)}; the model's classes are ${classNames.join(", ")}`);
  return c;
}

function labelIndex(column: string | undefined, header: string[] | undefined, file: string): number {
  if (column === undefined) return 0;
  if (/^\d+$/.test(column)) return Number(column);
  const j = header?.indexOf(column) ?? -1;
  if (j < 0) throw new DataFileError(file, `${file}: no column named ${JSON.stringify(column)}${header ? "" : " (the file has no header row)"}`);
  return j;
}
