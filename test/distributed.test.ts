import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { Job, Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisOptions } from "../src/distributed/connection.js";
import type { JobResult, QueuedJob } from "../src/distributed/protocol.js";
import { trainSpec } from "../src/distributed/run-job.js";
import type { ModelJson } from "../src/io/model-format.js";
import type { JobSpec } from "../src/service/spec.js";
import { freePort, runShoal, shoal, startRedis, waitForOutput, type TestRedis } from "./fixtures/redis.js";

// Two `shoal worker` processes and one `shoal serve --redis` on a real redis-server, all on loopback.
// Workers give a killed peer's job to another worker after ~lockDuration (short here).

type Record = { id: string; status: string; error?: { name: string; message: string }; worker?: { name: string; pid: number }; reports: unknown[]; progress?: unknown; epoch: number };

const small = (seed: number, extra: Partial<JobSpec> = {}): JobSpec => ({
  data: { name: "mnist", limit: 500, testLimit: 100 }, layers: [784, 10, 10], epochs: 2, miniBatchSize: 10, eta: 3, seed, threads: 1, ...extra,
});
/** A job of a few seconds even on warm threads (30 epochs of 8,000 digits at one thread): long enough to be interrupted while it trains. */
const long = (seed: number): JobSpec => ({ data: { name: "mnist", testLimit: 100 }, layers: [784, 30, 10], epochs: 30, miniBatchSize: 10, eta: 3, seed, threads: 1 });

let redis: TestRedis;
let server: ChildProcess;
let base: string;
const workers = new Map<string, ChildProcess>();

function startWorker(name: string): Promise<ChildProcess> {
  const child = shoal(["worker", "--redis", redis.url, "--name", name, "--threads", "1", "--lock-duration", "2000", "--stalled-interval", "1000"]);
  workers.set(name, child);
  return waitForOutput(child, /waiting for jobs/).then(() => child);
}

async function submit(spec: JobSpec): Promise<Record> {
  const response = await fetch(`${base}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(spec) });
  expect(response.status).toBe(201);
  return (await response.json()) as Record;
}

async function record(id: string): Promise<Record> {
  return (await (await fetch(`${base}/jobs/${id}`)).json()) as Record;
}

/** Polls the job's record (bounded) until `done(record)`. */
async function until(id: string, done: (r: Record) => boolean, timeoutMs = 30_000): Promise<Record> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await record(id);
    if (done(r)) return r;
    if (Date.now() > end) throw new Error(`job ${id} is still ${JSON.stringify(r).slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
const ended = (r: Record): boolean => ["done", "failed", "cancelled"].includes(r.status);

beforeAll(async () => {
  redis = await startRedis();
  server = shoal(["serve", "--redis", redis.url, "--port", "0"]);
  const [listening] = await Promise.all([waitForOutput(server, /listening on (http:\/\/\S+)/), startWorker("w1"), startWorker("w2")]);
  base = listening[1]!;
});

afterAll(async () => {
  for (const child of [...workers.values(), server]) {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
  }
  await redis?.stop();
});

describe("shoal worker × 2 behind shoal serve --redis", () => {
  it("trains 6 jobs on both workers, bit-identical to local training", async () => {
    const specs = [1, 2, 3, 4, 5, 6].map((seed) => small(seed));
    const submitted = await Promise.all(specs.map(submit));
    const finished = await Promise.all(submitted.map((j) => until(j.id, ended)));
    expect(finished.map((r) => r.status)).toEqual(Array(6).fill("done"));
    expect(new Set(finished.map((r) => r.worker?.name))).toEqual(new Set(["w1", "w2"]));
    for (const [i, r] of finished.entries()) {
      expect(r.reports).toHaveLength(2);
      // the record says how it ran, as a background trainer's does
      expect(r).toMatchObject({ threads: 1, threadsReason: "1 thread, as asked", parallelism: expect.stringMatching(/^(examples|neurons)$/) });
      const remote = (await (await fetch(`${base}/models/${r.id}`)).json()) as ModelJson;
      const local = await trainSpec(specs[i]!);
      expect(remote.weights).toEqual(local.model.weights);
      expect(remote.biases).toEqual(local.model.biases);
    }
    // predict loads the model from the job's result
    const response = await fetch(`${base}/models/${finished[0]!.id}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [Array(784).fill(0)] }) });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { classes: number[] }).classes).toHaveLength(1);
  });

  it("streams a job's events over SSE from BullMQ's queue events", async () => {
    const job = await submit(small(7));
    const text = await (await fetch(`${base}/jobs/${job.id}/events`)).text(); // the stream ends after the job's last event
    const types = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(types[0]).toBe("status");
    expect(types.filter((t) => t === "epoch")).toHaveLength(2);
    expect(types.at(-1)).toBe("done");
  });

  it("cancels a queued job and a running one", async () => {
    const running = await submit(long(11));
    const running2 = await submit(long(12));
    const queued = await submit(small(13));
    // both workers busy: the third job waits
    await until(running.id, (r) => r.status === "running" && (r.progress !== undefined || (r.epoch ?? 0) > 0)); // training (on warm threads an epoch may end before any progress report)
    await until(running2.id, (r) => r.status === "running");
    const cancelQueued = await fetch(`${base}/jobs/${queued.id}`, { method: "DELETE" });
    expect(cancelQueued.status).toBe(200);
    expect(((await cancelQueued.json()) as Record).status).toBe("cancelled");
    const cancelRunning = await fetch(`${base}/jobs/${running.id}`, { method: "DELETE" });
    expect(cancelRunning.status).toBe(200);
    const r = (await cancelRunning.json()) as Record;
    expect(r.status).toBe("cancelled");
    expect(r.error?.name).toBe("AbortError");
    expect(r.epoch).toBeLessThan(30);
    expect((await fetch(`${base}/jobs/${running.id}`, { method: "DELETE" })).status).toBe(409);
    await fetch(`${base}/jobs/${running2.id}`, { method: "DELETE" });
  });

  it("a job whose worker is SIGKILLed mid-job is completed by the other worker", async () => {
    const job = await submit(long(21));
    const taken = await until(job.id, (r) => r.status === "running" && r.worker !== undefined);
    const victim = workers.get(taken.worker!.name)!;
    victim.kill("SIGKILL");
    await once(victim, "exit");
    const done = await until(job.id, ended, 45_000);
    expect(done.status).toBe("done");
    expect(done.worker?.name).not.toBe(taken.worker!.name);
    // a fresh worker in place of the killed one, for the tests below
    await startWorker(taken.worker!.name);
  });

  it("a job with a bad spec fails once, with its message; HTTP refuses one up front", async () => {
    const refused = await fetch(`${base}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...small(1), layers: [700, 10] }) });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toBe("layers[0] is 700, but mnist examples have 784 inputs");
    // Past the server (another producer): the worker finds the fault and does not retry it.
    const queue = new Queue<QueuedJob, JobResult>("shoal", { connection: redisOptions(redis.url) });
    try {
      const bad = { ...small(31), layers: [784, 0, 10] } as JobSpec & { seed: number };
      const added = await queue.add("train", { spec: bad, summary: { ...bad, dataset: "mnist", data: bad.data as { name: "mnist" } }, createdAt: new Date().toISOString() }, { attempts: 3 });
      const r = await until(added.id!, (x) => x.status === "failed");
      expect(r.error).toEqual({ name: "ValidationError", message: "layers[1] must be a positive integer, got 0" });
      const job = await Job.fromId(queue, added.id!);
      expect(job?.attemptsMade).toBe(1);
    } finally {
      await queue.close();
    }
  });

  it("connections dropped by Redis come back; queued jobs are not lost", async () => {
    const jobs = await Promise.all([51, 52, 53].map((seed) => submit(small(seed))));
    const admin = new Redis(redisOptions(redis.url));
    try {
      const killed = Number(await admin.client("KILL", "TYPE", "normal", "SKIPME", "yes")) + Number(await admin.client("KILL", "TYPE", "pubsub"));
      expect(killed).toBeGreaterThanOrEqual(4); // the server's and both workers' connections
    } finally {
      admin.disconnect();
    }
    const after = await submit(small(54));
    const ends = await Promise.all([...jobs, after].map((j) => until(j.id, ended)));
    expect(ends.map((r) => r.status)).toEqual(["done", "done", "done", "done"]);
  });

  it("shoal sweep --redis enqueues a grid and prints its table, best first", async () => {
    const { code, stdout, stderr } = await runShoal([
      "sweep", "--redis", redis.url, "--eta", "1,3", "--layers", "784,10,10", "--seed", "1,2", "--epochs", "1", "--limit", "500", "--test-limit", "100", "--threads", "1",
    ]);
    expect(stderr).toContain("4 jobs");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^rank\s+layers\s+eta\s+lambda\s+momentum\s+dropout\s+seed\s+accuracy/);
    expect(lines).toHaveLength(5);
    const accuracies = lines.slice(1).map((l) => Number(/(\d+\.\d+)%/.exec(l)![1]));
    expect([...accuracies].sort((a, b) => b - a)).toEqual(accuracies);
    expect(lines.slice(1).every((l) => /\bw[12]$/.test(l))).toBe(true);
  });

  it("SIGTERM: a worker finishes its running job or hands it back (after 3 s), then it and the server stop cleanly", async () => {
    const job = await submit(long(41));
    const taken = await until(job.id, (r) => r.status === "running" && r.worker !== undefined);
    const worker = workers.get(taken.worker!.name)!;
    worker.kill("SIGTERM");
    const [code] = (await once(worker, "exit")) as [number];
    expect(code).toBe(0);
    // finished in its 3 s by this worker, or trained by the other one (test/redis-lifecycle.test.ts tells them apart)
    const done = await until(job.id, ended);
    expect(done.status).toBe("done");
    const children = [...workers.values(), server].filter((c) => c !== worker);
    for (const child of children) child.kill("SIGTERM");
    const codes = await Promise.all(children.map(async (c) => (c.exitCode ?? (await once(c, "exit"))[0]) as number));
    expect(codes).toEqual(children.map(() => 0));
  });
});

describe("shoal sweep without Redis", () => {
  it("trains the grid in process and prints the table", async () => {
    const { code, stdout } = await runShoal(["sweep", "--eta", "1,3", "--layers", "784,10,10", "--seed", "1", "--epochs", "1", "--limit", "500", "--test-limit", "100", "--threads", "1"]);
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    // 29.00% from the default scaled-gaussian weights (N(0,1) weights, the default before issue 14, gave 25.00%)
    expect(lines[1]).toMatch(/^1\s+784-10-10\s+3\s+0\s+0\s+0\s+1\s+29\.00%.*in-process$/);
  });

  it("sweeps λ too: each value a job whose spec carries it, in the table and the JSON rows", async () => {
    const args = ["sweep", "--eta", "3", "--lambda", "0,5", "--layers", "784,10,10", "--seed", "1", "--epochs", "1", "--limit", "500", "--test-limit", "100", "--threads", "1"];
    const { code, stdout, stderr } = await runShoal([...args, "--json"]);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("2 jobs");
    expect(stderr).toMatch(/eta 3 lambda 5 layers 784-10-10 seed 1: done/);
    const rows = JSON.parse(stdout) as { lambda: number; accuracy: number }[];
    expect(rows.map((r) => r.lambda).sort()).toEqual([0, 5]);
    // the λ = 0 job is the sweep without --lambda
    const plain = await runShoal([...args.filter((a, i) => a !== "--lambda" && args[i - 1] !== "--lambda"), "--json"]);
    const [row] = JSON.parse(plain.stdout) as { lambda: number; accuracy: number }[];
    expect(row).toMatchObject({ lambda: 0, accuracy: rows.find((r) => r.lambda === 0)!.accuracy });
    const bad = await runShoal(["sweep", "--lambda", "-1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--lambda must be a number ≥ 0, got -1");
  });

  it("sweeps momentum and dropout too: each combination a job whose spec carries them, in the table and the JSON rows", async () => {
    const args = ["sweep", "--eta", "1", "--momentum", "0,0.5", "--dropout", "0,0.5", "--layers", "784,10,10", "--seed", "1", "--epochs", "1", "--limit", "500", "--test-limit", "100", "--threads", "1"];
    const { code, stdout, stderr } = await runShoal([...args, "--json"]);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("4 jobs");
    expect(stderr).toMatch(/eta 1 momentum 0\.5 layers 784-10-10 seed 1: done/);
    expect(stderr).toMatch(/eta 1 momentum 0\.5 dropout 0\.5 layers 784-10-10 seed 1: done/);
    const rows = JSON.parse(stdout) as { momentum: number; dropout: number; accuracy: number }[];
    expect(rows.map((r) => `${r.momentum}/${r.dropout}`).sort()).toEqual(["0.5/0", "0.5/0.5", "0/0", "0/0.5"]);
    // the μ = 0.5 job is the library's run with momentum 0.5
    const { loadMnistDigits, Network, sliceDataset, train } = await import("../src/index.js");
    const digits = await loadMnistDigits();
    const net = Network.create([784, 10, 10], { seed: 1 });
    await train(net, sliceDataset(digits.train, 0, 500), { epochs: 1, miniBatchSize: 10, eta: 1, momentum: 0.5, seed: 1, threads: 1 });
    expect(rows.find((r) => r.momentum === 0.5 && r.dropout === 0)!.accuracy).toBe(net.evaluate(sliceDataset(digits.test, 0, 100)).accuracy);
    const bad = await runShoal(["sweep", "--momentum", "1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--momentum must be a number in [0, 1), got 1");
  });
});

describe("Redis unreachable", () => {
  it("shoal worker and shoal serve --redis exit 1 with one line", async () => {
    const port = await freePort();
    for (const args of [["worker", "--redis", `redis://127.0.0.1:${port}`], ["serve", "--redis", `redis://127.0.0.1:${port}`, "--port", "0"]]) {
      const { code, stderr } = await runShoal(args);
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`^shoal: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*\\n$`));
    }
  });
});
