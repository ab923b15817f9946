import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../src/core/errors.js";
import {
  createBackgroundTrainer,
  JobStateError,
  QueueFullError,
  TrainerClosedError,
  UnknownJobError,
  type BackgroundTrainer,
  type JobEvent,
  type JobSpec,
} from "../src/service/index.js";
import type { WireEvent } from "../src/service/job.js";
import { prepareSpec } from "../src/service/spec.js";
import { TrainerCore } from "../src/service/trainer-core.js";
import { PoolSet } from "../src/train/pool-set.js";
import { someDigits } from "./fixtures/digits.js";
import { faultSwitch } from "./fixtures/faults.js";

const run = promisify(execFile);
const fixture = fileURLToPath(new URL("./fixtures/service-exit.ts", import.meta.url));
const threadCount = async (): Promise<number> => Number(/Threads:\s+(\d+)/.exec(await readFile("/proc/self/status", "utf8"))![1]);

const xorInputs = Array.from({ length: 200 }, (_, i) => [i % 2, (i >> 1) % 2]);
const xorLabels = xorInputs.map(([a, b]) => a! ^ b!);
/** XOR inline: tiny and fast; threads 0 trains in the trainer thread itself (no pool to start). */
const xor = (over: Partial<JobSpec> = {}): JobSpec => ({
  data: { inputs: xorInputs, labels: xorLabels, classes: 2, test: { inputs: xorInputs.slice(0, 4), labels: xorLabels.slice(0, 4) } },
  layers: [2, 8, 2], epochs: 1, miniBatchSize: 4, eta: 2, seed: 1, threads: 0, ...over,
});
const digits = (over: Partial<JobSpec> = {}): JobSpec => ({
  data: { name: "mnist", limit: 1000, testLimit: 200 }, layers: [784, 16, 10], epochs: 2, miniBatchSize: 10, eta: 3, seed: 1, threads: 2, ...over,
});

/** Resolves with the first event of job `id` that `test` accepts. */
function eventOf(trainer: BackgroundTrainer, id: string, test: (e: JobEvent) => boolean): Promise<JobEvent> {
  return new Promise((resolve) => {
    const stop = trainer.watch(id, (event) => {
      if (test(event)) {
        stop();
        resolve(event);
      }
    });
  });
}

describe("a background trainer", () => {
  let trainer: BackgroundTrainer;
  beforeAll(async () => {
    trainer = await createBackgroundTrainer();
  });
  afterAll(() => trainer?.close());

  it("trains a job in its thread: events in order, progress, the model, predictions", async () => {
    const events: JobEvent[] = [];
    const job = await trainer.submit(digits(), { onEvent: (e) => events.push(e) });
    expect(["queued", "running"]).toContain(job.status);
    expect(trainer.job(job.id)?.spec).toMatchObject({ dataset: "mnist", layers: [784, 16, 10], seed: 1 });
    const iterated: string[] = [];
    for await (const e of trainer.events(job.id)) iterated.push(e.type);

    const end = trainer.job(job.id)!;
    expect(end).toMatchObject({ status: "done", epoch: 2, epochs: 2, model: true, threads: 2, threadsReason: "2 threads, as asked" });
    expect(end.reports.map((r) => r.epoch)).toEqual([1, 2]);
    expect(end.accuracy).toBeGreaterThan(0.2); // chance is 0.1
    expect(end.seconds).toBeGreaterThan(0);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t !== "progress")).toEqual(["queued", "started", "epoch", "epoch", "done"].slice(types[0] === "queued" ? 0 : 1));
    expect(iterated.at(-1)).toBe("done");
    // Mini-batch progress: the first epoch includes the workers' start-up, so it reports at least once.
    const progress = events.flatMap((e) => (e.type === "progress" ? [e.progress] : []));
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) expect(p.examplesDone).toBeLessThanOrEqual(p.examples);

    const model = await trainer.model(job.id);
    expect(model.sizes).toEqual([784, 16, 10]);
    expect((model.metadata?.job as { id: string }).id).toBe(job.id);
    const { test } = await someDigits(0, 3);
    const rows = [0, 1, 2].map((i) => Array.from(test.inputs.subarray(i * 784, (i + 1) * 784)));
    const byId = await trainer.predict(job.id, rows);
    expect(byId.classes).toHaveLength(3);
    expect(byId.outputs[0]).toHaveLength(10);
    expect(await trainer.predict(model, rows)).toEqual(byId);
    const bad = await trainer.predict(job.id, [rows[0]!, rows[1]!.slice(4)]).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as Error).message).toBe("inputs[1] has 780 values, expected 784 (the model's input layer)");
  });

  it("trains a softmax + log-likelihood job: its model's outputs are class probabilities", async () => {
    const job = await trainer.submit(digits({ outputActivation: "softmax", cost: "log-likelihood", eta: 0.5 }));
    expect(trainer.job(job.id)?.spec).toMatchObject({ outputActivation: "softmax", cost: "log-likelihood" });
    const end = await trainer.wait(job.id);
    expect(end.status).toBe("done");
    expect(end.accuracy).toBeGreaterThan(0.5); // 1,000 digits, 2 epochs; chance is 0.1
    const model = await trainer.model(job.id);
    expect(model).toMatchObject({ sizes: [784, 16, 10], activation: "sigmoid", outputActivation: "softmax", cost: "LogLikelihoodCost" });
    const { test } = await someDigits(0, 2);
    const { outputs } = await trainer.predict(job.id, [0, 1].map((i) => Array.from(test.inputs.subarray(i * 784, (i + 1) * 784))));
    for (const p of outputs) expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
  });

  it("cancels a job mid-epoch: it ends as cancelled within a mini-batch; jobs reuse the trainer's warm threads", async () => {
    // The job before this one started the trainer's 2-thread pool: this job gains no thread.
    const threads = await threadCount();
    // A wide hidden layer makes each epoch last several progress intervals (100 ms), split by neurons too.
    const job = await trainer.submit(digits({ data: { name: "mnist", limit: 8000 }, layers: [784, 600, 10], epochs: 50 }));
    await eventOf(trainer, job.id, (e) => e.type === "progress" && e.progress.examplesDone > 0);
    const asked = performance.now();
    const end = await trainer.cancel(job.id);
    const took = performance.now() - asked;
    expect(end.status).toBe("cancelled");
    expect(end.error?.name).toBe("AbortError");
    expect(end.epoch).toBe(0);
    expect(took).toBeLessThan(2000); // one mini-batch, on a busy 2-core machine
    expect(await threadCount()).toBe(threads);
    expect(trainer.job(job.id)?.status).toBe("cancelled");
    await expect(trainer.cancel(job.id)).rejects.toThrow(JobStateError);
    await expect(trainer.model(job.id)).rejects.toThrow("has no model: it is cancelled");
  });

  it("refuses an invalid spec with the validation message; data errors fail the job with the library's", async () => {
    const refused = async (spec: unknown): Promise<string> => {
      const error = await trainer.submit(spec as JobSpec).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      return (error as Error).message;
    };
    expect(await refused(xor({ layers: [2, 0, 2] }))).toBe("layers[1] must be a positive integer, got 0");
    expect(await refused(xor({ eta: 0 }))).toBe("eta must be a positive finite number, got 0");
    expect(await refused(xor({ cost: "cross-entropy", activation: "relu" }))).toMatch(/^cost cross-entropy needs outputActivation sigmoid/);
    expect(await refused(xor({ outputActivation: "softmax" }))).toBe('outputActivation softmax needs cost log-likelihood (C = −ln a_y), got "quadratic"');
    expect(await refused(xor({ cost: "log-likelihood", outputActivation: "sigmoid" }))).toMatch(/^cost log-likelihood needs outputActivation softmax/);
    expect(await refused(xor({ activation: "softmax", outputActivation: "softmax", cost: "log-likelihood" }))).toMatch(/^activation softmax is for the output layer only/);
    expect(await refused({ ...xor(), data: { name: "cifar" } })).toBe('data.name must be one of mnist, fashion-mnist, got "cifar"');
    expect(await refused(digits({ layers: [700, 10] }))).toBe("layers[0] is 700, but mnist examples have 784 inputs");
    expect(await refused({ ...xor(), data: { inputs: [[0, 1], [1]], labels: [0, 1] } })).toBe("data.inputs[1] has 1 values, expected 2 (as data.inputs[0])");
    expect(await refused({ ...xor(), epoch: 3 })).toMatch(/^job spec has an unknown field "epoch"/);
    expect(await refused(xor({ threads: 999 }))).toMatch(/^threads must be at most \d+ on this trainer, got 999$/);

    const outOfRange = await trainer.submit(xor({ data: { inputs: [[0, 0], [1, 1]], labels: [0, 5], classes: 2 } }));
    expect((await trainer.wait(outOfRange.id)).error).toEqual({ name: "ValidationError", message: "training data: label 5 out of range 0..1 at example 1" });
    const missing = await trainer.submit(xor({ data: { csv: "/nonexistent/train.csv" } }));
    expect((await trainer.wait(missing.id)).error).toEqual({ name: "DataFileError", message: "/nonexistent/train.csv: no such file" });
    await expect(trainer.cancel("no-such-job")).rejects.toThrow(UnknownJobError);
  });

});

describe("a job whose worker thread fails", () => {
  // The trainer core in process, on pools whose worker can be made to fail (test/fixtures/faults.ts):
  // the same core the trainer thread runs, and the same error records it sends.
  it("fails with the worker's message, and the next job trains on the same warm threads", async () => {
    const faults = faultSwitch({ worker: 0, step: 3, message: "boom at step 3" });
    const ended = new Map<string, (info: WireEvent["job"]) => void>();
    const core = new TrainerCore({ concurrency: 1, maxQueue: 4, maxPredictInputs: 10 }, (event) => {
      if (event.type === "done" || event.type === "failed") ended.get(event.job.id)?.(event.job);
    }, new PoolSet(faults.variant));
    const end = (id: string): Promise<WireEvent["job"]> => new Promise((resolve) => ended.set(id, resolve));
    try {
      const faulty = end("faulty");
      core.submit("faulty", prepareSpec(xor({ threads: 2, epochs: 2 })).spec);
      expect((await faulty).error).toEqual({ name: "TrainingThreadError", message: "training thread 0 failed: boom at step 3" });
      const next = end("next");
      core.submit("next", prepareSpec(xor({ threads: 2, epochs: 20 })).spec);
      expect(await next).toMatchObject({ status: "done", accuracy: 1 });
    } finally {
      await core.close();
    }
  });
});

describe("the queue", () => {
  it("runs jobs one at a time in the order submitted, and refuses more than maxQueue waiting", async () => {
    await using trainer = await createBackgroundTrainer({ concurrency: 1, maxQueue: 2 });
    const started: string[] = [];
    trainer.onEvent((e) => void (e.type === "started" && started.push(e.job.id)));
    const a = await trainer.submit(xor({ epochs: 1_000_000, name: "a" })); // runs until cancelled
    const b = await trainer.submit(xor({ name: "b" }));
    const c = await trainer.submit(xor({ name: "c" }));
    expect([a, b, c].map((j) => j.status)).toEqual(["running", "queued", "queued"]);
    const full = await trainer.submit(xor()).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(QueueFullError);
    expect((full as Error).message).toMatch(/^the job queue is full: 2 jobs are waiting \(maxQueue 2\)/);
    expect(trainer.counts()).toMatchObject({ running: 1, queued: 2 });

    const d = await trainer.submit(xor({ name: "d" })).catch((e: unknown) => e); // still full
    expect(d).toBeInstanceOf(QueueFullError);
    const cancelledWhileQueued = await trainer.cancel(c.id);
    expect(cancelledWhileQueued).toMatchObject({ status: "cancelled", error: { message: "cancelled while queued" } });
    const e = await trainer.submit(xor({ name: "e" })); // room again
    await trainer.cancel(a.id);
    expect((await trainer.wait(b.id)).status).toBe("done");
    expect((await trainer.wait(e.id)).status).toBe("done");
    expect(started).toEqual([a.id, b.id, e.id]);
    expect(trainer.jobs().map((j) => j.spec.name)).toEqual(["a", "b", "c", "e"]);
  });

  it("runs `concurrency` jobs at once; a job's AbortSignal cancels it; a closed trainer takes no calls", async () => {
    const trainer = await createBackgroundTrainer({ concurrency: 2 });
    const controller = new AbortController();
    const job = await trainer.submit(xor({ epochs: 1_000_000 }), { signal: controller.signal });
    const other = await trainer.submit(xor({ epochs: 1_000_000 }));
    const third = await trainer.submit(xor());
    expect([job, other, third].map((j) => j.status)).toEqual(["running", "running", "queued"]);
    await eventOf(trainer, job.id, (e) => e.type === "epoch");
    controller.abort();
    expect((await trainer.wait(job.id)).status).toBe("cancelled");
    expect((await trainer.wait(third.id)).status).toBe("done"); // started when the first one stopped
    expect(trainer.job(other.id)?.status).toBe("running");
    await trainer.close();
    expect(trainer.job(other.id)?.status).toBe("cancelled");
    await expect(trainer.submit(xor())).rejects.toThrow(TrainerClosedError);
    await trainer.close(); // twice is fine
  });
});

describe("closing", () => {
  it("cancels running and queued jobs, leaves no thread, and the process exits on its own", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", fixture], { timeout: 30_000 });
    expect(stdout.trim().split("\n")).toEqual(["first: done", "long: cancelled (AbortError), queued: cancelled (AbortError)", "threads gained: 0"]);
  });
});
