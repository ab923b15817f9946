/**
 * Property tests of the CSV reader (parseCsv, loadCsv). Random valid tables — a header or not, the
 * label in any column (by index or by name), numbers written in every way JavaScript reads them,
 * quotes, spaces, CRLF, blank lines, a BOM — must load to exactly the table's values; the same
 * tables with one bad cell (NaN, Infinity, empty, words, overflow, a bad label) or a damaged row, and
 * random text, must fail with a DataFileError or ValidationError naming the file; never another
 * error or a wrong shape.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { parseCsv, type CsvOptions } from "../src/data/csv.js";
import { loadCsv, ShoalError, type Dataset } from "../src/index.js";
import { expectClearError, fuzzSettings, outcomeOf, settled } from "./fixtures/fuzz-helpers.js";

const dir = mkdtempSync(path.join(tmpdir(), "shoal-fuzz-csv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A table before it is written out: every cell as text and the number it stands for. */
interface Table {
  names: string[];
  /** rows × columns: the text written, and its value. */
  rows: { text: string; value: number }[][];
  label: number;
}

/** A feature value and one of the ways to write it that JavaScript's Number() reads back as that value. */
const featureCell = fc
  .oneof(
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.integer({ min: -1000, max: 1000 }),
    fc.constantFrom(0, -0, 1, 255, 0.5, 1e-300, -1e-40, 1e38),
  )
  .chain((v) =>
    fc.constantFrom(
      String(v),
      v.toExponential(),
      v.toPrecision(17),
      Number.isInteger(v) && Math.abs(v) < 1e21 ? `${v}.0` : String(v),
    ).map((text) => ({ text, value: Number(text) })),
  );
/** A class label 0 … 9, written as an integer in several ways. */
const labelCell = fc.nat({ max: 9 }).chain((v) => fc.constantFrom(`${v}`, `${v}.0`, `${v}e0`, `0${v}`, `+${v}`).map((text) => ({ text, value: v })));

/** A column name: letters and digits, never a number (so a header row is always recognised as one). */
const columnName = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/);

const table: fc.Arbitrary<Table> = fc
  .record({ width: fc.integer({ min: 2, max: 5 }), count: fc.integer({ min: 1, max: 6 }) })
  .chain(({ width, count }) =>
    fc.record({
      names: fc.uniqueArray(columnName, { minLength: width, maxLength: width }),
      label: fc.nat({ max: width - 1 }),
      rows: fc.array(fc.array(featureCell, { minLength: width, maxLength: width }), { minLength: count, maxLength: count }),
      labels: fc.array(labelCell, { minLength: count, maxLength: count }),
    }),
  )
  .map(({ names, label, rows, labels }) => ({ names, label, rows: rows.map((row, i) => row.map((c, j) => (j === label ? labels[i]! : c))) }));

/** How the table is written out. */
interface Layout {
  header: boolean;
  /** Option `header`: auto-detected, or said. */
  headerOption: "auto" | "given";
  /** Option `labelColumn`: omitted (only when the label is column 0), an index, or a name. */
  labelBy: "default" | "index" | "name";
  newline: "\n" | "\r\n";
  bom: boolean;
  /** Per cell: padding and quotes. */
  quote: boolean[];
  pad: boolean[];
  /** Blank lines after these rows. */
  blankAfter: number[];
  scale: number | undefined;
  extraClasses: number | undefined;
}

const layout: fc.Arbitrary<Layout> = fc.record({
  header: fc.boolean(),
  headerOption: fc.constantFrom("auto", "given"),
  labelBy: fc.constantFrom("default", "index", "name"),
  newline: fc.constantFrom("\n", "\r\n"),
  bom: fc.boolean(),
  quote: fc.array(fc.boolean(), { maxLength: 40 }),
  pad: fc.array(fc.boolean(), { maxLength: 40 }),
  blankAfter: fc.array(fc.nat({ max: 7 }), { maxLength: 3 }),
  scale: fc.option(fc.constantFrom(1, 255, 0.5, 3), { nil: undefined }),
  extraClasses: fc.option(fc.nat({ max: 3 }), { nil: undefined }),
});

/** The CSV text and options for a table, and the dataset it must load as. */
function render(t: Table, l: Layout): { text: string; options: CsvOptions; want: Dataset } {
  let cellNo = 0;
  const dress = (text: string): string => {
    const k = cellNo++;
    const padded = l.pad[k % Math.max(1, l.pad.length)] ? ` ${text} ` : text;
    return l.quote[k % Math.max(1, l.quote.length)] ? `"${padded}"` : padded;
  };
  const lines: string[] = [];
  if (l.header) lines.push(t.names.map(dress).join(","));
  t.rows.forEach((row, i) => {
    lines.push(row.map((c) => dress(c.text)).join(","));
    if (l.blankAfter.includes(i)) lines.push(i % 2 ? "" : "  ");
  });
  const text = (l.bom ? "\uFEFF" : "") + lines.join(l.newline) + (l.blankAfter.length ? l.newline : "");

  const labelBy = !l.header && l.labelBy === "name" ? "index" : t.label !== 0 && l.labelBy === "default" ? "index" : l.labelBy;
  const scale = l.scale ?? 1;
  // (tests that damage the table use only the text: these stay defined for any table)
  const maxLabel = Math.max(0, ...t.rows.map((r) => r[t.label]?.value ?? 0).filter(Number.isFinite));
  const classes = l.extraClasses === undefined ? undefined : maxLabel + 1 + l.extraClasses;
  const options: CsvOptions = {
    ...(l.headerOption === "given" ? { header: l.header } : {}),
    ...(labelBy === "index" ? { labelColumn: t.label } : labelBy === "name" ? { labelColumn: t.names[t.label]! } : {}),
    ...(l.scale === undefined ? {} : { scale }),
    ...(classes === undefined ? {} : { classes }),
  };
  const width = t.names.length;
  const features = t.rows.flatMap((row) => row.filter((_, j) => j !== t.label).map((c) => Math.fround(c.value / scale)));
  const want: Dataset = {
    count: t.rows.length,
    inputSize: width - 1,
    inputs: Float32Array.from(features),
    targets: { kind: "labels", labels: Int32Array.from(t.rows, (r) => r[t.label]?.value ?? 0), classes: classes ?? maxLabel + 1 },
  };
  return { text, options, want };
}

/** Cells that are not numbers, or not finite, or not finite as float32. */
const badFeature = fc.constantFrom("NaN", "nan", "Infinity", "-Infinity", "inf", "", "abc", "1e999", "-1e400", "--1", "1 2", "1e", ".", "one", "∞", "0x", "1e39");
/** Labels that are not integers ≥ 0. */
// (text like "abc" is a class name, not a bad label: see the string-label property below)
const badLabel = fc.constantFrom("-1", "1.5", "2.5e0", "-0.5", "2x", "", "NaN", "Infinity", "1e999", "3 4");

/** The dataset's fields as plain values, for comparison. */
function plain(d: Dataset): unknown {
  return { count: d.count, inputSize: d.inputSize, inputs: Array.from(d.inputs), targets: { ...d.targets, labels: d.targets.kind === "labels" ? Array.from(d.targets.labels) : [] } };
}

/** Checks the shape invariants of any dataset the reader returns. */
function expectWellFormed(d: Dataset): void {
  expect(Number.isInteger(d.count) && d.count > 0).toBe(true);
  expect(Number.isInteger(d.inputSize) && d.inputSize > 0).toBe(true);
  expect(d.inputs.length).toBe(d.count * d.inputSize);
  expect(d.inputs.every(Number.isFinite)).toBe(true);
  if (d.targets.kind !== "labels") return expect.fail("expected labels");
  expect(d.targets.labels.length).toBe(d.count);
  expect(d.targets.labels.every((v) => v >= 0 && v < (d.targets as { classes: number }).classes)).toBe(true);
}

describe("CSV reader (fast-check)", () => {
  it("a valid table, written in any of the accepted ways, loads to exactly its values", () => {
    fc.assert(
      fc.property(table, layout, (t, l) => {
        const { text, options, want } = render(t, l);
        const got = outcomeOf(() => parseCsv(text, "fuzz.csv", options));
        if ("error" in got) throw got.error;
        expectWellFormed(got.value);
        expect(plain(got.value)).toEqual(plain(want));
      }),
      fuzzSettings(1000),
    );
  });

  it("one bad feature cell or bad label: an error naming the file, the row and the column", () => {
    fc.assert(
      fc.property(table, layout, fc.nat(), fc.nat(), badFeature, badLabel, (t, l, rowPick, colPick, feature, label) => {
        const i = rowPick % t.rows.length;
        const j = colPick % t.names.length;
        const rows = t.rows.map((r) => [...r]);
        rows[i]![j] = { text: j === t.label ? label : feature, value: NaN };
        // a header row is auto-detected from its cells: say it, so a bad cell cannot turn row 1 into a header
        // (1e39 overflows float32 only unscaled)
        const scale = feature === "1e39" ? undefined : l.scale;
        const { text, options } = render({ ...t, rows }, { ...l, headerOption: "given", extraClasses: undefined, scale });
        const got = outcomeOf(() => parseCsv(text, "fuzz.csv", options));
        if (!("error" in got)) return expect.fail(`loaded ${JSON.stringify(plain(got.value))} from ${JSON.stringify(text)}`);
        expectClearError(got.error);
        expect((got.error as Error).message).toContain("fuzz.csv");
        // "1e39" is a finite double but not a finite float32: caught after parsing, by the dataset check
        if (feature !== "1e39" || j === t.label) expect((got.error as Error).message).toMatch(/row \d+/);
      }),
      fuzzSettings(1000),
    );
  });

  it("rows of the wrong width, labels beyond `classes`, bad options: a clear error", () => {
    const badOptions = fc.record(
      {
        labelColumn: fc.oneof(fc.integer({ min: -2, max: 8 }), fc.constantFrom(1.5, NaN, "nope", null, {})),
        scale: fc.constantFrom(0, -1, NaN, Infinity, "2", null),
        classes: fc.constantFrom(0, -3, 1.5, NaN, "10", null),
        header: fc.constantFrom("yes", 1, null, "auto", true, false),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(table, layout, fc.nat(), fc.oneof(fc.constant("drop"), fc.constant("add"), fc.constant("classes"), badOptions), (t, l, pick, fault) => {
        const rows = t.rows.map((r) => [...r]);
        let { text, options } = render({ ...t, rows }, { ...l, headerOption: "given" });
        if (fault === "drop" || fault === "add") {
          fc.pre(rows.length > 1); // the first data row sets the width: damage another one
          const i = 1 + (pick % (rows.length - 1));
          if (fault === "drop") rows[i]!.pop();
          else rows[i]!.push({ text: "1", value: 1 });
          ({ text, options } = render({ ...t, rows }, { ...l, headerOption: "given" }));
        } else if (fault === "classes") {
          options = { ...options, classes: Math.max(...t.rows.map((r) => r[t.label]!.value)) };
          if (options.classes === 0) options.classes = -1; // 0 classes is already invalid
        } else {
          options = { ...options, ...(fault as CsvOptions) };
        }
        const got = outcomeOf(() => parseCsv(text, "fuzz.csv", options));
        if ("error" in got) return expectClearError(got.error);
        // some random options are valid after all (labelColumn in range, header "auto"…): then the shape must hold
        expect(typeof fault).toBe("object");
        expectWellFormed(got.value);
        const headerRow = options.header === undefined || options.header === "auto" ? l.header : options.header;
        expect(got.value.count).toBe(t.rows.length + (l.header ? 1 : 0) - (headerRow ? 1 : 0));
      }),
      fuzzSettings(600),
    );
  });

  it("random text, random bytes from a file: a dataset of the right shape or a clear error", async () => {
    const line = fc.array(fc.oneof(fc.stringMatching(/^[-+0-9.eE ]{0,6}$/), fc.string({ maxLength: 4 }), fc.constantFrom("NaN", "Infinity", '"', '""', "1,2")), {
      minLength: 0,
      maxLength: 5,
    });
    const text = fc.oneof(
      fc.array(line, { maxLength: 6 }).map((rows) => rows.map((r) => r.join(",")).join("\n")),
      fc.string({ maxLength: 60 }),
    );
    let fileNo = 0;
    await fc.assert(
      fc.asyncProperty(text, fc.uint8Array({ maxLength: 40 }), fc.boolean(), async (t, bytes, fromBytes) => {
        const file = path.join(dir, `r${fileNo++}.csv`);
        writeFileSync(file, fromBytes ? bytes : t);
        const got = await settled(loadCsv(file));
        if ("error" in got) return expectClearError(got.error);
        expectWellFormed(got.value);
      }),
      fuzzSettings(600),
    );
  });

  it("text labels: classes are the sorted distinct names, whatever the separator, quoting and row order", () => {
    // names with separators, quotes, spaces inside and line breaks: all need quoting (a doubled quote is a quote)
    const name = fc.stringMatching(/^[a-z][a-z ,;\t"\n]{0,6}[a-z]$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { minLength: 1, maxLength: 4 }),
        // (two rows at least: one row of text is taken for a header)
        fc.array(fc.tuple(fc.nat(), fc.double({ min: -100, max: 100, noNaN: true })), { minLength: 2, maxLength: 8 }),
        fc.constantFrom(",", ";", "\t"),
        fc.boolean(),
        fc.constantFrom("\n", "\r\n"),
        (names, rows, separator, header, newline) => {
          const quote = (text: string): string => `"${text.replace(/"/g, '""')}"`;
          const used = rows.map(([k]) => names[k % names.length]!);
          const lines = [...(header ? [[quote("x"), quote("class")].join(separator)] : []), ...rows.map(([, v], i) => [String(v), quote(used[i]!)].join(separator))];
          const got = outcomeOf(() => parseCsv(lines.join(newline), "names.csv", { labelColumn: 1 }));
          if ("error" in got) throw got.error;
          const classes = [...new Set(used)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          expect(got.value.classNames).toEqual(classes);
          expect(Array.from((got.value.targets as { labels: Int32Array }).labels)).toEqual(used.map((n) => classes.indexOf(n)));
          expect(Array.from(got.value.inputs)).toEqual(rows.map(([, v]) => Math.fround(Number(String(v)))));
        },
      ),
      fuzzSettings(500),
    );
  });

  // Was a bug found by this fuzzing (now fixed): labels are stored in an Int32Array without a range check, so a
  // label ≥ 2^31 wraps: 4294967296 becomes label 0 (with classes 4294967297), 2^31 becomes negative.
  // Such labels are now an error.
  it("regression: a label too large for the label array (≥ 2^31) is an error, not another label", () => {
    const got = outcomeOf(() => parseCsv("4294967296,1\n", "big.csv"));
    expect("error" in got && got.error).toBeInstanceOf(ShoalError); // now: loads as label 0, classes 4294967297
  });
});
