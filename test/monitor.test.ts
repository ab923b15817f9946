// Issue 18 §6: network2.py's monitor flags — training accuracy, test and validation cost — opt-in,
// in the reports, `--json` and the plot.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { meanCost } from "../src/core/evaluate.js";
import { Network, sliceDataset, train, ValidationError } from "../src/index.js";
import { makeTempDir, removeTempDir, shoal } from "./fixtures/cli-helpers.js";
import { someDigits } from "./fixtures/digits.js";

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(() => removeTempDir(dir));

describe("monitor", () => {
  it("reports training accuracy, test and validation cost after each epoch, as evaluate and the cost give them", async () => {
    const { train: all, test } = await someDigits(400, 100);
    const [data, validation] = [sliceDataset(all, 0, 300), sliceDataset(all, 300)];
    const net = Network.create([784, 10, 10], { seed: 2 });
    const result = await train(net, data, {
      epochs: 2, miniBatchSize: 10, eta: 3, seed: 1, threads: 2, testData: test, validationData: validation,
      monitor: ["training-accuracy", "test-cost", "validation-cost"],
    });
    const last = result.epochs.at(-1)!;
    expect(last.trainingAccuracy).toBe(net.evaluate(data).accuracy);
    expect(last.testCost).toBe(meanCost(net.architecture, net.params, test));
    expect(last.validationCost).toBe(meanCost(net.architecture, net.params, validation));
    expect(last.testCost).toBeGreaterThan(0);
    // not asked for: not measured
    const plain = await train(Network.create([784, 10, 10], { seed: 2 }), data, { epochs: 1, miniBatchSize: 10, eta: 3, seed: 1, threads: 2, testData: test });
    expect(plain.epochs[0]).not.toHaveProperty("trainingAccuracy");
    expect(plain.epochs[0]).not.toHaveProperty("testCost");
  });

  it("refuses an unknown flag, and a cost of data that is not given, before any thread starts", async () => {
    const { train: data } = await someDigits(50);
    const net = Network.create([784, 5, 10], { seed: 1 });
    const options = { epochs: 1, miniBatchSize: 10, eta: 3, threads: 2 } as const;
    await expect(train(net, data, { ...options, monitor: ["test-accuracy" as never] })).rejects.toThrow(
      new ValidationError('monitor must be one of training-accuracy, test-cost, validation-cost, got "test-accuracy"'),
    );
    await expect(train(net, data, { ...options, monitor: ["test-cost"] })).rejects.toThrow("monitor test-cost needs testData");
    await expect(train(net, data, { ...options, monitor: ["validation-cost"] })).rejects.toThrow("monitor validation-cost needs validationData");
  });

  it("shoal train --monitor: in each line, in --json and in the plot", async () => {
    const plot = path.join(dir, "monitor.svg");
    const args = ["train", "--limit", "300", "--test-limit", "50", "--validation", "50", "--hidden", "8", "--epochs", "2", "--seed", "1", "--threads", "1"];
    const run = await shoal([...args, "--monitor", "training-accuracy,test-cost,validation-cost", "--out", path.join(dir, "m.json"), "--plot", plot]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/epoch 2\/2 .*training \d+\.\d\d% {2}test cost \d\.\d{4} {2}validation cost \d\.\d{4}/);
    expect(await readFile(plot, "utf8")).toContain(">training</text>");
    const json = await shoal([...args, "--monitor", "test-cost", "--json", "--out", path.join(dir, "j.json")]);
    const line = JSON.parse(json.stdout.trim().split("\n")[0]!) as Record<string, unknown>;
    expect(line.testCost).toBeGreaterThan(0);
    expect(line).not.toHaveProperty("trainingAccuracy");
    const bad = await shoal(["train", "--monitor", "test-accuracy", "--epochs", "1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--monitor");
  }, 60_000);
});

describe("monitor in job specs", () => {
  it("a job's reports carry what its spec asks to monitor; validation-cost is refused without a validation set", async () => {
    const { createBackgroundTrainer } = await import("../src/service/index.js");
    const trainer = await createBackgroundTrainer();
    try {
      const spec = { data: { name: "mnist" as const, limit: 200, testLimit: 50 }, layers: [784, 10, 10], epochs: 1, miniBatchSize: 10, eta: 3, seed: 4, threads: 1, monitor: ["training-accuracy", "test-cost"] as ("training-accuracy" | "test-cost")[] };
      const job = await trainer.submit(spec);
      for await (const _ of trainer.events(job.id));
      const report = trainer.job(job.id)!.reports[0]!;
      expect(report.trainingAccuracy).toBeGreaterThan(0);
      expect(report.testCost).toBeGreaterThan(0);
      await expect(trainer.submit({ ...spec, monitor: ["validation-cost"] })).rejects.toThrow("monitor validation-cost needs a validation set: give validation (examples to hold out)");
    } finally {
      await trainer.close();
    }
  }, 60_000);
});
