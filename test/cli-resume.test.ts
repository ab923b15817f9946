import { copyFile, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
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

    // the checkpoint records the data, its limits and --out: --resume alone continues the run
    const resumed = await shoal(["train", "--json", "--resume", checkpoint]);
    expect(resumed.code).toBe(0);
    const lines = resumed.stdout.trim().split("\n").map((l) => JSON.parse(l) as { epoch: number });
    expect(lines.map((l) => l.epoch)).toEqual(Array.from({ length: 4 - saved.epoch }, (_, i) => saved.epoch + 1 + i));
    expect(resumed.stderr).toMatch(new RegExp(`; saved ${out}\\n$`));
    expect(await parameters(out)).toBe(await parameters(straight));
  }, 120_000);

  it("--resume with an architecture flag is a usage error", async () => {
    const result = await shoal(["train", "--resume", path.join(dir, "x.json"), "--hidden", "20"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--hidden cannot be combined with --resume: the checkpoint fixes the network");
  });
});

describe("shoal train --resume on a small CSV run", () => {
  const fixtures = fileURLToPath(new URL("fixtures/formats/", import.meta.url));
  const tiny = path.join(fixtures, "tiny.csv");
  const base = ["train", "--data", tiny, "--hidden", "3", "--seed", "7", "--threads", "0", "--validation", "6", "--json"];
  const epochsOf = (stdout: string): number[] => stdout.trim().split("\n").map((l) => (JSON.parse(l) as { epoch: number }).epoch);

  it("continues with its data, validation split and files; only --epochs (longer) changes it; bit-identical to a straight run", async () => {
    const straight = path.join(dir, "straight.json");
    expect((await shoal([...base, "--epochs", "4", "--out", straight])).code).toBe(0);
    const out = path.join(dir, "r.json");
    const checkpoint = path.join(dir, "ck.json");
    expect((await shoal([...base, "--epochs", "2", "--out", out, "--checkpoint", checkpoint])).code).toBe(0);

    const refused = await shoal(["train", "--resume", checkpoint, "--batch", "5", "--data", "mnist", "--epochs", "4", "--validation", "3"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`shoal: --resume continues the run as ${checkpoint} recorded it: --data, --batch, --validation cannot be given with it (only --epochs, to train longer, --threads and --json)\n`);

    const longer = await shoal(["train", "--resume", checkpoint, "--epochs", "4", "--json"]);
    expect(longer.code, longer.stderr).toBe(0);
    expect(epochsOf(longer.stdout)).toEqual([3, 4]);
    expect(await parameters(out)).toBe(await parameters(straight));
    const { metadata } = JSON.parse(await readFile(out, "utf8")) as { metadata: Record<string, unknown> };
    expect(metadata).toMatchObject({ epochs: 4, trainExamples: 18, validationExamples: 6, validationSplit: "random", weightInit: "scaled-gaussian" });
    expect((await loadCheckpoint(checkpoint)).epoch).toBe(4);
  });

  it("a checkpoint that has all its epochs says so and writes nothing", async () => {
    const out = path.join(dir, "done.json");
    const checkpoint = path.join(dir, "done.ck.json");
    expect((await shoal([...base, "--epochs", "2", "--out", out, "--checkpoint", checkpoint])).code).toBe(0);
    const before = await Promise.all([readFile(out, "utf8"), stat(out), readFile(checkpoint, "utf8")]);

    const again = await shoal(["train", "--resume", checkpoint]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`nothing to train: ${checkpoint} already holds all 2 epochs of its run, and ${out} its model; give --epochs n (more than 2) to train longer\n`);
    expect(again.stdout + again.stderr).not.toContain("saved");
    const json = await shoal(["train", "--resume", checkpoint, "--json"]);
    expect([json.code, json.stdout]).toEqual([0, ""]);
    expect(json.stderr).toContain("nothing to train");
    const shorter = await shoal(["train", "--resume", checkpoint, "--epochs", "1"]);
    expect(shorter.code).toBe(2);
    expect(shorter.stderr).toBe(`shoal: --epochs 1: ${checkpoint} already has 2 epochs done\n`);

    const after = await Promise.all([readFile(out, "utf8"), stat(out), readFile(checkpoint, "utf8")]);
    expect(after[0]).toBe(before[0]);
    expect(after[1].mtimeMs).toBe(before[1].mtimeMs);
    expect(after[2]).toBe(before[2]);
  });

  it("a checkpoint made before runs were recorded (format 1) resumes with its N(0,1) init, its data given as then", async () => {
    // made by shoal at checkpoint format 1 (N(0,1) weights the default): tiny.csv, --hidden 3 --seed 7 --threads 0
    // --epochs 3, stopped after epoch 1; it records no data, so --data comes from the command line
    const checkpoint = path.join(dir, "v1.json");
    await copyFile(path.join(fixtures, "checkpoint-v1.json"), checkpoint);
    const refused = await shoal(["train", "--resume", checkpoint, "--data", tiny, "--eta", "0.5"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`shoal: --resume continues the run as ${checkpoint} recorded it: --eta cannot be given with it\n`);

    const out = path.join(dir, "v1.out.json");
    const resumed = await shoal(["train", "--resume", checkpoint, "--data", tiny, "--out", out, "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(epochsOf(resumed.stdout)).toEqual([2, 3]);
    const straight = path.join(dir, "v1.straight.json");
    const made = await shoal(["train", "--data", tiny, "--hidden", "3", "--seed", "7", "--threads", "0", "--epochs", "3", "--weight-init", "gaussian", "--out", straight]);
    expect(made.code, made.stderr).toBe(0);
    expect(await parameters(out)).toBe(await parameters(straight));
    const model = JSON.parse(await readFile(out, "utf8")) as { init: string; metadata: Record<string, unknown> };
    expect(model.init).toBe("gaussian");
    expect(model.metadata).toMatchObject({ weightInit: "gaussian", epochs: 3 });
  });
});
