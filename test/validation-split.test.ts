import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classesMissing, holdOut } from "../src/cli/data-source.js";
import { createDataset, type Dataset } from "../src/index.js";
import { makeTempDir, removeTempDir, shoal } from "./fixtures/cli-helpers.js";

// `--validation n` on data sorted by class: `last` holds out one class only (and says so); `random`,
// the default, draws n examples with the run's seed.
let dir: string;
beforeAll(async () => void (dir = await makeTempDir()));
afterAll(() => removeTempDir(dir));

/** n examples per class of 3, sorted by class as iris.csv is; input 0 is the example's index. */
function sortedByClass(n: number): Dataset {
  const inputs = Array.from({ length: 3 * n }, (_, i) => [i, (i % n) / n]);
  return createDataset({ inputs, labels: inputs.map((_, i) => Math.floor(i / n)) });
}

const labelsOf = (d: Dataset): number[] => (d.targets.kind === "labels" ? Array.from(d.targets.labels) : []);
const indicesOf = (d: Dataset): number[] => Array.from({ length: d.count }, (_, i) => d.inputs[i * d.inputSize]!);

describe("holdOut", () => {
  const data = sortedByClass(10);

  it("last: the last n examples, so a file sorted by class loses a class from training", () => {
    const { train, validation } = holdOut(data, 10, "last", 1);
    expect(indicesOf(validation)).toEqual(Array.from({ length: 10 }, (_, i) => 20 + i));
    expect(classesMissing(train, validation)).toEqual([2]);
  });

  it("random: n examples drawn with the seed, the same for the same seed; the rest trains, both in file order", () => {
    const { train, validation } = holdOut(data, 10, "random", 1);
    expect(validation.count).toBe(10);
    expect(train.count).toBe(20);
    const held = indicesOf(validation);
    const kept = indicesOf(train);
    expect([...held, ...kept].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(held).toEqual([...held].sort((a, b) => a - b));
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    // labels stay with their inputs
    expect(labelsOf(validation)).toEqual(held.map((i) => Math.floor(i / 10)));
    expect(new Set(labelsOf(validation)).size).toBeGreaterThan(1);
    expect(classesMissing(train, validation)).toEqual([]);
    expect(indicesOf(holdOut(data, 10, "random", 1).validation)).toEqual(held);
    expect(indicesOf(holdOut(data, 10, "random", 2).validation)).not.toEqual(held);
  });

  it("leaves at least one training example", () => {
    expect(() => holdOut(data, 30, "random", 1)).toThrow("--validation 30 leaves no training examples: the training set has 30");
  });
});

describe("shoal train --validation on a CSV file sorted by class", () => {
  let csv: string;
  beforeAll(async () => {
    csv = path.join(dir, "sorted.csv");
    const rows = ["species,a,b"];
    for (let i = 0; i < 30; i++) rows.push(`${Math.floor(i / 10)},${(i % 10) / 10},${Math.floor(i / 10) / 2}`);
    await writeFile(csv, rows.join("\n") + "\n");
  });

  it("--validation-split last warns on stderr, not in the NDJSON stdout, that the validation set has a class training lacks", async () => {
    const out = path.join(dir, "last.json");
    const result = await shoal(["train", "--data", csv, "--hidden", "4", "--epochs", "1", "--threads", "0", "--seed", "1", "--validation", "10", "--validation-split", "last", "--json", "--out", out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("warning: the validation set has class 2 that no training example has: the network cannot learn it (--validation-split last");
    expect(result.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { epoch: number }).epoch)).toEqual([1]);
  });

  it("by default draws the validation examples with the run's seed: no warning, and the model says how", async () => {
    const out = path.join(dir, "random.json");
    const result = await shoal(["train", "--data", csv, "--hidden", "4", "--epochs", "1", "--threads", "0", "--seed", "1", "--validation", "10", "--json", "--out", out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain("warning");
    const { metadata } = JSON.parse(await readFile(out, "utf8")) as { metadata: Record<string, unknown> };
    expect(metadata).toMatchObject({ trainExamples: 20, validationExamples: 10, validationSplit: "random" });
  });

  it("a test file with a class the training data lacks is warned about too", async () => {
    const test = path.join(dir, "test.csv");
    await writeFile(test, "species,a,b\n0,0.1,0\n3,0.5,1\n");
    const result = await shoal(["train", "--data", csv, "--test-data", test, "--hidden", "4", "--epochs", "1", "--threads", "0", "--json", "--out", path.join(dir, "t.json")]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("warning: the test set has class 3 that no training example has: the network cannot learn it\n");
  });

  it("--validation-split without --validation is a usage error", async () => {
    const result = await shoal(["train", "--data", csv, "--validation-split", "last"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--validation-split applies to --validation n, which was not given");
  });
});
