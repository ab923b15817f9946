import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { JobSpec } from "../src/service/spec.js";
import { shoal, startPersistentRedis, waitForOutput, type RestartableRedis } from "./fixtures/redis.js";

// `shoal worker` and `shoal serve --redis` around a real redis-server on loopback that persists as a
// production Redis does (appendonly yes, in a temp folder) and is stopped and started again on the
// same port. Every process must end within 10 s of SIGTERM — idle, training, with Redis gone — and
// at once on a second signal; a Redis restart must lose no job. Waits are on output lines, exits and
// SSE streams (which end with the job), never on timers.

type Record = { id: string; status: string; worker?: { name: string }; attempt?: number; reports: unknown[]; error?: { name: string } };

/**
 * A job on one thread, 8,000 examples an epoch of a 784-100-10 network: 20 epochs take seconds even
 * on a fast idle machine (longer than a Redis restart), 1,000 far more than the 3 s a stopping
 * worker gives a job.
 */
const long = (seed: number, epochs: number): JobSpec => ({ data: { name: "mnist", testLimit: 100 }, layers: [784, 100, 10], epochs, miniBatchSize: 10, eta: 3, seed, threads: 1 });
const small = (seed: number): JobSpec => ({ data: { name: "mnist", limit: 500, testLimit: 100 }, layers: [784, 10, 10], epochs: 2, miniBatchSize: 10, eta: 3, seed, threads: 1 });

let dir: string;
let redis: RestartableRedis;
const children: ChildProcess[] = [];

function start(args: string[]): ChildProcess {
  const child = shoal(args);
  children.push(child);
  return child;
}

async function startServer(): Promise<{ child: ChildProcess; base: string }> {
  const child = start(["serve", "--redis", redis.url, "--port", "0"]);
  const [, base] = await waitForOutput(child, /listening on (http:\/\/\S+)/);
  return { child, base: base! };
}

async function startWorker(name: string, ...extra: string[]): Promise<ChildProcess> {
  const child = start(["worker", "--redis", redis.url, "--name", name, "--threads", "1", ...extra]);
  await waitForOutput(child, /waiting for jobs/);
  return child;
}

async function submit(base: string, spec: JobSpec): Promise<Record> {
  const response = await fetch(`${base}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(spec) });
  expect(response.status).toBe(201);
  return (await response.json()) as Record;
}

/** The job's record once it has ended: its SSE stream ends after the job's last event. */
async function ended(base: string, id: string): Promise<Record> {
  await (await fetch(`${base}/jobs/${id}/events`)).text();
  return (await (await fetch(`${base}/jobs/${id}`)).json()) as Record;
}

/** Resolves once the job has reported its first epoch (its data loaded: it trains), read from its SSE stream. */
async function training(base: string, id: string): Promise<void> {
  const controller = new AbortController();
  const response = await fetch(`${base}/jobs/${id}/events`, { signal: controller.signal });
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of response.body! as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (/^event: epoch$/m.test(text)) break;
  }
  controller.abort();
  expect(text).toMatch(/^event: epoch$/m);
}

/** Sends `signal` and resolves with the exit code and the seconds it took the process to exit. */
async function stopWith(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; seconds: number }> {
  const exited = once(child, "exit") as Promise<[number | null]>;
  const started = performance.now();
  child.kill(signal);
  const [code] = await exited;
  return { code, seconds: (performance.now() - started) / 1000 };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "shoal-redis-"));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    }
  }
  await redis?.stop();
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe("a Redis restart (appendonly yes) loses nothing", () => {
  it("while the worker is idle: a job submitted during the outage is queued once Redis is back, and completes", async () => {
    redis = await startPersistentRedis(await mkdtemp(path.join(dir, "idle-")));
    const [{ base }] = await Promise.all([startServer(), startWorker("w1")]);
    const before = await submit(base, small(1));
    expect((await ended(base, before.id)).status).toBe("done");

    await redis.stop();
    const during = submit(base, small(2)); // waits in ioredis' offline queue while Redis is away
    await redis.start();
    const job = await during;
    const done = await ended(base, job.id);
    expect(done.status).toBe("done");
    expect(done.reports).toHaveLength(2);
    // what Redis kept across the restart is still served
    expect((await fetch(`${base}/models/${before.id}`)).status).toBe(200);
  }, 60_000);

  it("while the worker trains: the running job and the one queued behind it both complete", async () => {
    redis = await startPersistentRedis(await mkdtemp(path.join(dir, "training-")));
    const [{ base }, worker] = await Promise.all([startServer(), startWorker("w1")]);
    const took = waitForOutput(worker, /took job (\S+)/);
    const running = await submit(base, long(3, 20));
    const queued = await submit(base, small(4));
    expect((await took)[1]).toBe(running.id);

    let output = "";
    worker.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await redis.stop();
    await redis.start();
    expect(output).not.toContain(`finished job ${running.id}`); // Redis restarted while it trained

    const [first, second] = await Promise.all([ended(base, running.id), ended(base, queued.id)]);
    expect([first.status, second.status]).toEqual(["done", "done"]);
    expect(first.reports).toHaveLength(20);
    expect(first.worker?.name).toBe("w1");
  }, 60_000);
});

describe("SIGTERM ends every process within 10 s", () => {
  it("while a job trains: the worker hands it back to the queue and exits 0; another worker takes it as a first attempt", async () => {
    redis = await startPersistentRedis(await mkdtemp(path.join(dir, "handback-")));
    const [{ base, child: server }, w1] = await Promise.all([startServer(), startWorker("w1")]);
    const took = waitForOutput(w1, /took job (\S+)/);
    const job = await submit(base, long(5, 1000));
    await took;
    await training(base, job.id);
    const handedBack = waitForOutput(w1, /job (\S+) handed back to the queue/);
    let w1Output = "";
    w1.stdout!.on("data", (chunk: Buffer) => (w1Output += chunk.toString()));
    const { code, seconds } = await stopWith(w1);
    expect(code).toBe(0);
    expect(seconds).toBeLessThan(10);
    expect((await handedBack)[1]).toBe(job.id);
    expect(w1Output).toContain("shoal worker: stopped after 0 jobs");
    // w2 takes it as a first attempt (handing back is not a failure); cancelled then, as training it all would only take time
    const w2 = start(["worker", "--redis", redis.url, "--name", "w2", "--threads", "1"]);
    const [, id, attempt] = await waitForOutput(w2, /took job (\S+) \(attempt (\d+)\)/);
    expect([id, attempt]).toEqual([job.id, "1"]);
    expect((await fetch(`${base}/jobs/${job.id}`, { method: "DELETE" })).status).toBe(200);
    for (const child of [w2, server]) {
      const stopped = await stopWith(child);
      expect(stopped.code).toBe(0);
      expect(stopped.seconds).toBeLessThan(10);
    }
  }, 60_000);

  it("a second signal leaves at once (143)", async () => {
    redis = await startPersistentRedis(await mkdtemp(path.join(dir, "twice-")));
    const [{ base }, worker] = await Promise.all([startServer(), startWorker("w1")]);
    const took = waitForOutput(worker, /took job (\S+)/);
    const job = await submit(base, long(6, 1000));
    await took;
    await training(base, job.id);
    const stopping = waitForOutput(worker, /SIGTERM, taking no more jobs/);
    const exited = once(worker, "exit") as Promise<[number | null]>;
    worker.kill("SIGTERM");
    await stopping; // the first signal is being handled: the job has 3 s to finish
    const started = performance.now();
    worker.kill("SIGTERM");
    const [code] = await exited;
    expect(code).toBe(143);
    expect(performance.now() - started).toBeLessThan(1000);
  }, 60_000);

  it("with Redis gone: an idle worker, a training worker and serve --redis exit 0; the job completes once Redis is back", async () => {
    redis = await startPersistentRedis(await mkdtemp(path.join(dir, "gone-")));
    // A short lock, so that the job the training worker leaves behind is soon taken again; not so short
    // that a worker on a loaded machine misses renewing it and loses a job it is training.
    const lock = ["--lock-duration", "5000", "--stalled-interval", "1000"];
    const [{ base, child: server }, w1, w2] = await Promise.all([startServer(), startWorker("w1", ...lock), startWorker("w2", ...lock)]);
    // one of the two takes the job; the other stays idle (its wait for the line ends when it exits)
    const took = Promise.race([w1, w2].map((w) => waitForOutput(w, /took job (\S+)/).then((m) => m[1], () => undefined)));
    const job = await submit(base, { ...long(7, 4), layers: [784, 30, 10] });
    expect(await took).toBe(job.id); // Redis goes now: the job is loading its data or just training, far from finished

    await redis.stop();
    const stopped = await Promise.all([w1, w2, server].map((child) => stopWith(child)));
    for (const { code, seconds } of stopped) {
      expect(code).toBe(0);
      expect(seconds).toBeLessThan(10);
    }

    // nothing lost: the abandoned job is taken again once its lock has expired
    await redis.start();
    const [{ base: again }] = await Promise.all([startServer(), startWorker("w3", ...lock)]);
    const done = await ended(again, job.id);
    expect(done.status).toBe("done");
    expect(done.worker?.name).toBe("w3");
  }, 60_000);
});

describe("SIGTERM ends shoal serve without Redis too", () => {
  it("while a job trains in its background thread: exits 0 within 10 s", async () => {
    const modelsDir = await mkdtemp(path.join(dir, "models-"));
    const child = start(["serve", "--port", "0", "--models-dir", modelsDir]);
    const [, base] = await waitForOutput(child, /listening on (http:\/\/\S+)/);
    const job = await submit(base!, long(8, 1000));
    await training(base!, job.id);
    const { code, seconds } = await stopWith(child);
    expect(code).toBe(0);
    expect(seconds).toBeLessThan(10);
  }, 60_000);
});
