import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../src/index.js";
import { exitOf, makeTempDir, removeTempDir, shoal, startShoal, waitForLine } from "./fixtures/cli-helpers.js";

let dir: string;
beforeEach(async () => void (dir = await makeTempDir()));
afterEach(() => removeTempDir(dir));

const run = ["--data", "mnist", "--limit", "2000", "--test-limit", "200", "--hidden", "30", "--seed", "5", "--threads", "2", "--epochs", "4", "--json"];

/** The weights and biases of a model file, as JSON text (the metadata — dates, timings — differs). */
async function parameters(file: string): Promise<string> {
  const { weights, biases } = JSON.parse(await readFile(file, "utf8")) as { weights: unknown; biases: unknown };
  return JSON.stringify([weights, biases]);
}

describe("shoal train --checkpoint / --resume", () => {
  it("a run SIGKILLed after its 2nd checkpoint, resumed, ends bit-identical to an uninterrupted run", async () => {
    const straight = path.join(dir, "straight.json");
    expect((await shoal(["train", ...run, "--out", straight])).code).toBe(0);

    const out = path.join(dir, "resumed.json");
    const checkpoint = path.join(dir, "run.checkpoint.json");
    const child = startShoal(["train", ...run, "--out", out, "--checkpoint", checkpoint]);
    const exited = exitOf(child);
    let epochs = 0;
    // the checkpoint is written before the epoch's line is printed
    await waitForLine(child.stdout!, (line) => line.startsWith("{") && ++epochs === 2);
    child.kill("SIGKILL");
    expect((await exited).signal).toBe("SIGKILL");
    const saved = await loadCheckpoint(checkpoint);
    expect(saved.epoch).toBeGreaterThanOrEqual(2);

    const resumed = await shoal(["train", "--data", "mnist", "--limit", "2000", "--test-limit", "200", "--json", "--out", out, "--resume", checkpoint]);
    expect(resumed.code).toBe(0);
    const lines = resumed.stdout.trim().split("\n").map((l) => JSON.parse(l) as { epoch: number });
    expect(lines.map((l) => l.epoch)).toEqual(Array.from({ length: 4 - saved.epoch }, (_, i) => saved.epoch + 1 + i));
    expect(await parameters(out)).toBe(await parameters(straight));
  }, 120_000);

  it("--resume with an architecture flag is a usage error", async () => {
    const result = await shoal(["train", "--resume", path.join(dir, "x.json"), "--hidden", "20"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--hidden cannot be combined with --resume: the checkpoint fixes the network");
  });
});
