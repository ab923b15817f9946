/**
 * What `shoal serve` records about its jobs: the model file says which data it was trained on (so
 * `shoal evaluate`/`predict`/`info` work on it as on a `shoal train` model), records show file paths
 * relative to the data folder, a job's work is bounded, and bad requests are answered clearly.
 */
import { request } from "node:http";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../src/cli/serve-command.js";
import { fashionMnistClasses, fashionMnistDirectory } from "../src/data/fashion-mnist.js";
import type { JobServer } from "../src/service/server.js";
import { exitOf, shoal, startShoal, waitForLine } from "./fixtures/cli-helpers.js";

type Json = Record<string, unknown>;

const post = async (url: string, body: unknown): Promise<{ status: number; body: Json }> => {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Json };
};

/** POSTs a job and waits for its end (the SSE stream ends after the job's last event); returns its final record. */
async function runJob(url: string, spec: unknown): Promise<Json> {
  const created = await post(`${url}/jobs`, spec);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  await (await fetch(`${url}/jobs/${id}/events`)).text();
  return (await (await fetch(`${url}/jobs/${id}`)).json()) as Json;
}

/** An iris-like CSV with text labels: n rows. */
function irisCsv(n: number): string {
  const names = ["setosa", "versicolor", "virginica"];
  const rows = Array.from({ length: n }, (_, i) => `${(i % 3) + (i % 7) * 0.01},${i % 5},"${names[i % 3]}"`);
  return ["a,b,species", ...rows].join("\n") + "\n";
}

/** A POST /jobs whose headers are exactly `headers` (fetch would add a content-type to a string body). */
function rawPost(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; type: string | undefined; body: Json }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/jobs`, { method: "POST", headers: { "content-length": String(Buffer.byteLength(body)), ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, type: res.headers["content-type"], body: JSON.parse(text) as Json }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("models saved by shoal serve", () => {
  let root: string;
  let modelsDir: string;
  let dataDir: string;
  let server: JobServer;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "shoal-serve-jobs-"));
    modelsDir = path.join(root, "models");
    dataDir = path.join(root, "data");
    await mkdir(path.join(dataDir, "sets"), { recursive: true });
    await writeFile(path.join(dataDir, "sets", "iris.csv"), irisCsv(60));
    server = await startServer({ port: 0, modelsDir, dataDir, maxJobWork: 2_000 });
  });
  afterAll(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  it("record the dataset and class names: evaluate, predict and info use them", async () => {
    const job = await runJob(server.url, {
      data: { name: "fashion-mnist", limit: 10, testLimit: 100 }, layers: [784, 10, 10], epochs: 1, miniBatchSize: 10, eta: 0.5, seed: 1, threads: 0,
    });
    expect(job).toMatchObject({ status: "done" });
    const model = path.join(modelsDir, `${job.id as string}.shoal.json`);
    const { metadata } = JSON.parse(await readFile(model, "utf8")) as { metadata: Json };
    expect(metadata).toMatchObject({ data: "fashion-mnist", classNames: [...fashionMnistClasses], job: { id: job.id } });

    const evaluated = await shoal(["evaluate", "--model", model, "--json"]);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const result = JSON.parse(evaluated.stdout) as { data: string; total: number; perClass: { name?: string }[] };
    expect(result.data).toBe("fashion-mnist test set"); // not the bundled digits
    expect(result.total).toBe(10_000);
    expect(result.perClass.map((c) => c.name)).toEqual([...fashionMnistClasses]);

    const predicted = await shoal(["predict", "--model", model, path.join(fashionMnistDirectory, "t10k-images-idx3-ubyte.gz"), "--index", "0", "--json"]);
    expect(predicted.code, predicted.stderr).toBe(0);
    const p = JSON.parse(predicted.stdout) as { predicted: number; name: string };
    expect(p.name).toBe(fashionMnistClasses[p.predicted]);

    const info = await shoal(["info", "--model", model]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/^ {2}data\s+fashion-mnist$/m);
    expect(info.stdout).toMatch(/^ {2}job$/m);
    expect(info.stdout).toMatch(new RegExp(`^ {4}id\\s+${job.id as string}$`, "m"));
    expect(info.stdout).toMatch(/^ {4}spec$/m);
    expect(info.stdout).toMatch(/^ {6}dataset\s+fashion-mnist$/m);
    expect(info.stdout).toMatch(/^ {4}reports\s+1 entry \(--json shows them\)$/m);
    expect(info.stdout).not.toContain("{"); // no line of JSON
  }, 120_000);

  it("show file paths relative to the data folder, and keep a CSV file's class names", async () => {
    const job = await runJob(server.url, { data: { csv: "sets/iris.csv", labelColumn: "species" }, layers: [2, 4, 3], epochs: 2, miniBatchSize: 10, eta: 1, seed: 1, threads: 0 });
    expect(job).toMatchObject({ status: "done", spec: { dataset: "sets/iris.csv", data: { csv: "sets/iris.csv", labelColumn: "species" } } });
    const listed = await (await fetch(`${server.url}/jobs`)).text();
    const modelText = await (await fetch(`${server.url}/models/${job.id as string}`)).text();
    for (const text of [JSON.stringify(job), listed, modelText]) expect(text).not.toContain(dataDir);
    expect((JSON.parse(modelText) as { metadata: Json }).metadata).toMatchObject({
      data: "sets/iris.csv",
      labelColumn: "species",
      classNames: ["setosa", "versicolor", "virginica"],
    });
  });

  it("bound a job's work (epochs × training examples): 400 naming the limit, or a failed job once a file's size is known", async () => {
    const big = await post(`${server.url}/jobs`, { data: { name: "mnist" }, layers: [784, 10, 10], epochs: 100_000_000, miniBatchSize: 10, eta: 3 });
    expect(big.status).toBe(400);
    expect(big.body.message).toBe(
      "the job asks for 100000000 epochs × 8000 training examples = 800000000000 example passes, more than this trainer's limit of 2000 (maxJobWork: epochs × training examples)",
    );
    // 60 rows × 40 epochs: the file is only counted when the job loads it
    const job = await runJob(server.url, { data: { csv: "sets/iris.csv", labelColumn: "species" }, layers: [2, 3], epochs: 40, miniBatchSize: 10, eta: 1, threads: 0 });
    expect(job).toMatchObject({ status: "failed", error: { name: "ValidationError", message: expect.stringContaining("40 epochs × 60 training examples = 2400 example passes, more than this trainer's limit of 2000") } });
  });

  it("report a misspelt field before the missing one it stands for", async () => {
    const typo = await post(`${server.url}/jobs`, { data: { name: "mnist" }, layers: [784, 10, 10], epoch: 3, miniBatchSize: 10, eta: 3 });
    expect(typo.status).toBe(400);
    expect(typo.body.message).toMatch(/^job spec has an unknown field "epoch"; fields are data, layers, /);
  });

  it("answer a body without content-type, or not JSON, with a JSON 415 that says what to send", async () => {
    const body = JSON.stringify({ data: { name: "mnist" }, layers: [784, 10, 10], epochs: 1, miniBatchSize: 10, eta: 3 });
    const none = await rawPost(server.url, {}, body);
    expect(none).toEqual({
      status: 415,
      type: "application/json; charset=utf-8",
      body: { statusCode: 415, error: "Unsupported Media Type", message: "the body must be JSON, sent with content-type: application/json; the request has no content-type" },
    });
    const text = await rawPost(server.url, { "content-type": "text/plain" }, body);
    expect(text.status).toBe(415);
    expect(text.body.message).toBe('the body must be JSON, sent with content-type: application/json; got content-type "text/plain"');
  });
});

describe("a job server's default bound", () => {
  it("is 60,000,000 epochs × training examples: 100,000,000 epochs of anything is refused", async () => {
    const server = await startServer({ port: 0 });
    try {
      const big = await post(`${server.url}/jobs`, { data: { inputs: [[0], [1]], labels: [0, 1] }, layers: [1, 2], epochs: 100_000_000, miniBatchSize: 1, eta: 1 });
      expect(big.status).toBe(400);
      expect(big.body.message).toBe(
        "the job asks for 100000000 epochs × 2 training examples = 200000000 example passes, more than this trainer's limit of 60000000 (maxJobWork: epochs × training examples)",
      );
    } finally {
      await server.close();
    }
  });
});

describe("shoal serve --max-job-work", () => {
  it("sets the bound", async () => {
    const child = startShoal(["serve", "--port", "0", "--models-dir", path.join(tmpdir(), `shoal-mjw-${process.pid}`), "--max-job-work", "1000"]);
    try {
      const line = await waitForLine(child.stdout!, (l) => l.includes("listening on"));
      const url = /(http:\/\/\S+)/.exec(line)![1]!;
      const refused = await post(`${url}/jobs`, { data: { name: "mnist", limit: 100 }, layers: [784, 10, 10], epochs: 11, miniBatchSize: 10, eta: 3 });
      expect(refused.status).toBe(400);
      expect(refused.body.message).toMatch(/more than this trainer's limit of 1000 \(maxJobWork/);
      const exited = exitOf(child);
      child.kill("SIGINT");
      expect((await exited).code).toBe(0);
    } finally {
      child.kill();
      await rm(path.join(tmpdir(), `shoal-mjw-${process.pid}`), { recursive: true, force: true });
    }
  });
});
