import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDataset, type Dataset } from "../src/core/dataset.js";
import type { DigitSets } from "../src/data/digits-binary.js";
import { loadFashionMnist } from "../src/data/fashion-mnist.js";
import { cachedSplit, defaultCacheDir } from "../src/data/split-cache.js";

const dirs: string[] = [];
const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(path.join(tmpdir(), "shoal-split-cache-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const bits = (d: Dataset): string => `${d.count}x${d.inputSize}:${Buffer.from(d.inputs.buffer, d.inputs.byteOffset, d.inputs.byteLength).toString("base64")}:${JSON.stringify(d.targets.kind === "labels" ? [...d.targets.labels, d.targets.classes] : [])}`;
/** Byte images ÷ 255, as IDX files give them. */
const split = (): DigitSets => {
  const images = (n: number, seed: number): number[][] => Array.from({ length: n }, (_, i) => Array.from({ length: 6 }, (_, k) => ((i * 7 + k * 13 + seed) % 256) / 255));
  return { train: createDataset({ inputs: images(12, 1), labels: Array.from({ length: 12 }, (_, i) => i % 3), classes: 3 }), test: createDataset({ inputs: images(5, 2), labels: [0, 1, 2, 0, 1], classes: 3 }) };
};

describe("a split cached on first use", () => {
  it("is made once, then read back bit for bit, with limits applied alike", async () => {
    const dir = await tempDir();
    let loads = 0;
    const load = async (): Promise<DigitSets> => (loads++, split());
    const first = await cachedSplit("toy", "v1", {}, load, dir);
    expect(await readdir(dir)).toEqual(["toy.bin"]);
    const again = await cachedSplit("toy", "v1", {}, load, dir);
    expect(loads).toBe(1);
    expect([bits(again.train), bits(again.test)]).toEqual([bits(first.train), bits(first.test)]);
    const limited = await cachedSplit("toy", "v1", { train: 4, test: 2 }, load, dir);
    expect(loads).toBe(1);
    expect([limited.train.count, limited.test.count]).toEqual([4, 2]);
    expect(bits(limited.train)).toBe(bits(createDataset({ inputs: first.train.inputs.slice(0, 24), inputSize: 6, labels: [...(first.train.targets as { labels: Int32Array }).labels.slice(0, 4)], classes: 3 })));
  });

  it("is made again when the source files changed (another fingerprint) or the copy is damaged", async () => {
    const dir = await tempDir();
    let loads = 0;
    const load = async (): Promise<DigitSets> => (loads++, split());
    await cachedSplit("toy", "v1", {}, load, dir);
    await cachedSplit("toy", "v2", {}, load, dir);
    expect(loads).toBe(2);
    const file = path.join(dir, "toy.bin");
    const bytes = await readFile(file);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff; // a test label of the copy: its hash no longer matches
    await writeFile(file, bytes);
    const read = await cachedSplit("toy", "v2", {}, load, dir);
    expect(loads).toBe(3);
    expect(bits(read.test)).toBe(bits(split().test));
    await cachedSplit("toy", "v2", {}, load, dir); // the damaged copy was replaced by a sound one
    expect(loads).toBe(3);
  });

  it("loads all the same where no copy can be written", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "a-file");
    await writeFile(file, "");
    const sets = await cachedSplit("toy", "v1", {}, async () => split(), path.join(file, "cache")); // a folder inside a file
    expect(bits(sets.train)).toBe(bits(split().train));
  });

  it("goes to $XDG_CACHE_HOME/shoal by default (npm test points it at a folder of its own)", () => {
    expect(defaultCacheDir()).toBe(path.join(process.env.XDG_CACHE_HOME!, "shoal"));
  });
});

describe("Fashion-MNIST through its cache", () => {
  it("gives the very datasets the IDX files give, limits included", async () => {
    const cache = await tempDir();
    const direct = await loadFashionMnist({ cache: false, limit: 3000, testLimit: 500 });
    await loadFashionMnist({ cache }); // makes the copy
    const cached = await loadFashionMnist({ cache, limit: 3000, testLimit: 500 });
    expect((await readdir(cache)).filter((f) => f.endsWith(".bin"))).toHaveLength(1);
    expect([bits(cached.train), bits(cached.test)]).toEqual([bits(direct.train), bits(direct.test)]);
    await expect(loadFashionMnist({ cache, limit: -1 })).rejects.toThrow("options.limit must be an integer ≥ 0, got -1");
  });
});
