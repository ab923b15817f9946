// `shoal train --eta-schedule … --early-stopping n --keep-best` end to end (issue 18 items 4 and 5).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCheckpoint, loadMnistDigits, loadModel, Network, sliceDataset, train } from "../src/index.js";
import { makeTempDir, removeTempDir, shoal } from "./fixtures/cli-helpers.js";

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(() => removeTempDir(dir));

describe("shoal train with a schedule and early stopping", () => {
  it("trains each epoch at the schedule's η, stops early, and saves the best epoch's model with --keep-best", async () => {
    const out = path.join(dir, "best.json");
    const checkpoint = path.join(dir, "run.ckpt.json");
    const args = [
      "train", "--limit", "400", "--test-limit", "100", "--validation", "100", "--validation-split", "last", "--hidden", "10",
      "--epochs", "20", "--eta-schedule", "step:3:0.5", "--early-stopping", "2", "--keep-best", "--seed", "3", "--threads", "1",
    ];
    const run = await shoal([...args, "--json", "--out", out, "--checkpoint", checkpoint]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n").map((line) => JSON.parse(line) as { epoch: number; eta: number; validationAccuracy: number });
    expect(lines.length).toBeLessThan(20);
    expect(lines.map((l) => l.eta)).toEqual(lines.map((l) => 3 * 0.5 ** Math.floor((l.epoch - 1) / 3)));
    const accuracies = lines.map((l) => l.validationAccuracy);
    const best = accuracies.indexOf(Math.max(...accuracies)) + 1;
    expect(run.stderr).toContain(`stopped after epoch ${lines.length}: the monitored accuracy stopped improving (--early-stopping)`);
    expect(run.stderr).toContain(`holds the parameters of epoch ${best}, the best (--keep-best)`);

    const { network, metadata } = await loadModel(out);
    expect(metadata).toMatchObject({ bestEpoch: best, epochs: lines.length, etaSchedule: "step:3:0.5", earlyStopping: { patience: 2, keepBest: true } });
    expect(network.sizes).toEqual([784, 10, 10]);

    // resuming a run that stopped trains nothing, and says why
    const again = await shoal(["train", "--resume", checkpoint, "--epochs", "20"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`nothing to train: the run of ${checkpoint} stopped after epoch ${lines.length}`);
    expect((await loadCheckpoint(checkpoint)).schedule?.stopped).toEqual({ epoch: lines.length, reason: "early-stopping" });
    // the schedule is the checkpoint's: it cannot be given again with --resume
    const changed = await shoal(["train", "--resume", checkpoint, "--eta-schedule", "plateau"]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain("--eta-schedule cannot be given with it");
  }, 60_000);

  it("shows η in each epoch's line and in a panel of the plot when a schedule is set", async () => {
    const plot = path.join(dir, "eta.svg");
    const args = ["train", "--limit", "200", "--test-limit", "50", "--hidden", "5", "--epochs", "3", "--seed", "1", "--threads", "0"];
    const run = await shoal([...args, "--eta-schedule", "step:1:0.5", "--out", path.join(dir, "eta.json"), "--plot", plot]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/epoch 1\/3 .*η 3 /);
    expect(run.stdout).toMatch(/epoch 3\/3 .*η 0\.75 /);
    expect(await readFile(plot, "utf8")).toContain(">η</text>");
    // without a schedule: no η in the line, no η panel
    const plain = path.join(dir, "plain.svg");
    const constant = await shoal([...args, "--out", path.join(dir, "plain.json"), "--plot", plain]);
    const epochLines = constant.stdout.split("\n").filter((line) => line.startsWith("epoch"));
    expect(epochLines).toHaveLength(3);
    for (const line of epochLines) expect(line).not.toContain("η");
    expect(await readFile(plain, "utf8")).not.toContain(">η</text>");
  }, 60_000);

  it("refuses a bad schedule, a patience of 0 and --keep-best without --early-stopping, naming them", async () => {
    const bad = await shoal(["train", "--eta-schedule", "cosine", "--epochs", "1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--eta-schedule: eta schedule "cosine" is not plateau, plateau:<patience> or step:<every>:<factor>');
    const zero = await shoal(["train", "--early-stopping", "0", "--epochs", "1"]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain("--early-stopping must be a positive integer, got 0");
    const keep = await shoal(["train", "--keep-best", "--epochs", "1"]);
    expect(keep.code).toBe(2);
    expect(keep.stderr).toContain("--keep-best applies to --early-stopping <patience>, which was not given");
  }, 60_000);
});

describe("the library and the command line agree", () => {
  it("a library run with the same schedule gives the CLI's parameters", async () => {
    const out = path.join(dir, "lib.json");
    const run = await shoal(["train", "--limit", "300", "--test-limit", "100", "--hidden", "8", "--epochs", "4", "--eta-schedule", "step:2:0.5", "--seed", "5", "--threads", "1", "--json", "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    const { network } = await loadModel(out);
    const digits = await loadMnistDigits();
    const [data, test] = [sliceDataset(digits.train, 0, 300), sliceDataset(digits.test, 0, 100)];
    const net = Network.create([784, 8, 10], { seed: 5 });
    await train(net, data, { epochs: 4, miniBatchSize: 10, eta: 3, seed: 5, threads: 1, testData: test, etaSchedule: { kind: "step", every: 2, factor: 0.5 } });
    expect(Array.from(network.params)).toEqual(Array.from(net.params));
  }, 60_000);
});
