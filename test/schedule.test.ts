// Issue 18 items 4 and 5: a learning-rate schedule (chapter 3's plateau rule, a step decay) and
// early stopping, on any thread count with the same bits, through checkpoints.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createPool, loadCheckpoint, loadCsv, loadMnistDigits, Network, sliceDataset, train, ValidationError, type TrainOptions } from "../src/index.js";
import { parseModel } from "../src/io/model-format.js";
import { createBackgroundTrainer, type JobSpec } from "../src/service/index.js";
import { initialScheduleState, parseEtaSchedule, scheduleStep, type ScheduleState } from "../src/core/schedule.js";
import { someDigits } from "./fixtures/digits.js";

const dir = mkdtempSync(join(tmpdir(), "shoal-schedule-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pool = createPool({ threads: 3 });
afterAll(() => pool.close());

/** Runs scheduleStep over `accuracies` (one per epoch) from η 1; returns each epoch's state. */
function walk(accuracies: readonly number[], settings: Parameters<typeof scheduleStep>[3]): ScheduleState[] {
  let state = initialScheduleState(settings.eta0);
  return accuracies.map((accuracy, i) => (state = scheduleStep(state, i + 1, accuracy, settings).state));
}

describe("the schedule's rules", () => {
  it("plateau: halves η after `patience` epochs without improvement, counts again after each halving, stops at η₀/128", () => {
    const states = walk([0.5, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7], { eta0: 1, etaSchedule: { kind: "plateau", patience: 2 } });
    expect(states.map((s) => s.eta)).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.25]);
    expect(states.map((s) => s.bestEpoch)).toEqual([1, 2, 2, 2, 5, 5, 5]);
    expect(states.every((s) => s.stopped === undefined)).toBe(true);
    const flat = walk(Array(20).fill(0.5), { eta0: 1, etaSchedule: { kind: "plateau", patience: 1 } });
    // epoch 1 improves on nothing; then every epoch halves: η₀/128 after epoch 8, where it stops
    expect(flat.slice(0, 8).map((s) => s.eta)).toEqual([1, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125]);
    expect(flat[7]!.stopped).toEqual({ epoch: 8, reason: "eta-schedule" });
    expect(flat[6]!.stopped).toBeUndefined();
  });

  it("plateau's patience defaults to 10, as network2.py's exercise", () => {
    const states = walk(Array(12).fill(0.5), { eta0: 2, etaSchedule: { kind: "plateau" } });
    expect(states[9]!.eta).toBe(2);
    expect(states[10]!.eta).toBe(1);
  });

  it("step: η₀ · factor^⌊(epoch − 1)/every⌋ for the next epoch, whatever the accuracy", () => {
    const states = walk([0.1, 0.9, 0.1, 0.9, 0.1], { eta0: 3, etaSchedule: { kind: "step", every: 2, factor: 0.5 } });
    // the η each state holds is the next epoch's: epochs 1–2 at 3, 3–4 at 1.5, 5–6 at 0.75
    expect(states.map((s) => s.eta)).toEqual([3, 1.5, 1.5, 0.75, 0.75]);
  });

  it("early stopping: stops when the accuracy has not improved for `patience` epochs; an improvement resets the count", () => {
    const states = walk([0.5, 0.6, 0.6, 0.7, 0.65, 0.7, 0.69], { eta0: 1, earlyStopping: { patience: 3 } });
    expect(states.map((s) => s.sinceImprovement)).toEqual([0, 0, 1, 0, 1, 2, 3]);
    expect(states[6]!.stopped).toEqual({ epoch: 7, reason: "early-stopping" });
    expect(states[5]!.stopped).toBeUndefined();
  });

  it("--eta-schedule text: plateau, plateau:<patience>, step:<every>:<factor>; anything else is refused, named", () => {
    expect(parseEtaSchedule("plateau")).toEqual({ kind: "plateau" });
    expect(parseEtaSchedule("plateau:5")).toEqual({ kind: "plateau", patience: 5 });
    expect(parseEtaSchedule("step:10:0.5")).toEqual({ kind: "step", every: 10, factor: 0.5 });
    expect(() => parseEtaSchedule("plateau:0")).toThrow("etaSchedule.patience must be a positive integer, got 0");
    expect(() => parseEtaSchedule("step:10:2")).toThrow("etaSchedule.factor must be below 1 (a decay), got 2");
    expect(() => parseEtaSchedule("step:10")).toThrow('eta schedule "step:10" is not plateau, plateau:<patience> or step:<every>:<factor>');
    expect(() => parseEtaSchedule("cosine")).toThrow("is not plateau");
  });
});

describe("train() with a schedule and early stopping", () => {
  const options = (more: Partial<TrainOptions>): TrainOptions => ({ epochs: 6, miniBatchSize: 10, eta: 3, seed: 4, ...more });

  it("bad values are refused before any thread starts", async () => {
    const { train: data, test } = await someDigits(200, 50);
    const net = Network.create([784, 8, 10], { seed: 1 });
    const before = net.params.slice();
    const refused: [Partial<TrainOptions>, string][] = [
      [{ etaSchedule: { kind: "plateau", patience: 0 }, testData: test }, "etaSchedule.patience must be a positive integer, got 0"],
      [{ etaSchedule: { kind: "cosine" } as never }, "etaSchedule.kind must be one of plateau, step"],
      [{ etaSchedule: { kind: "step", every: 2, factor: 1.5 } }, "etaSchedule.factor must be below 1"],
      [{ earlyStopping: { patience: 0 }, testData: test }, "earlyStopping.patience must be a positive integer, got 0"],
      [{ earlyStopping: { patience: 2 } }, "earlyStopping needs an accuracy to watch: give validationData or testData"],
      [{ earlyStopping: { patience: 2, monitor: "validation" }, testData: test }, "earlyStopping monitors the validation accuracy: give validationData"],
      [{ etaSchedule: { kind: "plateau" } }, "a plateau etaSchedule needs an accuracy to watch"],
      [{ earlyStopping: { patience: 2, restoreBest: "yes" } as never, testData: test }, "earlyStopping.restoreBest must be true or false"],
    ];
    for (const [more, message] of refused) {
      await expect(train(net, data, options({ ...more, threads: 2 }))).rejects.toThrow(ValidationError);
      await expect(train(net, data, options({ ...more, threads: 2 }))).rejects.toThrow(message);
    }
    expect(Array.from(net.params)).toEqual(Array.from(before));
  });

  it("a step schedule trains each epoch at its η, with the same bits in process and on 1–3 threads (float64), and on 1–3 threads (wasm)", async () => {
    const { train: data, test } = await someDigits(300, 100);
    const more = { etaSchedule: { kind: "step", every: 2, factor: 0.5 }, testData: test } as const;
    for (const [dtype, counts] of [["float64", [0, 1, 2, 3]], ["float32", [1, 2, 3]]] as const) {
      const runs = [];
      for (const threads of counts) {
        const net = Network.create([784, 12, 10], { seed: 2, dtype });
        const result = await train(net, data, options({ ...more, threads, ...(threads === 3 && { pool, threads: undefined }) }));
        runs.push({ params: Array.from(net.params), etas: result.epochs.map((e) => e.eta), costs: result.epochs.map((e) => e.cost) });
      }
      expect(runs[0]!.etas).toEqual([3, 3, 1.5, 1.5, 0.75, 0.75]);
      for (const run of runs.slice(1)) expect(run).toEqual(runs[0]);
    }
  });

  it("early stopping with restoreBest ends at the best epoch's parameters: those of a run trained only that far", async () => {
    const { train: data, test } = await someDigits(300, 100);
    const validation = sliceDataset((await someDigits(400, 0)).train, 300);
    const net = Network.create([784, 10, 10], { seed: 3 });
    // 300 examples: the validation accuracy rises for a few epochs, then stalls
    const result = await train(net, data, options({ epochs: 12, eta: 3, testData: test, validationData: validation, earlyStopping: { patience: 2, restoreBest: true }, threads: 2 }));
    const accuracies = result.epochs.map((e) => e.validationAccuracy!);
    const best = accuracies.indexOf(Math.max(...accuracies)) + 1;
    expect(result.bestEpoch).toBe(best);
    expect(best).toBeGreaterThan(1);
    expect(result.stopped).toEqual({ epoch: best + 2, reason: "early-stopping" });
    expect(result.epochs.length).toBe(best + 2);
    const short = Network.create([784, 10, 10], { seed: 3 });
    await train(short, data, options({ epochs: best, eta: 3, testData: test, threads: 1 }));
    expect(Array.from(net.params)).toEqual(Array.from(short.params));
    expect(result.epochs.every((e) => e.validationCorrect === Math.round(e.validationAccuracy! * 100))).toBe(true);
  });

  it("a plateau schedule that never improves stops once η is down to η₀/128", async () => {
    const { train: data, test } = await someDigits(100, 50);
    const net = Network.create([784, 6, 10], { seed: 5 });
    // η so small that the accuracy cannot move
    const result = await train(net, data, options({ epochs: 30, eta: 1e-12, testData: test, etaSchedule: { kind: "plateau", patience: 1 }, threads: 0 }));
    expect(result.stopped).toEqual({ epoch: 8, reason: "eta-schedule" });
    expect(result.epochs.map((e) => e.eta)).toEqual([1, 1, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625].map((f) => f * 1e-12));
  });

  it("checkpoint → resume in the middle of a schedule, after an early-stopping improvement, is bit-identical to an uninterrupted run", async () => {
    const { train: data, test } = await someDigits(300, 100);
    const more = { eta: 3, testData: test, etaSchedule: { kind: "plateau", patience: 1 }, earlyStopping: { patience: 3, restoreBest: true } } as const;
    const straight = Network.create([784, 10, 10], { seed: 6 });
    const whole = await train(straight, data, options({ ...more, epochs: 10, threads: 2 }));
    const path = join(dir, "mid-schedule.json");
    const first = Network.create([784, 10, 10], { seed: 6 });
    // cut after η was halved once and the accuracy improved again (epoch 7: η 1.5, a new best)
    const cut = 7;
    expect(whole.epochs.length).toBeGreaterThan(cut);
    expect(whole.epochs[cut - 1]!.eta).toBeLessThan(3);
    await train(first, data, options({ ...more, epochs: cut, threads: 1, checkpoint: { path } }));
    const checkpoint = await loadCheckpoint(path);
    expect(checkpoint.epoch).toBe(cut);
    expect(checkpoint.options.etaSchedule).toEqual(more.etaSchedule);
    expect(checkpoint.schedule?.bestEpoch).toBe(cut);
    expect(checkpoint.bestParams).toBeDefined();
    const resumed = checkpoint.network;
    const rest = await train(resumed, data, { epochs: 10, testData: test, resume: checkpoint, threads: 3, pool });
    expect(Array.from(resumed.params)).toEqual(Array.from(straight.params));
    expect(rest.epochs.map((e) => [e.eta, e.accuracy])).toEqual(whole.epochs.slice(cut).map((e) => [e.eta, e.accuracy]));
    expect(rest.stopped).toEqual(whole.stopped);
    expect(rest.bestEpoch).toBe(whole.bestEpoch);
    // the schedule and early stopping are the checkpoint's: another one would change the run
    await expect(train(checkpoint.network.clone(), data, { resume: checkpoint, testData: test, etaSchedule: { kind: "plateau", patience: 2 } })).rejects.toThrow(
      /etaSchedule .* is not the checkpoint's/,
    );
  });

  it("a version 2 checkpoint (before schedules) loads and resumes as a run without them", async () => {
    // test/fixtures/formats/checkpoint-v2.json: shoal at checkpoint format 2 trained Network.create([2, 3, 2], { seed: 7 })
    // on tiny.csv with { epochs: 3, miniBatchSize: 10, eta: 3, seed: 7, threads: 0 } and stopped after epoch 1
    const fixtures = fileURLToPath(new URL("fixtures/formats/", import.meta.url));
    const checkpoint = await loadCheckpoint(join(fixtures, "checkpoint-v2.json"));
    expect(checkpoint.schedule).toBeUndefined();
    expect(checkpoint.options.etaSchedule).toBeUndefined();
    expect(checkpoint.metadata).toEqual({ made: "checkpoint format 2 fixture" });
    const data = await loadCsv(join(fixtures, "tiny.csv"));
    const resumed = checkpoint.network;
    const result = await train(resumed, data, { resume: checkpoint });
    expect(result.epochs.map((e) => e.eta)).toEqual([3, 3]);
    const straight = Network.create([2, 3, 2], { seed: 7 });
    await train(straight, data, { epochs: 3, miniBatchSize: 10, eta: 3, seed: 7, threads: 0 });
    expect(Array.from(resumed.params)).toEqual(Array.from(straight.params));
  });
});

describe("job specs with a schedule and early stopping", () => {
  it("a background trainer's job trains with them: η per report, the stop and best epoch in its record; bad ones refused at submit", async () => {
    const trainer = await createBackgroundTrainer();
    try {
      const spec: JobSpec = {
        data: { name: "mnist", limit: 300, testLimit: 100 }, layers: [784, 10, 10], epochs: 20, miniBatchSize: 10, eta: 3, seed: 6, threads: 1,
        etaSchedule: { kind: "plateau", patience: 1 }, earlyStopping: { patience: 3, restoreBest: true },
      };
      const job = await trainer.submit(spec);
      for await (const _ of trainer.events(job.id));
      const end = trainer.job(job.id)!;
      expect(end.status).toBe("done");
      // the library run of the same spec
      const digits = await loadMnistDigits();
      const net = Network.create([784, 10, 10], { seed: 6 });
      const [data, test] = [sliceDataset(digits.train, 0, 300), sliceDataset(digits.test, 0, 100)];
      const result = await train(net, data, { epochs: 20, miniBatchSize: 10, eta: 3, seed: 6, threads: 1, testData: test, etaSchedule: spec.etaSchedule, earlyStopping: spec.earlyStopping });
      expect(end.reports.map((r) => r.eta)).toEqual(result.epochs.map((e) => e.eta));
      expect(end.stopped).toEqual(result.stopped);
      expect(end.bestEpoch).toBe(result.bestEpoch);
      expect(Array.from(parseModel(await trainer.model(job.id), "the job's model").network.params)).toEqual(Array.from(net.params));

      await expect(trainer.submit({ ...spec, etaSchedule: { kind: "step", every: 0, factor: 0.5 } })).rejects.toThrow("etaSchedule.every must be a positive integer, got 0");
      await expect(trainer.submit({ ...spec, evaluate: false })).rejects.toThrow("earlyStopping watches the test accuracy: leave evaluate on, or give validation");
      await expect(trainer.submit({ ...spec, earlyStopping: { patience: 2, monitor: "validation" } })).rejects.toThrow(
        "earlyStopping monitors the validation accuracy: give validation (examples to hold out)",
      );
    } finally {
      await trainer.close();
    }
  }, 60_000);

  it("a job spec's validation set: held out of the training data as shoal train --validation does, watched by early stopping; bad ones refused at submit", async () => {
    const trainer = await createBackgroundTrainer();
    try {
      const spec: JobSpec = {
        data: { name: "mnist", limit: 400, testLimit: 100 }, layers: [784, 10, 10], epochs: 12, miniBatchSize: 10, eta: 3, seed: 9, threads: 1,
        validation: 100, validationSplit: "random", earlyStopping: { patience: 2, restoreBest: true }, evaluate: false,
      };
      const job = await trainer.submit(spec);
      for await (const _ of trainer.events(job.id));
      const end = trainer.job(job.id)!;
      expect(end.status).toBe("done");
      expect(end.reports.every((r) => r.validationAccuracy !== undefined && r.accuracy === undefined)).toBe(true);
      // the library run on the same split (the CLI's --validation 100, random by the seed)
      const { holdOut } = await import("../src/core/hold-out.js");
      const digits = await loadMnistDigits();
      const { train: data, validation } = holdOut(sliceDataset(digits.train, 0, 400), 100, "random", 9);
      const net = Network.create([784, 10, 10], { seed: 9 });
      const result = await train(net, data, { epochs: 12, miniBatchSize: 10, eta: 3, seed: 9, threads: 1, validationData: validation, earlyStopping: spec.earlyStopping });
      expect(end.reports.map((r) => r.validationAccuracy)).toEqual(result.epochs.map((e) => e.validationAccuracy));
      expect([end.stopped, end.bestEpoch]).toEqual([result.stopped, result.bestEpoch]);
      expect(Array.from(parseModel(await trainer.model(job.id), "the job's model").network.params)).toEqual(Array.from(net.params));

      await expect(trainer.submit({ ...spec, validation: 400 })).rejects.toThrow("validation 400 leaves no training examples: the training set has 400");
      await expect(trainer.submit({ ...spec, validation: 0 })).rejects.toThrow("validation must be a positive integer, got 0");
      const { validation: _, ...withoutValidation } = spec;
      await expect(trainer.submit(withoutValidation)).rejects.toThrow("validationSplit says how to pick the validation examples: give validation (how many) too");
      await expect(trainer.submit({ ...spec, validationSplit: "first" as "last" })).rejects.toThrow(/^validationSplit must be one of random, last/);
    } finally {
      await trainer.close();
    }
  }, 60_000);
});
