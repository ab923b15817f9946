import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../src/index.js";
import { threadChoice } from "../src/train/options.js";
import { makeTempDir, removeTempDir, shoal } from "./fixtures/cli-helpers.js";
import { someDigits } from "./fixtures/digits.js";

describe("shoal train with --threads auto (the default): the choice and its reason", () => {
  let dir: string;
  let expected: { threads: number; reason: string };
  beforeAll(async () => {
    dir = await makeTempDir();
    const { train } = await someDigits(300); // what --limit 300 trains on
    expected = (({ threads, reason }) => ({ threads, reason }))(threadChoice({ threads: "auto", miniBatchSize: 10 }, { sizes: [784, 30, 10], dtype: "float32", data: train }));
  });
  afterAll(() => removeTempDir(dir));

  it("--json: every epoch object, and the model's metadata, carry the count and why", async () => {
    const model = path.join(dir, "auto.json");
    const run = await shoal(["train", "--epochs", "2", "--limit", "300", "--test-limit", "50", "--seed", "1", "--json", "--out", model]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect({ threads: line.threads, reason: line.threadsReason }).toEqual(expected);
    expect(expected.reason).toMatch(/^\d+ threads?( sharing the hidden layer's neurons)?: a 784-30-10 step at batch 10 \(wasm kernel\) is ~/);
    const { metadata } = await loadModel(model);
    expect(metadata).toMatchObject({ threads: expected.threads, threadsReason: expected.reason });
  });

  it("the run header says what auto chose and why; a count given says no more than the count", async () => {
    const auto = await shoal(["train", "--epochs", "1", "--limit", "300", "--test-limit", "50", "--seed", "1", "--out", path.join(dir, "a.json")]);
    expect(auto.code, auto.stderr).toBe(0);
    const header = auto.stdout.split("\n");
    expect(header[1]).toContain(`, ${expected.threads} thread${expected.threads === 1 ? "" : "s"} (auto), seed 1`);
    expect(header[2]).toBe(`auto chose ${expected.reason}`);
    const given = await shoal(["train", "--epochs", "1", "--limit", "300", "--test-limit", "50", "--seed", "1", "--threads", "1", "--out", path.join(dir, "b.json")]);
    expect(given.code, given.stderr).toBe(0);
    expect(given.stdout.split("\n")[1]).toContain(", 1 thread, seed 1");
    expect(given.stdout).not.toContain("auto chose");
  });
});
