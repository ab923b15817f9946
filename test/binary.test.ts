/**
 * A network with one output neuron is a binary classifier: class 1 when the output is ≥ 0.5 (and a
 * target counts as class 1 when ≥ 0.5), as Keras' binary accuracy. The argmax of one value is always 0.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDataset, Network, train, type EpochReport } from "../src/index.js";
import { saveNetwork } from "../src/io/model-file.js";
import { toModelJson } from "../src/io/model-format.js";
import { createBackgroundTrainer } from "../src/service/index.js";
import { makeTempDir, removeTempDir, shoal } from "./fixtures/cli-helpers.js";

const inputs = [[0, 0], [0, 1], [1, 0], [1, 1]];
const xorTargets = createDataset({ inputs, targets: [[0], [1], [1], [0]] });
const xorLabels = createDataset({ inputs, labels: [0, 1, 1, 0], classes: 2 });

/** A [2, 1] sigmoid network whose output is σ(w·x + b). */
function single(w0: number, w1: number, b: number): Network {
  return new Network({ sizes: [2, 1], activation: "sigmoid", outputActivation: "sigmoid", cost: "quadratic", dtype: "float64" }, Float64Array.of(w0, w1, b));
}

describe("one-output networks are binary classifiers", () => {
  it("predicts class 1 when the output is ≥ 0.5, else 0", () => {
    const or = single(10, 10, -5); // σ(-5) ≈ 0.007, σ(5) ≈ 0.993
    expect(inputs.map((x) => or.predict(x))).toEqual([0, 1, 1, 1]);
    expect(single(0, 0, 0).predict([0, 0])).toBe(1); // σ(0) = 0.5 exactly: class 1, as Keras
  });

  it("does not count every example correct: a constant network is right on half of XOR", () => {
    const low = single(0, 0, -1); // always ≈ 0.27: class 0
    expect(low.evaluate(xorTargets)).toEqual({ correct: 2, total: 4, accuracy: 0.5 });
    const high = single(0, 0, 1); // always ≈ 0.73: class 1
    expect(high.evaluate(xorTargets)).toEqual({ correct: 2, total: 4, accuracy: 0.5 });
    expect(single(10, 10, -5).evaluate(xorTargets)).toEqual({ correct: 3, total: 4, accuracy: 0.75 });
  });

  it("accepts labels of two classes, and the untrained Network.create([2,3,1]) is not 100% on XOR", () => {
    expect(single(10, 10, -5).evaluate(xorLabels)).toEqual({ correct: 3, total: 4, accuracy: 0.75 });
    // an untrained network predicts one class for most inputs; before, evaluate said 4 of 4 whatever it learned
    const accuracies = [1, 2, 3, 4, 5].map((seed) => Network.create([2, 3, 1], { seed }).evaluate(xorTargets).accuracy);
    expect(accuracies.some((a) => a < 1)).toBe(true);
    const labelled = Network.create([2, 3, 1], { seed: 1 });
    expect(labelled.evaluate(xorLabels)).toEqual(labelled.evaluate(xorTargets));
  });

  it("reports the same accuracy in epoch reports as evaluate, on every kernel", async () => {
    for (const [threads, kernel] of [[0, "auto"], [2, "js"], [2, "wasm"]] as const) {
      const net = new Network(
        { sizes: [2, 1], activation: "sigmoid", outputActivation: "sigmoid", cost: "quadratic", dtype: "float32" },
        Float32Array.of(0, 0, -1),
      );
      const reports: EpochReport[] = [];
      // η tiny: the network stays (nearly) constant at class 0, right on half of XOR
      await train(net, xorLabels, { epochs: 1, miniBatchSize: 4, eta: 1e-9, seed: 1, threads, kernel, testData: xorTargets, onEpoch: (r) => void reports.push(r) });
      expect(reports[0], `threads ${threads}, kernel ${kernel}`).toMatchObject({ correct: 2, accuracy: 0.5 });
    }
  });

  it("learns XOR from labels 0/1 with one output, in process and on threads", async () => {
    for (const threads of [0, 2]) {
      const net = Network.create([2, 4, 1], { seed: 3 });
      const result = await train(net, xorLabels, { epochs: 2000, miniBatchSize: 4, eta: 3, seed: 1, threads, testData: xorLabels });
      expect(net.evaluate(xorLabels)).toEqual({ correct: 4, total: 4, accuracy: 1 });
      expect(inputs.map((x) => net.predict(x))).toEqual([0, 1, 1, 0]);
      expect(result.epochs.at(-1)!.accuracy).toBe(1);
    }
  });

  it("still refuses three classes for one output", () => {
    const three = createDataset({ inputs: [[0, 0]], labels: [0], classes: 3 });
    expect(() => single(0, 0, 0).evaluate(three)).toThrow("data has 3 classes, the network has 1 outputs");
  });
});

describe("one-output models on the command line and in the background trainer", () => {
  let dir: string;
  let model: string;
  let csv: string;
  beforeAll(async () => {
    dir = await makeTempDir();
    model = path.join(dir, "or.shoal.json");
    await saveNetwork(single(10, 10, -5), model); // OR: wrong on XOR's (1, 1) only
    csv = path.join(dir, "xor.csv");
    await writeFile(csv, "label,a,b\n0,0,0\n1,0,1\n1,1,0\n0,1,1\n");
  });
  afterAll(() => removeTempDir(dir));

  it("shoal evaluate: a binary classifier's accuracy, and 2 classes per class and in the confusion matrix", async () => {
    const json = await shoal(["evaluate", "--model", model, "--data", csv, "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout) as { correct: number; total: number; accuracy: number; confusion: number[][]; perClass: unknown[] };
    expect(result).toMatchObject({ correct: 3, total: 4, accuracy: 0.75 });
    expect(result.confusion).toEqual([[1, 1], [0, 2]]);
    expect(result.perClass).toEqual([
      { class: 0, total: 2, correct: 1, accuracy: 0.5 },
      { class: 1, total: 2, correct: 2, accuracy: 1 },
    ]);
    const text = await shoal(["evaluate", "--model", model, "--data", csv]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("3 / 4 correct (75.00%)");
    expect(text.stdout).toMatch(/^\s+0\s+1$/m); // the confusion matrix's columns: classes 0 and 1
  });

  it("shoal predict: class 1 when the output is ≥ 0.5", async () => {
    for (const [values, expected] of [["0,0", 0], ["0,1", 1], ["1,1", 1]] as const) {
      const { code, stdout, stderr } = await shoal(["predict", "--model", model, values, "--json"]);
      expect(code, stderr).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ predicted: expected });
    }
    const text = await shoal(["predict", "--model", model, "1,1"]);
    expect(text.stdout).toMatch(/^predicted: 1$/m);
    expect(text.stdout).toContain("class 1 when ≥ 0.5");
  });

  it("shoal train --layers 2,4,1 on two classes: the epoch report agrees with shoal evaluate", async () => {
    const out = path.join(dir, "trained.shoal.json");
    const trained = await shoal(["train", "--data", csv, "--test-data", csv, "--layers", "2,4,1", "--epochs", "50", "--batch", "4", "--threads", "0", "--seed", "1", "--out", out, "--json"]);
    expect(trained.code, trained.stderr).toBe(0);
    const last = JSON.parse(trained.stdout.trim().split("\n").at(-1)!) as { testAccuracy: number };
    const evaluated = await shoal(["evaluate", "--model", out, "--data", csv, "--json"]);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect((JSON.parse(evaluated.stdout) as { accuracy: number }).accuracy).toBe(last.testAccuracy);
  });

  it("the background trainer (shoal serve) accepts one output for two classes and predicts with the threshold", async () => {
    const trainer = await createBackgroundTrainer();
    try {
      const job = await trainer.submit({
        data: { inputs, labels: [0, 1, 1, 0], classes: 2 }, layers: [2, 4, 1], epochs: 1, miniBatchSize: 4, eta: 1, seed: 1, threads: 0,
      });
      for await (const e of trainer.events(job.id)) if (e.type === "failed") throw new Error(e.job.error?.message);
      expect(trainer.job(job.id)?.status).toBe("done");
      const prediction = await trainer.predict(toModelJson(single(10, 10, -5)), inputs);
      expect(prediction.classes).toEqual([0, 1, 1, 1]);
    } finally {
      await trainer.close();
    }
  });
});
