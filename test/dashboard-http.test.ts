/**
 * The dashboard's side of the server over plain HTTP: the page and its files, the Content-Security-
 * Policy, the one stream of every job's events (GET /events), the token and the Host check; under
 * `shoal serve`, `serve --redis`, and the fastify plugin mounted under a prefix.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { request } from "node:http";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../src/cli/serve-command.js";
import { startRedisServer } from "../src/distributed/server.js";
import { loopbackHosts } from "../src/service/access.js";
import { jobRoutes } from "../src/service/http.js";
import type { JobEvent, JobInfo } from "../src/service/job.js";
import type { JobSource } from "../src/service/job-source.js";
import type { JobServer } from "../src/service/server.js";
import { bin, exitOf, makeTempDir, removeTempDir, root, waitForLine } from "./fixtures/cli-helpers.js";
import { startRedis, type TestRedis } from "./fixtures/redis.js";

/** Server-Sent Events read from a stream that stays open: `until` says when to stop reading. */
async function readUntil(url: string, until: (events: { event: string; data: Record<string, unknown> }[]) => boolean, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  const events: { event: string; data: Record<string, unknown> }[] = [];
  let text = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body!) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = text.indexOf("\n\n")) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
      }
      if (until(events)) break;
    }
  } finally {
    controller.abort();
  }
  return events;
}

/** A GET with a Host header of our choosing (fetch will not send one). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

const tinyJob = { data: { name: "mnist", limit: 200, testLimit: 100 }, layers: [784, 10, 10], epochs: 2, miniBatchSize: 10, eta: 3, seed: 1, threads: 0, name: "tiny" };

describe("shoal serve's dashboard, over HTTP", () => {
  let server: JobServer;

  beforeAll(async () => {
    server = await startServer({ port: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("serves the page and its files at / with a Content-Security-Policy that allows no inline script and no eval", async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await page.text();
    // every script has a src, and no element has an event-handler attribute: nothing the policy would refuse
    expect(html.match(/<script[^>]*>/g)).toEqual(['<script type="module" src="dashboard/app.js">']);
    expect(html).not.toMatch(/\son[a-z]+=/i);

    for (const [file, type] of [["app.js", "text/javascript"], ["style.css", "text/css"], ["uPlot.esm.js", "text/javascript"], ["uPlot.min.css", "text/css"], ["centre-digit.js", "text/javascript"], ["icon.svg", "image/svg+xml"]]) {
      const response = await fetch(`${server.url}/dashboard/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get("content-type")).toBe(`${type}; charset=utf-8`);
    }
    // the drawing pad's centring is the command line's module, as plain JavaScript that imports nothing
    const centring = await (await fetch(`${server.url}/dashboard/centre-digit.js`)).text();
    expect(centring).toMatch(/export function mnistField\(image, style = "digit", steps = \[\]\)/);
    expect(centring).not.toMatch(/^import /m);
    expect(centring).not.toMatch(/: (GrayImage|number|string)\b/); // no TypeScript left
    const uplot = await (await fetch(`${server.url}/dashboard/uPlot.esm.js`)).text();
    expect(uplot).toBe(await readFile(new URL("../node_modules/uplot/dist/uPlot.esm.js", import.meta.url), "utf8"));

    const missing = await fetch(`${server.url}/dashboard/..%2Fpackage.json`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { message: string }).message).toBe('the dashboard has no file "../package.json"');
  });

  it("streams every job's events on one GET /events: the records now, then each job's events, and stays open", async () => {
    const before = await post(`${server.url}/jobs`, { ...tinyJob, name: "first" });
    const firstId = ((await before.json()) as JobInfo).id;
    await server.trainer.wait(firstId);
    let secondId = "";
    const events = await readUntil(`${server.url}/events`, (seen) => {
      if (seen.length === 1) {
        void post(`${server.url}/jobs`, tinyJob).then(async (r) => (secondId = ((await r.json()) as JobInfo).id));
      }
      return seen.some((e) => e.event === "done");
    });
    expect(events[0]!.event).toBe("jobs");
    const listed = events[0]!.data.jobs as JobInfo[];
    expect(listed.map((j) => [j.id, j.status])).toEqual([[firstId, "done"]]);
    expect(listed[0]).not.toHaveProperty("reports");

    const rest = events.slice(1);
    expect(rest.every((e) => e.data.id === secondId)).toBe(true);
    const names = rest.map((e) => e.event);
    expect(names[0]).toBe("queued");
    expect(names).toContain("started");
    expect(names.at(-1)).toBe("done");
    expect(rest.filter((e) => e.event === "epoch").map((e) => [e.data.epoch, e.data.epochs])).toEqual([[1, 2], [2, 2]]);
    const done = rest.at(-1)!.data;
    expect(done).toMatchObject({ status: "done", epoch: 2, model: true, spec: { name: "tiny" } });
    expect(done).not.toHaveProperty("reports");
  });

  it("refuses requests naming another host (DNS rebinding) on a loopback address, and answers to the loopback names", async () => {
    const refused = await getWithHost(`${server.url}/jobs`, "evil.example");
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({
      statusCode: 403,
      error: "Forbidden",
      message: 'this server answers to localhost, 127.0.0.1, ::1 only, not to Host "evil.example" (DNS rebinding protection)',
    });
    expect((await getWithHost(`${server.url}/`, `evil.example:${server.port}`)).status).toBe(403); // the page too
    for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`, "LOCALHOST"]) {
      expect((await getWithHost(`${server.url}/health`, host)).status, host).toBe(200);
    }
  });

  it("checks the Host only for a loopback address: a server put on a network answers to the names it is given", () => {
    expect(loopbackHosts("127.0.0.1")).toEqual(["localhost", "127.0.0.1", "::1"]);
    expect(loopbackHosts("127.0.0.2")).toEqual(["localhost", "127.0.0.1", "::1", "127.0.0.2"]);
    expect(loopbackHosts("::1")).toEqual(["localhost", "127.0.0.1", "::1"]);
    expect(loopbackHosts("localhost")).toEqual(["localhost", "127.0.0.1", "::1"]);
    expect(loopbackHosts("0.0.0.0")).toBeUndefined();
    expect(loopbackHosts("192.168.1.20")).toBeUndefined();
  });
});

describe("a server started with a token", () => {
  let server: JobServer;
  const token = "tok-3f9a";
  const bearer = { authorization: `Bearer ${token}` };

  beforeAll(async () => {
    server = await startServer({ port: 0, token });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("needs it as a bearer token on every route but the page's static files", async () => {
    for (const route of ["/jobs", "/models", "/health", "/jobs/nope", "/jobs/nope/events", "/events"]) {
      const none = await fetch(`${server.url}${route}`);
      expect(none.status, route).toBe(401);
      expect(none.headers.get("www-authenticate")).toBe('Bearer realm="shoal"');
      expect(await none.json()).toEqual({ statusCode: 401, error: "Unauthorized", message: "this server needs a token: send Authorization: Bearer <token>" });
      const wrong = await fetch(`${server.url}${route}`, { headers: { authorization: "Bearer tok-3f9b" } });
      expect(wrong.status, route).toBe(401);
      expect(((await wrong.json()) as { message: string }).message).toBe("the token is wrong");
    }
    expect((await post(`${server.url}/jobs`, tinyJob)).status).toBe(401);
    expect((await fetch(`${server.url}/jobs/x`, { method: "DELETE" })).status).toBe(401);
    expect((await post(`${server.url}/models/x/predict`, { inputs: [[0]] })).status).toBe(401);

    expect((await fetch(`${server.url}/health`, { headers: bearer })).status).toBe(200);
    expect((await fetch(`${server.url}/jobs/nope`, { headers: bearer })).status).toBe(404);
    const events = await readUntil(`${server.url}/events`, (seen) => seen.length > 0, bearer);
    expect(events[0]).toEqual({ event: "jobs", data: { jobs: [] } });
    // the page and its files hold no data: a browser must load them to be asked for the token
    expect((await fetch(`${server.url}/`)).status).toBe(200);
    expect((await fetch(`${server.url}/dashboard/app.js`)).status).toBe(200);
  });

  it("refuses a token that cannot travel in a header", async () => {
    await expect(startServer({ port: 0, token: "two words" })).rejects.toThrow(
      "token must be a non-empty string of visible ASCII characters without spaces, got 9 characters",
    );
    await expect(startServer({ port: 0, token: "" })).rejects.toThrow("token must be a non-empty string");
  });
});

describe("shoal serve --token", () => {
  /** Runs `shoal serve` with `args` and `env` until `check` has looked at it. */
  async function serving(args: string[], env: NodeJS.ProcessEnv, check: (url: string) => Promise<void>): Promise<void> {
    const dir = await makeTempDir();
    const child = spawn(process.execPath, [bin, "serve", "--port", "0", "--models-dir", dir, ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const line = await waitForLine(child.stdout!, (l) => l.includes("listening on"));
      await check(/listening on (http:\/\/\S+)/.exec(line)![1]!);
    } finally {
      child.kill("SIGTERM");
      await exitOf(child);
      await removeTempDir(dir);
    }
  }

  it("takes the token from the flag, or from SHOAL_TOKEN (out of sight of ps)", async () => {
    const { SHOAL_TOKEN: _, ...env } = process.env;
    await serving(["--token", "flag-token"], env, async (url) => {
      expect((await fetch(`${url}/health`)).status).toBe(401);
      expect((await fetch(`${url}/health`, { headers: { authorization: "Bearer flag-token" } })).status).toBe(200);
    });
    await serving([], { ...env, SHOAL_TOKEN: "env-token" }, async (url) => {
      expect((await fetch(`${url}/health`, { headers: { authorization: "Bearer flag-token" } })).status).toBe(401);
      expect((await fetch(`${url}/health`, { headers: { authorization: "Bearer env-token" } })).status).toBe(200);
    });
  });
});

describe("the dashboard of the fastify plugin, mounted under a prefix", () => {
  // a job source with one job, enough for the routes the page reads
  const job = { id: "j1", status: "done", spec: { name: "<b>x</b>", layers: [2, 2], dataset: "inline", seed: 1, data: { inline: { examples: 1, inputSize: 2 } }, epochs: 1, miniBatchSize: 1, eta: 1 }, epoch: 1, epochs: 1, reports: [], createdAt: "2026-12-02T00:00:00.000Z", model: false, seq: 1 } as unknown as JobInfo;
  const listeners = new Set<(e: JobEvent) => void>();
  const source = { jobs: () => [job], job: (id: string) => (id === "j1" ? job : undefined), onEvent: (l: (e: JobEvent) => void) => (listeners.add(l), () => listeners.delete(l)) } as unknown as JobSource;
  const app = Fastify();
  let url: string;

  beforeAll(async () => {
    await app.register(jobRoutes, { trainer: source, prefix: "/training", token: "t", allowedHosts: ["localhost", "127.0.0.1"] });
    url = await app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await app.close();
  });

  it("serves the page at /prefix/ (the page's links are relative), its files, and the stream, with the plugin's token and Host check", async () => {
    const bare = await fetch(`${url}/training`, { redirect: "manual" });
    expect(bare.status).toBe(302);
    expect(bare.headers.get("location")).toBe("/training/");
    const page = await fetch(`${url}/training/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('src="dashboard/app.js"');
    expect((await fetch(`${url}/training/dashboard/app.js`)).status).toBe(200);
    expect((await fetch(`${url}/training/events`)).status).toBe(401);
    const events = await readUntil(`${url}/training/events`, (seen) => seen.length > 0, { authorization: "Bearer t" });
    const { reports: _, ...listed } = job;
    expect(events[0]!.data).toEqual({ jobs: [listed] });
    expect((await getWithHost(`${url}/training/`, "attacker.example")).status).toBe(403);
    await expect.poll(() => listeners.size).toBe(0); // the closed stream stopped listening
  });
});

describe("shoal serve --redis serves the same dashboard", () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("with its page, its token and its one stream of every job", async () => {
    await using server = await startRedisServer({ redis: redis.url, queue: "dashboard", port: 0, token: "r-token" });
    expect((await fetch(`${server.url}/`)).headers.get("content-security-policy")).toContain("script-src 'self'");
    expect((await fetch(`${server.url}/jobs`)).status).toBe(401);
    const headers = { authorization: "Bearer r-token" };
    const queued = await post(`${server.url}/jobs`, tinyJob, headers);
    expect(queued.status).toBe(201);
    const id = ((await queued.json()) as JobInfo).id;
    const events = await readUntil(`${server.url}/events`, (seen) => seen.length > 0, headers);
    expect((events[0]!.data.jobs as JobInfo[]).map((j) => [j.id, j.status])).toEqual([[id, "queued"]]);
    expect((await getWithHost(`${server.url}/health`, "rebound.example")).status).toBe(403);
  });
});
