/**
 * Property tests of the IDX readers (readIdxImages, readIdxLabels, loadIdxDataset) on damaged
 * files: valid small files, raw or gzipped, then truncated, with bytes overwritten, with bytes
 * appended, with a random header or random declared sizes — before or after compression. Each case
 * is judged by an independent reading of the format (`expected` below): the reader must return
 * exactly that file's contents when the file is valid, and a DataFileError otherwise; never another
 * error, never a wrong shape, and never memory in proportion to a size the header only declares.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { DataFileError, loadIdxDataset, readIdxImages, readIdxLabels } from "../src/index.js";
import { expectClearError, fuzzSettings, memory, MiB, settled } from "./fixtures/fuzz-helpers.js";

const dir = mkdtempSync(path.join(tmpdir(), "shoal-fuzz-idx-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function write(bytes: Uint8Array, gz: boolean): string {
  const file = path.join(dir, `f${fileNo++}.idx${gz ? ".gz" : ""}`);
  writeFileSync(file, bytes);
  return file;
}

type Kind = "images" | "labels";

/** An IDX file of unsigned bytes: 0, 0, 0x08, dims.length, the sizes big-endian, then the values. */
function idx(dims: readonly number[], values: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, k) => head.writeUInt32BE(d, 4 + 4 * k));
  return Buffer.concat([head, values]);
}

/** What a file should read as, from the format alone: its sizes and values, or undefined if it is not a valid IDX file of `kind`. */
function expected(file: Uint8Array, gz: boolean, kind: Kind): { dims: number[]; values: Uint8Array } | undefined {
  let bytes = Buffer.from(file);
  // named .gz, or starting with the gzip magic (a valid raw IDX file starts with 0 0)
  if (gz || (bytes[0] === 0x1f && bytes[1] === 0x8b)) {
    try {
      bytes = gunzipSync(bytes);
    } catch {
      return undefined;
    }
  }
  const ndims = kind === "images" ? 3 : 1;
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08 || bytes[3] !== ndims) return undefined;
  const dims = Array.from({ length: ndims }, (_, k) => bytes.readUInt32BE(4 + 4 * k));
  if (dims.reduce((n, d) => n * BigInt(d), 1n) !== BigInt(bytes.length - headerSize)) return undefined;
  if (kind === "images" && (dims[1] === 0 || dims[2] === 0)) return undefined;
  return { dims, values: bytes.subarray(headerSize) };
}

/** Damage done to a file. Positions are taken modulo the file's length. */
type Damage =
  | { kind: "none" }
  | { kind: "truncate"; at: number }
  | { kind: "overwrite"; bytes: { at: number; value: number }[] }
  | { kind: "append"; extra: Uint8Array }
  | { kind: "declare"; dim: number; size: number }
  | { kind: "header"; magic: Uint8Array };

const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.constant({ kind: "none" as const }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("overwrite" as const),
    bytes: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant("append" as const), extra: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  // declared sizes: small ones that are merely wrong, and huge ones that must not be allocated
  fc.record({
    kind: fc.constant("declare" as const),
    dim: fc.nat({ max: 2 }),
    size: fc.oneof(fc.nat({ max: 12 }), fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0xffffffff, 0x80000000, 0x10000)),
  }),
  // a random magic number: other data types, other dimension counts, images and labels swapped, garbage
  fc.record({
    kind: fc.constant("header" as const),
    magic: fc.oneof(
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.tuple(fc.constantFrom(0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e), fc.nat({ max: 4 })).map(([t, d]) => Uint8Array.of(0, 0, t, d)),
    ),
  }),
);

function applyDamage(file: Uint8Array, d: Damage): Uint8Array {
  const out = Buffer.from(file);
  switch (d.kind) {
    case "none":
      return out;
    case "truncate":
      return out.subarray(0, d.at % out.length);
    case "overwrite":
      for (const { at, value } of d.bytes) out[at % out.length] = value;
      return out;
    case "append":
      return Buffer.concat([out, d.extra]);
    case "declare":
      if (out.length >= 8 + 4 * d.dim) out.writeUInt32BE(d.size, 4 + 4 * d.dim);
      return out;
    case "header":
      out.set(d.magic.subarray(0, Math.min(4, out.length)));
      return out;
  }
}

/** Raw, gzipped and damaged before compression (a valid .gz of a bad IDX file), or gzipped and damaged after. */
type Layer = "raw" | "gz, damaged inside" | "gz, damaged outside";
const layer = fc.constantFrom<Layer>("raw", "gz, damaged inside", "gz, damaged outside");

function damagedFile(valid: Buffer, d: Damage, where: Layer): { bytes: Uint8Array; gz: boolean } {
  if (where === "raw") return { bytes: applyDamage(valid, d), gz: false };
  if (where === "gz, damaged inside") return { bytes: gzipSync(applyDamage(valid, d)), gz: true };
  return { bytes: applyDamage(gzipSync(valid), d), gz: true };
}

const imageSet = fc
  .record({ count: fc.nat({ max: 5 }), rows: fc.integer({ min: 1, max: 4 }), cols: fc.integer({ min: 1, max: 4 }) })
  .chain(({ count, rows, cols }) =>
    fc.record({
      dims: fc.constant([count, rows, cols]),
      pixels: fc.uint8Array({ minLength: count * rows * cols, maxLength: count * rows * cols }),
      labels: fc.uint8Array({ minLength: count, maxLength: count, max: 9 }),
    }),
  );

describe("IDX readers on damaged files (fast-check)", () => {
  it("readIdxImages: the file's exact contents when it is valid, else a DataFileError", async () => {
    await fc.assert(
      fc.asyncProperty(imageSet, damage, layer, async ({ dims, pixels }, d, where) => {
        const { bytes, gz } = damagedFile(idx(dims, pixels), d, where);
        const file = write(bytes, gz);
        const want = expected(bytes, gz, "images");
        const got = await settled(readIdxImages(file));
        if (want === undefined) {
          if (!("error" in got)) expect.fail(`read an invalid file as ${JSON.stringify(got.value).slice(0, 200)}`);
          expectClearError(got.error);
          expect(got.error).toBeInstanceOf(DataFileError);
          expect((got.error as DataFileError).file).toBe(file);
          return;
        }
        if ("error" in got) throw got.error;
        const { count, rows, cols, pixels: read } = got.value;
        expect([count, rows, cols]).toEqual(want.dims);
        expect(read.length).toBe(count * rows * cols);
        expect(Buffer.from(read).equals(want.values)).toBe(true);
      }),
      fuzzSettings(400),
    );
  });

  it("readIdxLabels: the file's exact contents when it is valid, else a DataFileError", async () => {
    await fc.assert(
      fc.asyncProperty(imageSet, damage, layer, async ({ labels }, d, where) => {
        const { bytes, gz } = damagedFile(idx([labels.length], labels), d, where);
        const file = write(bytes, gz);
        const want = expected(bytes, gz, "labels");
        const got = await settled(readIdxLabels(file));
        if (want === undefined) {
          if (!("error" in got)) expect.fail(`read an invalid file as ${JSON.stringify(got.value).slice(0, 200)}`);
          expectClearError(got.error);
          expect(got.error).toBeInstanceOf(DataFileError);
          return;
        }
        if ("error" in got) throw got.error;
        expect(got.value.count).toBe(want.dims[0]);
        expect(Buffer.from(got.value.labels).equals(want.values)).toBe(true);
      }),
      fuzzSettings(300),
    );
  });

  it("loadIdxDataset with random options: the right dataset (shape, scaled pixels, labels, classes), else a clear error", async () => {
    // options, valid or not: limit and classes as numbers of every kind, and non-numbers
    const optionValue = fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: fc.nat({ max: 12 }) },
      { weight: 1, arbitrary: fc.constantFrom(-1, 0.5, NaN, Infinity, 2 ** 31, "3" as unknown as number, null as unknown as number) },
    );
    // mostly intact files, so that valid pairs (and the checks of their contents) are common
    const mostlyIntact = fc.oneof({ weight: 4, arbitrary: fc.constant<Damage>({ kind: "none" }) }, { weight: 1, arbitrary: damage });
    await fc.assert(
      fc.asyncProperty(
        imageSet,
        fc.record({ images: mostlyIntact, labels: mostlyIntact }),
        fc.record({ limit: optionValue, classes: optionValue }, { requiredKeys: [] }),
        fc.boolean(),
        async ({ dims, pixels, labels }, d, options, gz) => {
          const imagesBytes = damagedFile(idx(dims, pixels), d.images, gz ? "gz, damaged inside" : "raw").bytes;
          const labelsBytes = damagedFile(idx([labels.length], labels), d.labels, gz ? "gz, damaged outside" : "raw").bytes;
          const imagesFile = write(imagesBytes, gz);
          const labelsFile = write(labelsBytes, gz);
          const got = await settled(loadIdxDataset(imagesFile, labelsFile, options));

          const images = expected(imagesBytes, gz, "images");
          const labelFile = expected(labelsBytes, gz, "labels");
          const { limit, classes } = options;
          const validOptions =
            (limit === undefined || (Number.isInteger(limit) && limit >= 0)) && (classes === undefined || (Number.isInteger(classes) && classes >= 1));
          const maxLabel = labelFile ? Math.max(-1, ...labelFile.values) : -1;
          const ok = validOptions && images && labelFile && images.dims[0] === labelFile.dims[0] && (classes === undefined || maxLabel < classes);
          if (!ok) {
            if (!("error" in got)) expect.fail(`loaded ${JSON.stringify({ options, images: images?.dims, labels: labelFile?.dims })}`);
            expectClearError(got.error);
            return;
          }
          if ("error" in got) throw got.error;
          const data = got.value;
          const count = Math.min(images.dims[0]!, limit ?? Infinity);
          const inputSize = images.dims[1]! * images.dims[2]!;
          expect(data.count).toBe(count);
          expect(data.inputSize).toBe(inputSize);
          expect(data.inputs.length).toBe(count * inputSize);
          expect(Array.from(data.inputs)).toEqual(Array.from(images.values.subarray(0, count * inputSize), (p) => Math.fround(p / 255)));
          expect(data.targets).toEqual({
            kind: "labels",
            labels: Int32Array.from(labelFile.values.subarray(0, count)),
            classes: classes ?? Math.max(1, maxLabel + 1),
          });
        },
      ),
      fuzzSettings(400),
    );
  });

  it("huge declared sizes in a file of at most 30 bytes: an error, and no memory in proportion to them", async () => {
    const size = fc.oneof(fc.constantFrom(0xffffffff, 0x80000000, 0x7fffffff, 0x10000, 60_000), fc.integer({ min: 0, max: 0xffffffff }));
    const before = memory();
    let worst = { arrayBuffers: 0, rss: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Kind>("images", "labels"),
        fc.array(size, { minLength: 3, maxLength: 3 }),
        fc.uint8Array({ maxLength: 14 }),
        fc.boolean(),
        async (kind, sizes, payload, gz) => {
          const dims = kind === "images" ? sizes : sizes.slice(0, 1);
          if (dims.reduce((n, s) => n * s, 1) === payload.length) return; // valid after all: not this property's case
          const raw = idx(dims, payload);
          const file = write(gz ? gzipSync(raw) : raw, gz);
          expect(raw.length).toBeLessThanOrEqual(30);
          const got = await settled<unknown>(kind === "images" ? readIdxImages(file) : readIdxLabels(file));
          if (!("error" in got)) expect.fail(`read ${file} with declared sizes ${dims.join("×")}`);
          expectClearError(got.error);
          expect(got.error).toBeInstanceOf(DataFileError);
          const now = memory();
          worst = { arrayBuffers: Math.max(worst.arrayBuffers, now.arrayBuffers - before.arrayBuffers), rss: Math.max(worst.rss, now.rss - before.rss) };
          // typed arrays and Buffers count in arrayBuffers as soon as they are allocated, even unused
          expect(now.arrayBuffers - before.arrayBuffers).toBeLessThan(32 * MiB);
          expect(now.rss - before.rss).toBeLessThan(256 * MiB);
        },
      ),
      fuzzSettings(300),
    );
    expect(worst.arrayBuffers).toBeLessThan(32 * MiB);
  });
});
