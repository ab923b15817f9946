import { parse, CsvError } from "csv-parse/sync";
import { dataValues, MAX_LABEL, validateDataset, type Dataset } from "../core/dataset.js";
import { check, checkInteger, checkOneOf, checkPositive, show } from "../core/errors.js";
import { dtypes, type DType } from "../core/layout.js";
import { DataFileError, readDataFile } from "./errors.js";

/** Options of {@link loadCsv} and {@link parseCsv}. */
export interface CsvOptions {
  /** The label column: a header name, or a 0-based column index. Default: the first column. */
  labelColumn?: string | number;
  /** Every feature is divided by this (255 turns bytes into [0, 1]). Default 1. Labels are not scaled. */
  scale?: number;
  /** The type the features are stored in: `"float32"` (default) or `"float64"` (each cell as parsed, then ÷ scale). */
  dtype?: DType;
  /** Number of classes (default: largest label + 1, or the number of class names). A larger label is an error. */
  classes?: number;
  /**
   * Whether the first row names the columns. "auto" (default): yes if one of its cells is not a
   * number while the cell below it is (or, in a file of one row, if any of its cells is not a number).
   */
  header?: "auto" | boolean;
  /**
   * The character between fields: `,`, `;`, a tab, or any other single character. Default: whichever
   * of `,` `;` and tab the first line holds most of, outside quotes (`,` when it holds none).
   */
  separator?: string;
  /**
   * Names to read text labels as (class i is `classNames[i]`), e.g. the training set's when loading
   * its test set; a label not among them is an error. Default: the distinct labels, sorted.
   */
  classNames?: readonly string[];
}

/** A dataset read from CSV; `classNames` when its labels were text (class i is named `classNames[i]`). */
export interface CsvDataset extends Dataset {
  readonly classNames?: readonly string[];
}

/** One record of a CSV file: its cells (trimmed) and the 1-based line of the file it starts on. */
export interface CsvRow {
  line: number;
  cells: string[];
}

/** A CSV file's records: the header's names (if it has a header row) and the data rows. */
export interface CsvTable {
  names?: string[];
  /** The header's line in the file (1-based), when there is one. */
  headerLine?: number;
  rows: CsvRow[];
}

/**
 * A CSV file of one example per row: a label column and numeric features, all other columns in file
 * order. Labels are class numbers (integers ≥ 0), or class names (text): then class i is the i-th
 * of the distinct names in sorted order (code-unit order, so the classes do not depend on the order
 * of the rows, and a test file with the same names numbers them the same way), or of
 * `options.classNames` when given. A label column holds numbers or names, not both.
 *
 * Parsed by csv-parse (RFC 4180): quoted fields may hold separators, quotes (`""`) and line breaks;
 * `,` `;` or tab separators (see {@link CsvOptions.separator}); CRLF or LF; a byte-order mark; blank
 * lines are skipped; cells are trimmed. Errors name the file, the 1-based line and the column:
 * `data.csv: row 7, column "pixel12": "abc" is not a number`.
 */
export async function loadCsv(file: string, options: CsvOptions = {}): Promise<CsvDataset> {
  return parseCsv((await readDataFile(file)).toString("utf8"), file, options);
}

/** {@link loadCsv} on text already in memory; `file` names it in error messages. */
export function parseCsv(text: string, file: string, options: CsvOptions = {}): CsvDataset {
  const { labelColumn = 0, scale = 1, classes, header = "auto", separator, classNames, dtype = "float32" } = options;
  checkPositive("options.scale", scale);
  checkOneOf("options.dtype", dtype, dtypes);
  if (classes !== undefined) checkInteger("options.classes", classes);
  check(header === "auto" || typeof header === "boolean", `options.header must be "auto", true or false, got ${show(header)}`);
  if (typeof labelColumn === "number") checkInteger("options.labelColumn", labelColumn, 0);
  else check(typeof labelColumn === "string", `options.labelColumn must be a column name or index, got ${show(labelColumn)}`);
  checkSeparator(separator);
  check(
    classNames === undefined || (Array.isArray(classNames) && classNames.length > 0 && classNames.every((n) => typeof n === "string")),
    `options.classNames must be a non-empty array of strings, got ${show(classNames)}`,
  );

  const records = readRecords(text, file, separator);
  const first = records[0];
  if (first === undefined) throw new DataFileError(file, `${file}: file is empty`);
  const hasHeader = header === "auto" ? looksLikeHeader(records) : header;
  const names = hasHeader ? first.cells : undefined;
  const width = first.cells.length;
  if (width < 2) throw new DataFileError(file, `${file}: needs a label column and at least one feature column, row ${first.line} has ${width} column`);
  const label = labelIndex(labelColumn, names, width, file);
  const rows = hasHeader ? records.slice(1) : records;
  if (rows.length === 0) throw new DataFileError(file, `${file}: has a header row but no data rows`);
  const column = (j: number): string => (names ? show(names[j]) : String(j + 1));
  for (const { line, cells } of rows) {
    if (cells.length !== width) {
      throw new DataFileError(file, `${file}: row ${line} has ${cells.length} columns, expected ${width} (as in row ${first.line})`);
    }
  }

  const inputSize = width - 1;
  const inputs = dataValues(dtype, rows.length * inputSize);
  rows.forEach(({ line, cells }, i) => {
    let k = i * inputSize;
    cells.forEach((cell, j) => {
      if (j === label) return;
      const v = toNumber(cell);
      if (Number.isNaN(v)) throw new DataFileError(file, `${file}: row ${line}, column ${column(j)}: ${show(cell)} is not a number`);
      inputs[k++] = v / scale;
    });
  });
  const labelCells = rows.map(({ line, cells }) => ({ line, cell: cells[label]! }));
  const where = (line: number): string => `${file}: row ${line}, column ${column(label)}`;
  // The first label says whether the column holds class numbers or class names.
  const { labels, classCount, classNames: names_ } = looksNumeric(labelCells[0]!.cell)
    ? numberLabels(labelCells, classes, where, file)
    : nameLabels(labelCells, classes, classNames, where, file);
  const data: CsvDataset = {
    count: rows.length,
    inputSize,
    inputs,
    targets: { kind: "labels", labels, classes: classCount },
    ...(names_ && { classNames: names_ }),
  };
  // catches features that overflow float32 (1e39 → Infinity), which the per-cell check cannot see
  validateDataset(data, file);
  return data;
}

/**
 * The records of a CSV file (see {@link loadCsv} for what is accepted), with the header row told
 * apart as {@link parseCsv} does; for callers that read single rows (`shoal predict --row`).
 */
export function readCsvTable(text: string, file: string, options: Pick<CsvOptions, "separator" | "header"> = {}): CsvTable {
  checkSeparator(options.separator);
  const records = readRecords(text, file, options.separator);
  const header = options.header ?? "auto";
  const hasHeader = records.length > 0 && (header === "auto" ? looksLikeHeader(records) : header);
  return hasHeader ? { names: records[0]!.cells, headerLine: records[0]!.line, rows: records.slice(1) } : { rows: records };
}

interface LabelCell {
  line: number;
  cell: string;
}

interface Labels {
  labels: Int32Array;
  classCount: number;
  classNames?: readonly string[];
}

function numberLabels(cells: readonly LabelCell[], classes: number | undefined, where: (line: number) => string, file: string): Labels {
  const labels = new Int32Array(cells.length);
  let maxLabel = 0;
  cells.forEach(({ line, cell }, i) => {
    const v = toNumber(cell);
    if (Number.isNaN(v)) {
      throw new DataFileError(file, `${where(line)}: ${show(cell)} is not a number (the labels above are class numbers; a label column holds numbers or names, not both)`);
    }
    if (!Number.isInteger(v) || v < 0) throw new DataFileError(file, `${where(line)}: label ${show(cell)} is not an integer ≥ 0`);
    if (v > MAX_LABEL) throw new DataFileError(file, `${where(line)}: label ${v} is too large (at most ${MAX_LABEL})`);
    if (classes !== undefined && v >= classes) {
      throw new DataFileError(file, `${where(line)}: label ${v} is out of range 0..${classes - 1} (classes: ${classes})`);
    }
    labels[i] = v;
    maxLabel = Math.max(maxLabel, v);
  });
  return { labels, classCount: classes ?? maxLabel + 1 };
}

function nameLabels(
  cells: readonly LabelCell[],
  classes: number | undefined,
  given: readonly string[] | undefined,
  where: (line: number) => string,
  file: string,
): Labels {
  const first = cells[0]!;
  for (const { line, cell } of cells) {
    if (cell === "") throw new DataFileError(file, `${where(line)}: the label is empty`);
    if (looksNumeric(cell)) {
      throw new DataFileError(
        file,
        `${where(line)}: label ${show(cell)} is a number, but the labels above are class names (row ${first.line}: ${show(first.cell)}); a label column holds numbers or names, not both`,
      );
    }
  }
  // Sorted by code units, not locale: the same names give the same classes on every machine.
  const names = given ?? [...new Set(cells.map((c) => c.cell))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(names.map((n, i) => [n, i]));
  const labels = new Int32Array(cells.length);
  cells.forEach(({ line, cell }, i) => {
    const c = index.get(cell);
    if (c === undefined) throw new DataFileError(file, `${where(line)}: unknown class ${show(cell)}; the classes are ${names.join(", ")}`);
    labels[i] = c;
  });
  if (classes !== undefined && classes < names.length) {
    throw new DataFileError(file, `${file}: ${names.length} class names (${names.join(", ")}), more than classes: ${classes}`);
  }
  return { labels, classCount: classes ?? names.length, classNames: names };
}

/** The file's non-blank records, cells trimmed; malformed CSV (an unclosed quote) is a DataFileError. */
function readRecords(text: string, file: string, separator: string | undefined): CsvRow[] {
  const body = text.replace(/^\uFEFF/, "");
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(body, {
      delimiter: separator ?? detectSeparator(body),
      info: true,
      trim: true,
      relax_column_count: true, // ragged rows get our message, naming the row and the widths
      relax_quotes: true, // a quote inside an unquoted cell is kept (the cell is then not a number)
      skip_empty_lines: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (error) {
    if (error instanceof CsvError) throw new DataFileError(file, `${file}: not valid CSV: ${error.message}`, { cause: error });
    throw error;
  }
  const rows: CsvRow[] = [];
  for (const { record, info } of parsed) {
    const cells = record.map((c) => c.trim());
    if (cells.length === 1 && cells[0] === "") continue; // a line of spaces
    // info.lines is the line the record ends on; a quoted cell may span lines
    const breaks = record.reduce((n, c) => n + (c.match(/\n/g)?.length ?? 0), 0);
    rows.push({ line: info.lines - breaks, cells });
  }
  return rows;
}

const separators = [",", ";", "\t"];

/** The separator the first line uses most, outside quotes; `,` when it uses none. */
function detectSeparator(text: string): string {
  const line = /^[^\S\r\n]*\S.*$/m.exec(text)?.[0] ?? "";
  const counts = new Map(separators.map((s) => [s, 0]));
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  return separators.reduce((best, s) => (counts.get(s)! > counts.get(best)! ? s : best), ",");
}

function checkSeparator(separator: string | undefined): void {
  check(
    separator === undefined || (typeof separator === "string" && [...separator].length === 1 && !/["\r\n]/.test(separator)),
    `options.separator must be one character (not a quote or a line break), got ${show(separator)}`,
  );
}

/**
 * Whether the first record names the columns: one of its cells is not a number where the cell below
 * is one (a headerless file with class names has text in the label column of every row, so text
 * alone does not make a header). A file of one record: whether any of its cells is not a number.
 */
function looksLikeHeader(records: readonly CsvRow[]): boolean {
  const [first, second] = records;
  if (first === undefined) return false;
  if (second === undefined) return first.cells.some((c) => !isNumber(c));
  return first.cells.some((c, j) => !isNumber(c) && second.cells[j] !== undefined && isNumber(second.cells[j]!));
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

/** The cell's finite value, or NaN. Number("") is 0, so an empty cell is rejected explicitly. */
function toNumber(cell: string): number {
  const v = cell === "" ? NaN : Number(cell);
  return Number.isFinite(v) ? v : NaN;
}

/**
 * Whether a label is meant as a number (`3`, `-1`, `2.5`, `1e999`, `Infinity`, `NaN`), valid or not:
 * the first label decides whether the column holds class numbers or class names, and a bad number
 * must be reported as one, not taken for a class name.
 */
function looksNumeric(cell: string): boolean {
  return /^[-+]?(\.?\d|infinity$|nan$)/i.test(cell);
}

function isNumber(cell: string): boolean {
  return !Number.isNaN(toNumber(cell));
}
