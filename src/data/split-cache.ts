import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { sliceDataset, type Dataset } from "../core/dataset.js";
import { checkDigits, encodeDigits, expandDigits, type DigitSets } from "./digits-binary.js";

/** Where split caches go: `$XDG_CACHE_HOME/shoal`, else `~/.cache/shoal`. */
export function defaultCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), ".cache"), "shoal");
}

/** How many examples of each set a caller keeps. */
export interface SplitLimits {
  readonly train?: number;
  readonly test?: number;
}

/**
 * A train/test split of byte images, through a compact uncompressed copy cached on first use
 * (the digits file format, digits-binary.ts): later loads skip decompressing and parsing the
 * source files. The copy is named by `name` and checked against `fingerprint` (what the source
 * files were: names, sizes, times), its size and its hash; a missing, stale or damaged copy is
 * made again from `load()`. Writing the copy is best effort (a read-only home folder only costs
 * the speed), and atomic (a temporary file renamed), so concurrent loads never see half a file.
 */
export async function cachedSplit(name: string, fingerprint: string, limits: SplitLimits, load: () => Promise<DigitSets>, dir = defaultCacheDir()): Promise<DigitSets> {
  const file = path.join(dir, `${name}.bin`);
  const bytes = await readFile(file).catch(() => undefined);
  if (bytes !== undefined && checkDigits(bytes, fingerprint) === undefined) return expandDigits(bytes, limits);
  const sets = await load();
  await save(file, sets, fingerprint).catch(() => undefined);
  const first = (set: Dataset, limit: number | undefined): Dataset => (limit === undefined ? set : sliceDataset(set, 0, limit));
  return { train: first(sets.train, limits.train), test: first(sets.test, limits.test) };
}

/** A short name for a source folder, for cache file names. */
export function folderKey(folder: string): string {
  return createHash("sha256").update(path.resolve(folder)).digest("hex").slice(0, 12);
}

async function save(file: string, sets: DigitSets, fingerprint: string): Promise<void> {
  const bytes = encodeDigits(sets, fingerprint); // throws for pixels that are not bytes: no copy then
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } finally {
    await rm(temporary, { force: true });
  }
}
