import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../src/cli/serve-command.js";
import type { JobServer } from "../src/service/server.js";
import { someDigits } from "./fixtures/digits.js";

/** One Server-Sent Event as received. */
interface Sse {
  event: string;
  data: Record<string, unknown>;
}

/** Reads an SSE stream to its end (the server ends it after a job's last event), calling `each` on every event. */
async function readEvents(url: string, each: (e: Sse) => void = () => {}): Promise<Sse[]> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  const events: Sse[] = [];
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of response.body!) {
    text += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = text.indexOf("\n\n")) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === undefined || data === undefined) continue; // a keep-alive comment
      const e = { event, data: JSON.parse(data) as Record<string, unknown> };
      events.push(e);
      each(e);
    }
  }
  return events;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

const post = (url: string, body: unknown): Promise<Response> =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

const digitsJob = (over: Record<string, unknown> = {}) => ({
  data: { name: "mnist", limit: 600, testLimit: 200 }, layers: [784, 16, 10], epochs: 2, miniBatchSize: 10, eta: 3, seed: 1, threads: 2, name: "digits", ...over,
});

describe("the HTTP job server", () => {
  let modelsDir: string;
  let server: JobServer;
  let url: string;
  let doneId: string;
  let doneModel: string;
  let rows: number[][];

  beforeAll(async () => {
    modelsDir = await mkdtemp(path.join(tmpdir(), "shoal-serve-"));
    server = await startServer({ port: 0, modelsDir, maxQueue: 1, dataDir: modelsDir });
    url = server.url;
    const { test } = await someDigits(0, 2);
    rows = [0, 1].map((i) => Array.from(test.inputs.subarray(i * 784, (i + 1) * 784)));
  });
  afterAll(async () => {
    await server?.close();
    await rm(modelsDir, { recursive: true, force: true });
  });

  it("listens on 127.0.0.1 with the port it was given (0 = a free one)", async () => {
    expect(server.host).toBe("127.0.0.1");
    expect(server.port).toBeGreaterThan(0);
    expect(url).toBe(`http://127.0.0.1:${server.port}`);
    expect(await json(await fetch(`${url}/health`))).toMatchObject({ status: "ok", queued: 0, running: 0 });
  });

  it("runs a job's whole life: POST, SSE events to the end, status, model, predictions", async () => {
    const created = await post(`${url}/jobs`, digitsJob());
    expect(created.status).toBe(201);
    const job = await json(created);
    const id = job.id as string;
    expect(created.headers.get("location")).toBe(`/jobs/${id}`);
    expect(job).toMatchObject({ spec: { dataset: "mnist", layers: [784, 16, 10], name: "digits" }, epochs: 2 });

    const events = await readEvents(`${url}/jobs/${id}/events`);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("status");
    expect(names.filter((n) => n === "epoch")).toHaveLength(2);
    expect(names.at(-1)).toBe("done");
    expect(names.slice(1).every((n) => ["started", "progress", "epoch", "done"].includes(n))).toBe(true);
    const epochs = events.filter((e) => e.event === "epoch").map((e) => e.data);
    expect(epochs.map((e) => [e.id, e.epoch, e.epochs])).toEqual([[id, 1, 2], [id, 2, 2]]);
    expect(epochs[1]!.accuracy).toBeGreaterThan(0.2);

    const info = await json(await fetch(`${url}/jobs/${id}`));
    expect(info).toMatchObject({ id, status: "done", epoch: 2, model: true, threads: 2 });
    expect(info.reports).toHaveLength(2);
    expect(typeof info.startedAt).toBe("string");
    expect(typeof info.finishedAt).toBe("string");
    const list = await json(await fetch(`${url}/jobs`));
    expect((list.jobs as { id: string; reports?: unknown }[]).find((j) => j.id === id)).toMatchObject({ status: "done", accuracy: info.accuracy });

    const model = await fetch(`${url}/models/${id}`);
    expect(model.headers.get("content-type")).toBe("application/json; charset=utf-8");
    doneModel = await model.text();
    expect(JSON.parse(doneModel)).toMatchObject({ format: "shoal-model", sizes: [784, 16, 10], metadata: { job: { id, status: "done" } } });
    expect(await readdir(modelsDir)).toContain(`${id}.shoal.json`);

    const predicted = await json(await post(`${url}/models/${id}/predict`, { inputs: rows }));
    expect(predicted.classes).toHaveLength(2);
    expect((predicted.outputs as number[][])[0]).toHaveLength(10);
    const short = await post(`${url}/models/${id}/predict`, { inputs: [rows[0], [0.5, 0.5, 0.5]] });
    expect(short.status).toBe(400);
    expect((await json(short)).message).toBe("inputs[1] has 3 values, expected 784 (the model's input layer)");
    doneId = id;
  });

  it("answers requests while a job trains, cancels it, and ends its event stream with `cancelled`", async () => {
    // A wide hidden layer makes each epoch last several progress intervals (100 ms).
    const job = await json(await post(`${url}/jobs`, digitsJob({ data: { name: "mnist", limit: 8000 }, layers: [784, 200, 10], epochs: 100 })));
    const id = job.id as string;
    let training!: () => void;
    const isTraining = new Promise<void>((resolve) => (training = resolve));
    const stream = readEvents(`${url}/jobs/${id}/events`, (e) => {
      if (e.event === "progress" && (e.data.examplesDone as number) > 0) training();
    });
    await isTraining;

    // While the workers train at full speed: a burst of concurrent requests of every kind.
    const requests = Array.from({ length: 40 }, (_, i) => {
      switch (i % 4) {
        case 0: return fetch(`${url}/health`);
        case 1: return fetch(`${url}/jobs/${id}`);
        case 2: return fetch(`${url}/jobs`);
        default: return post(`${url}/models/${doneId}/predict`, { inputs: rows });
      }
    });
    const responses = await Promise.all(requests);
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    expect((await json(responses[1]!)).status).toBe("running");
    expect(await json(await fetch(`${url}/health`))).toMatchObject({ running: 1 });

    // The queue holds one job (maxQueue 1): a second waiting job is refused.
    const queued = await json(await post(`${url}/jobs`, digitsJob()));
    expect(queued.status).toBe("queued");
    const full = await post(`${url}/jobs`, digitsJob());
    expect(full.status).toBe(503);
    expect((await json(full)).message).toMatch(/^the job queue is full: 1 jobs are waiting \(maxQueue 1\)/);
    expect((await json(await fetch(`${url}/jobs/${queued.id}`, { method: "DELETE" }))).status).toBe("cancelled");

    const cancelled = await fetch(`${url}/jobs/${id}`, { method: "DELETE" });
    expect(cancelled.status).toBe(200);
    expect(await json(cancelled)).toMatchObject({ id, status: "cancelled", error: { name: "AbortError" } });
    const events = await stream;
    expect(events.at(-1)).toMatchObject({ event: "cancelled", data: { id, status: "cancelled" } });

    const again = await fetch(`${url}/jobs/${id}`, { method: "DELETE" });
    expect(again.status).toBe(409);
    expect((await json(again)).message).toBe(`job ${id} has already been cancelled`);
    const noModel = await fetch(`${url}/models/${id}`);
    expect(noModel.status).toBe(409);
    // A finished job's stream is its record and its end.
    expect((await readEvents(`${url}/jobs/${id}/events`)).map((e) => e.event)).toEqual(["status"]);
  });

  it("refuses bad bodies with 400 naming the field", async () => {
    const bad = async (body: unknown, expected: Record<string, unknown>): Promise<void> => {
      const response = await post(`${url}/jobs`, body);
      expect(response.status).toBe(400);
      expect(await json(response)).toMatchObject({ statusCode: 400, error: "Bad Request", ...expected });
    };
    const { epochs: _, ...noEpochs } = digitsJob();
    await bad(noEpochs, { message: "body.epochs is required", field: "epochs" });
    await bad(digitsJob({ layers: [784, 0, 10] }), { message: "body.layers[1] must be >= 1", field: "layers[1]" });
    await bad(digitsJob({ eta: "3" }), { message: "body.eta must be number", field: "eta" });
    await bad(digitsJob({ cost: "hinge" }), { message: "body.cost must be one of quadratic, cross-entropy, log-likelihood", field: "cost" });
    // softmax is an output layer's only: the schema lists the hidden layers' activations
    await bad(digitsJob({ activation: "softmax" }), { message: "body.activation must be one of sigmoid, tanh, relu, identity", field: "activation" });
    await bad(digitsJob({ outputActivation: "softmax" }), { message: 'outputActivation softmax needs cost log-likelihood (C = −ln a_y), got "quadratic"' });
    await bad(digitsJob({ data: { name: "mnist", limit: 0 } }), { message: "body.data.limit must be >= 1", field: "data.limit" });
    await bad(digitsJob({ layers: [10, 10] }), { message: "layers[0] is 10, but mnist examples have 784 inputs" });
    await bad(digitsJob({ epoch: 3 }), { message: expect.stringMatching(/^job spec has an unknown field "epoch"/) });
    await bad(digitsJob({ data: { csv: "../../etc/passwd" } }), { message: 'data.csv must be a path inside the server\'s data folder, got "../../etc/passwd"' });
    await bad(digitsJob({ data: { inputs: [[0, 1], [1]], labels: [0, 1] }, layers: [2, 2] }), { message: "data.inputs[1] has 1 values, expected 2 (as data.inputs[0])" });

    const notJson = await fetch(`${url}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(notJson.status).toBe(400);
    const huge = await post(`${url}/jobs`, digitsJob({ data: { inputs: Array.from({ length: 3000 }, () => new Array(784).fill(0.5)), labels: new Array(3000).fill(0) } }));
    expect(huge.status).toBe(413);
  });

  it("answers 404 for unknown ids and routes", async () => {
    for (const [method, route] of [
      ["GET", "/jobs/nope"], ["GET", "/jobs/nope/events"], ["DELETE", "/jobs/nope"], ["GET", "/models/nope"], ["GET", "/nowhere"],
    ] as const) {
      const response = await fetch(`${url}${route}`, { method });
      expect(response.status, `${method} ${route}`).toBe(404);
    }
    const predict = await post(`${url}/models/nope/predict`, { inputs: rows });
    expect(predict.status).toBe(404);
    expect(await json(predict)).toMatchObject({ message: 'no job with id "nope"' });
  });

  it("serves its models again after a restart", async () => {
    await server.close();
    server = await startServer({ port: 0, modelsDir });
    url = server.url;
    const models = (await json(await fetch(`${url}/models`))).models as Record<string, unknown>[];
    expect(models).toEqual([expect.objectContaining({ id: doneId, name: "digits", layers: [784, 16, 10], dataset: "mnist", epochs: 2, restored: true })]);
    expect(await (await fetch(`${url}/models/${doneId}`)).text()).toBe(doneModel);
    expect(await json(await fetch(`${url}/jobs/${doneId}`))).toMatchObject({ status: "done", restored: true, epoch: 2 });
    const predicted = await json(await post(`${url}/models/${doneId}/predict`, { inputs: rows }));
    expect(predicted.classes).toHaveLength(2);
    // Jobs that did not finish left no model behind.
    expect((await json(await fetch(`${url}/jobs`))).jobs).toHaveLength(1);
  });
});

describe("shoal serve", () => {
  it("prints the address it listens on, serves, and stops on SIGINT with exit code 0", async () => {
    const modelsDir = await mkdtemp(path.join(tmpdir(), "shoal-serve-cli-"));
    const fixture = fileURLToPath(new URL("./fixtures/service-serve.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", fixture, "serve", "--port", "0", "--models-dir", modelsDir], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      let out = "";
      const address = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
          out += chunk;
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on("exit", (code) => reject(new Error(`exited with ${code} before listening: ${out}`)));
      });
      expect(out).toBe(`shoal serve: listening on ${address} (models in ${modelsDir})\n`);
      expect(await json(await fetch(`${address}/health`))).toMatchObject({ status: "ok" });
      const exited = once(child, "exit");
      child.kill("SIGINT");
      expect((await exited)[0]).toBe(0);
      expect(out).toContain("shoal serve: SIGINT, stopping (running jobs are cancelled)\n");
    } finally {
      child.kill();
      await rm(modelsDir, { recursive: true, force: true });
    }
  });
});
