import { MAX_LABEL } from "../core/dataset.js";
import { validateDataset, type Dataset } from "../core/dataset.js";
import { check, checkInteger, checkPositive, show } from "../core/errors.js";
import { DataFileError, readDataFile } from "./errors.js";

/** Options of {@link loadCsv} and {@link parseCsv}. */
export interface CsvOptions {
  /** The label column: a header name, or a 0-based column index. Default: the first column. */
  labelColumn?: string | number;
  /** Every feature is divided by this (255 turns bytes into [0, 1]). Default 1. Labels are not scaled. */
  scale?: number;
  /** Number of classes (default: largest label + 1). A larger label is an error. */
  classes?: number;
  /** Whether the first row names the columns. "auto" (default): yes if any of its cells is not a number. */
  header?: "auto" | boolean;
}

/**
 * A CSV file of one example per row: an integer label column (≥ 0) and numeric features, all other
 * columns in file order. Comma-separated, no quoting beyond stripping "…" around a cell; blank
 * lines are skipped. Errors name the file, the 1-based line and the column:
 * `data.csv: row 7, column "pixel12": "abc" is not a number`.
 */
export async function loadCsv(file: string, options: CsvOptions = {}): Promise<Dataset> {
  return parseCsv((await readDataFile(file)).toString("utf8"), file, options);
}

/** {@link loadCsv} on text already in memory; `file` names it in error messages. */
export function parseCsv(text: string, file: string, options: CsvOptions = {}): Dataset {
  const { labelColumn = 0, scale = 1, classes, header = "auto" } = options;
  checkPositive("options.scale", scale);
  if (classes !== undefined) checkInteger("options.classes", classes);
  check(header === "auto" || typeof header === "boolean", `options.header must be "auto", true or false, got ${show(header)}`);
  if (typeof labelColumn === "number") checkInteger("options.labelColumn", labelColumn, 0);
  else check(typeof labelColumn === "string", `options.labelColumn must be a column name or index, got ${show(labelColumn)}`);

  // Each kept line remembers its 1-based line number in the file, for error messages.
  const lines: { n: number; text: string }[] = [];
  text.replace(/^\uFEFF/, "").split(/\r?\n/).forEach((t, i) => {
    if (t.trim() !== "") lines.push({ n: i + 1, text: t });
  });
  const first = lines[0];
  if (first === undefined) throw new DataFileError(file, `${file}: file is empty`);
  const firstCells = cells(first.text);
  const hasHeader = header === "auto" ? firstCells.some((c) => !isNumber(c)) : header;
  const names = hasHeader ? firstCells : undefined;
  const width = firstCells.length;
  if (width < 2) throw new DataFileError(file, `${file}: needs a label column and at least one feature column, row ${first.n} has ${width} column`);
  const label = labelIndex(labelColumn, names, width, file);
  const rows = hasHeader ? lines.slice(1) : lines;
  if (rows.length === 0) throw new DataFileError(file, `${file}: has a header row but no data rows`);
  const column = (j: number): string => (names ? show(names[j]) : String(j + 1));

  const inputSize = width - 1;
  const inputs = new Float32Array(rows.length * inputSize);
  const labels = new Int32Array(rows.length);
  let maxLabel = 0;
  rows.forEach(({ n, text: line }, i) => {
    const row = cells(line);
    if (row.length !== width) {
      throw new DataFileError(file, `${file}: row ${n} has ${row.length} columns, expected ${width} (as in row ${first.n})`);
    }
    let k = i * inputSize;
    row.forEach((cell, j) => {
      const v = toNumber(cell);
      if (Number.isNaN(v)) throw new DataFileError(file, `${file}: row ${n}, column ${column(j)}: ${show(cell)} is not a number`);
      if (j !== label) {
        inputs[k++] = v / scale;
        return;
      }
      if (!Number.isInteger(v) || v < 0) {
        throw new DataFileError(file, `${file}: row ${n}, column ${column(j)}: label ${show(cell)} is not an integer ≥ 0`);
      }
      if (v > MAX_LABEL) {
        throw new DataFileError(file, `${file}: row ${n}, column ${column(j)}: label ${v} is too large (at most ${MAX_LABEL})`);
      }
      if (classes !== undefined && v >= classes) {
        throw new DataFileError(
          file,
          `${file}: row ${n}, column ${column(j)}: label ${v} is out of range 0..${classes - 1} (classes: ${classes})`,
        );
      }
      labels[i] = v;
      maxLabel = Math.max(maxLabel, v);
    });
  });
  const data: Dataset = {
    count: rows.length,
    inputSize,
    inputs,
    targets: { kind: "labels", labels, classes: classes ?? maxLabel + 1 },
  };
  // catches features that overflow float32 (1e39 → Infinity), which the per-cell check cannot see
  validateDataset(data, file);
  return data;
}

/** The 0-based index of the label column. */
function labelIndex(labelColumn: string | number, names: string[] | undefined, width: number, file: string): number {
  if (typeof labelColumn === "number") {
    if (labelColumn >= width) {
      throw new DataFileError(file, `${file}: label column index ${labelColumn} is out of range: rows have ${width} columns (indices 0..${width - 1})`);
    }
    return labelColumn;
  }
  if (names === undefined) {
    throw new DataFileError(file, `${file}: label column ${show(labelColumn)} needs a header row, but the first row is all numbers`);
  }
  const j = names.indexOf(labelColumn);
  if (j < 0) throw new DataFileError(file, `${file}: no column named ${show(labelColumn)}; the header has ${show(names)}`);
  return j;
}

/** A line's cells, trimmed, with one pair of surrounding double quotes removed. */
function cells(line: string): string[] {
  return line.split(",").map((c) => {
    const t = c.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
  });
}

/** The cell's finite value, or NaN. Number("") is 0, so an empty cell is rejected explicitly. */
function toNumber(cell: string): number {
  const v = cell === "" ? NaN : Number(cell);
  return Number.isFinite(v) ? v : NaN;
}

function isNumber(cell: string): boolean {
  return !Number.isNaN(toNumber(cell));
}
