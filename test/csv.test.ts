import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Dataset } from "../src/core/dataset.js";
import { ValidationError } from "../src/core/errors.js";
import { loadCsv, parseCsv, type CsvDataset, type CsvOptions } from "../src/data/csv.js";
import { DataFileError } from "../src/data/errors.js";

const dir = mkdtempSync(path.join(tmpdir(), "shoal-csv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
/** Writes `text` to a new CSV file in the temp folder and loads it. */
async function load(text: string, options?: CsvOptions): Promise<CsvDataset> {
  const file = path.join(dir, `data${fileNo++}.csv`);
  writeFileSync(file, text);
  return loadCsv(file, options);
}

function labelsOf(data: Dataset): { labels: number[]; classes: number } {
  if (data.targets.kind !== "labels") throw new Error("expected labels");
  return { labels: Array.from(data.targets.labels), classes: data.targets.classes };
}

/** The message `parseCsv(text, "data.csv", options)` throws; fails the test if it does not throw. */
function errorOf(text: string, options?: CsvOptions): string {
  try {
    parseCsv(text, "data.csv", options);
  } catch (err) {
    expect(err).toBeInstanceOf(DataFileError);
    return (err as Error).message;
  }
  throw new Error("expected an error");
}

describe("loadCsv", () => {
  it("reads a headerless file: label first, then the features", async () => {
    const data = await load("1,0.5,2\n0,3,4\n2,-1,1e2\n");
    expect([data.count, data.inputSize]).toEqual([3, 2]);
    expect(Array.from(data.inputs)).toEqual([0.5, 2, 3, 4, -1, 100]);
    expect(labelsOf(data)).toEqual({ labels: [1, 0, 2], classes: 3 });
  });

  it("detects a header row and picks the label column by name", async () => {
    const data = await load("x,label,y\n1,3,2\n4,0,5\n", { labelColumn: "label" });
    expect(Array.from(data.inputs)).toEqual([1, 2, 4, 5]);
    expect(labelsOf(data)).toEqual({ labels: [3, 0], classes: 4 });
  });

  it("picks the label column by 0-based index", async () => {
    const data = await load("1,2,1\n4,5,0\n", { labelColumn: 2 });
    expect(Array.from(data.inputs)).toEqual([1, 2, 4, 5]);
    expect(labelsOf(data).labels).toEqual([1, 0]);
  });

  it("header: true and false override detection", async () => {
    const numericHeader = await load("0,1,2\n1,10,20\n", { header: true });
    expect(numericHeader.count).toBe(1);
    expect(Array.from(numericHeader.inputs)).toEqual([10, 20]);
    const forced = "label,a\n1,2\n";
    expect(errorOf(forced, { header: false, labelColumn: 1 })).toBe('data.csv: row 1, column 1: "label" is not a number');
  });

  it("divides features, not labels, by scale", async () => {
    const data = await load("label,p0,p1\n7,255,51\n", { scale: 255 });
    expect(Array.from(data.inputs)).toEqual([1, 0.2].map(Math.fround));
    expect(labelsOf(data).labels).toEqual([7]);
  });

  it("handles \\r\\n, blank lines, surrounding whitespace, quotes and a byte-order mark", async () => {
    const data = await load('\uFEFF"label", "a" ,b\r\n 1 , 2,"3"\r\n\r\n0,4 ,5\r\n\r\n');
    expect(Array.from(data.inputs)).toEqual([2, 3, 4, 5]);
    expect(labelsOf(data).labels).toEqual([1, 0]);
  });

  it("uses an explicit class count and rejects labels beyond it", async () => {
    expect(labelsOf(await load("1,0\n", { classes: 10 })).classes).toBe(10);
    expect(errorOf("label,a\n1,0\n9,0\n", { classes: 5 })).toBe(
      'data.csv: row 3, column "label": label 9 is out of range 0..4 (classes: 5)',
    );
  });
});

describe("CSV errors name the file, row and column", () => {
  it("a non-numeric cell, by column name when there is a header", () => {
    const rows = ["label,pixel0,pixel1", "1,0,0", "2,0,abc"];
    expect(errorOf(rows.join("\n"))).toBe('data.csv: row 3, column "pixel1": "abc" is not a number');
  });

  it("a non-numeric or empty cell, by 1-based column number without a header; rows count blank lines", () => {
    expect(errorOf("1,2,3\n\n4,x,6\n")).toBe('data.csv: row 3, column 2: "x" is not a number');
    expect(errorOf("1,2,3\n4,,6\n")).toBe('data.csv: row 2, column 2: "" is not a number');
  });

  it("a ragged row", () => {
    expect(errorOf("a,b,c\n1,2,3\n1,2\n")).toBe("data.csv: row 3 has 2 columns, expected 3 (as in row 1)");
  });

  it("an empty file, or one with only a header", async () => {
    expect(errorOf("")).toBe("data.csv: file is empty");
    expect(errorOf("\r\n  \n")).toBe("data.csv: file is empty");
    expect(errorOf("label,a\n")).toBe("data.csv: has a header row but no data rows");
    const file = path.join(dir, "empty.csv");
    writeFileSync(file, "");
    await expect(loadCsv(file)).rejects.toThrow(`${file}: file is empty`);
  });

  it("a label that is not an integer ≥ 0", () => {
    expect(errorOf("label,a\n2.5,1\n")).toBe('data.csv: row 2, column "label": label "2.5" is not an integer ≥ 0');
    expect(errorOf("-1,1\n")).toBe('data.csv: row 1, column 1: label "-1" is not an integer ≥ 0');
  });

  it("an unknown label column", () => {
    expect(errorOf("a,b\n1,2\n", { labelColumn: "label" })).toBe('data.csv: no column named "label"; the header has ["a", "b"]');
    expect(errorOf("1,2\n", { labelColumn: "label" })).toBe(
      'data.csv: label column "label" needs a header row, but the first row is all numbers',
    );
    expect(errorOf("1,2\n", { labelColumn: 2 })).toBe(
      "data.csv: label column index 2 is out of range: rows have 2 columns (indices 0..1)",
    );
  });

  it("a file with no feature column", () => {
    expect(errorOf("1\n2\n")).toBe("data.csv: needs a label column and at least one feature column, row 1 has 1 column");
  });

  it("a missing file", async () => {
    const file = path.join(dir, "nope.csv");
    await expect(loadCsv(file)).rejects.toThrow(new DataFileError(file, `${file}: no such file`));
  });

  it("bad options are validation errors naming the option", () => {
    expect(() => parseCsv("1,2\n", "data.csv", { scale: 0 })).toThrow(ValidationError);
    expect(() => parseCsv("1,2\n", "data.csv", { scale: 0 })).toThrow("options.scale must be a positive finite number, got 0");
    expect(() => parseCsv("1,2\n", "data.csv", { labelColumn: -1 })).toThrow("options.labelColumn must be an integer ≥ 0, got -1");
  });
});

describe("CSV labels that are class names", () => {
  it("become classes numbered in sorted order, whatever the row order; the names are returned", async () => {
    const data = await load("species,a\nversicolor,1\nsetosa,2\nvirginica,3\nsetosa,4\n", { labelColumn: "species" });
    expect(data.classNames).toEqual(["setosa", "versicolor", "virginica"]);
    expect(labelsOf(data)).toEqual({ labels: [1, 0, 2, 0], classes: 3 });
    expect(Array.from(data.inputs)).toEqual([1, 2, 3, 4]);
    const numbers = await load("1,2\n0,3\n");
    expect(numbers.classNames).toBeUndefined();
  });

  it("a headerless file with text labels is not taken for one with a header", () => {
    const data = parseCsv("setosa,1\nvirginica,2\n", "data.csv");
    expect(data.count).toBe(2);
    expect(data.classNames).toEqual(["setosa", "virginica"]);
  });

  it("map through given class names (a test file through its training set's); an unknown name names row and value", () => {
    const data = parseCsv("label,a\nc,1\na,2\n", "test.csv", { classNames: ["a", "b", "c"] });
    expect(labelsOf(data)).toEqual({ labels: [2, 0], classes: 3 });
    expect(data.classNames).toEqual(["a", "b", "c"]);
    expect(() => parseCsv("label,a\nc,1\nvirginca,2\n", "test.csv", { classNames: ["a", "b", "c"] })).toThrow(
      new DataFileError("test.csv", 'test.csv: row 3, column "label": unknown class "virginca"; the classes are a, b, c'),
    );
  });

  it("a column mixing numbers and names, or an empty name, is an error naming the row", () => {
    expect(errorOf("label,a\nsetosa,1\n3,2\n")).toBe(
      'data.csv: row 3, column "label": label "3" is a number, but the labels above are class names (row 2: "setosa"); a label column holds numbers or names, not both',
    );
    expect(errorOf("label,a\n3,1\nsetosa,2\n")).toBe(
      'data.csv: row 3, column "label": "setosa" is not a number (the labels above are class numbers; a label column holds numbers or names, not both)',
    );
    expect(errorOf('label,a\nsetosa,1\n"",2\n')).toBe('data.csv: row 3, column "label": the label is empty');
  });
});

describe("CSV syntax (csv-parse)", () => {
  it("quoted cells hold separators, doubled quotes and line breaks; rows are counted by the line they start on", () => {
    const text = 'name,x\n"Smith, J.",1\n"say ""hi""\nthere",2\nbad,z\n';
    expect(errorOf(text, { labelColumn: "name" })).toBe('data.csv: row 5, column "x": "z" is not a number');
    const data = parseCsv(text.replace("bad,z\n", ""), "data.csv", { labelColumn: "name" });
    expect(data.classNames).toEqual(["Smith, J.", 'say "hi"\nthere']);
  });

  it("detects `;` and tab separators from the first line, or takes options.separator", () => {
    for (const sep of [";", "\t"]) {
      const data = parseCsv(`label${sep}a${sep}b\r\n1${sep}2${sep}3\r\n`, "data.csv");
      expect(Array.from(data.inputs)).toEqual([2, 3]);
    }
    // a comma inside quotes in the header does not count
    expect(parseCsv('"a,b";c\n1;2\n', "data.csv").inputSize).toBe(1);
    expect(parseCsv("1|2|3\n", "data.csv", { separator: "|" }).inputSize).toBe(2);
    expect(() => parseCsv("1,2\n", "data.csv", { separator: ";;" })).toThrow('options.separator must be one character (not a quote or a line break), got ";;"');
  });

  it("an unclosed quote is a DataFileError naming the file", () => {
    expect(errorOf('a,b\n1,"2\n')).toMatch(/^data\.csv: not valid CSV: Quote Not Closed/);
  });
});
