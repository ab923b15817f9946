/**
 * The job server under training load (784-30-10 on the 8,000 bundled digits, batch 10, η 3.0,
 * 2 worker threads):
 *  1. event-loop delay of the server's main thread (perf_hooks monitorEventLoopDelay, 1 ms
 *     resolution): idle, while a job trains, and while a job trains and GET /health is hammered;
 *  2. GET /health latency (a bounded loop on loopback: `--requests` requests, `--concurrency` at a
 *     time, sent from a child process so the client does not load the server's thread), idle and
 *     while training;
 *  3. training throughput through the service vs calling train() directly in this process
 *     (examples/s over the epochs' training steps, median of `--runs`, the two interleaved).
 *
 *   npm run bench:service -- [--requests 2000] [--concurrency 4] [--runs 5] [--epochs 10]
 *
 * Internally, `--client URL` runs the request loop and prints its latencies as JSON.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { availableParallelism, cpus, tmpdir } from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { loadMnistDigits, Network, train } from "../src/index.js";
import type { JobSpec } from "../src/service/index.js";
import { startServer } from "../src/service/server.js";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "4" },
    runs: { type: "string", default: "5" },
    epochs: { type: "string", default: "10" },
    client: { type: "string" },
  },
});
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);

if (values.client !== undefined) {
  console.log(JSON.stringify(await requestLoop(values.client, requests, concurrency)));
  process.exit(0);
}

/** GET /health `count` times, `parallel` at a time, over keep-alive connections; latencies in ms. */
async function requestLoop(base: string, count: number, parallel: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: parallel });
  const latencies: number[] = [];
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      http.get(`${base}/health`, { agent }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode !== 200) reject(new Error(`GET /health: ${res.statusCode}`));
          latencies.push(performance.now() - started);
          resolve();
        });
      }).on("error", reject);
    });
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next++ < count) await one();
  }));
  agent.destroy();
  return latencies;
}

const run = promisify(execFile);
const self = fileURLToPath(import.meta.url);
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const median = (xs: number[]): number => percentile(xs, 50);
const ms = (x: number): string => x.toFixed(2);

async function clientLatencies(url: string): Promise<number[]> {
  const { stdout } = await run(process.execPath, [...process.execArgv, self, "--client", url, "--requests", String(requests), "--concurrency", String(concurrency)], { timeout: 120_000 });
  return JSON.parse(stdout) as number[];
}

/** Event-loop delay of this thread while `work` runs: p50, p99, max in ms. */
async function loopDelay(work: () => Promise<unknown>): Promise<[number, number, number]> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await work();
  h.disable();
  return [h.percentile(50) / 1e6, h.percentile(99) / 1e6, h.max / 1e6];
}

const threads = 2;
const spec = (epochs: number, seed: number): JobSpec => ({
  data: { name: "mnist", testLimit: 0 }, layers: [784, 30, 10], epochs, miniBatchSize: 10, eta: 3.0, seed, threads,
});
const modelsDir = await mkdtemp(path.join(tmpdir(), "shoal-bench-"));
const server = await startServer({ port: 0, modelsDir });
const { url, trainer } = server;
const rows: string[] = [];
const row = (what: string, delay: [number, number, number] | undefined, latency: number[] | undefined): void => {
  const d = delay ? delay.map(ms).join(" / ") : "–";
  const l = latency ? `${ms(percentile(latency, 50))} / ${ms(percentile(latency, 99))} / ${ms(Math.max(...latency))}` : "–";
  rows.push(`| ${what} | ${d} | ${l} |`);
};

try {
  // Idle: nothing trains (after a first loop that warms up the server's code paths).
  await clientLatencies(url);
  let idle: number[] = [];
  row("idle, GET /health loop", await loopDelay(async () => (idle = await clientLatencies(url))), idle);

  // Training: a long job on 2 threads, measured once it is inside its epochs (pool started).
  const long = await trainer.submit(spec(1000, 1));
  await new Promise<void>((resolve) => {
    const stop = trainer.watch(long.id, (e) => e.type === "epoch" && (stop(), resolve()));
  });
  const epochsSoFar = (): number => trainer.job(long.id)!.reports.length;
  const quietFrom = epochsSoFar();
  row("training (2 threads), no requests, 3 s", await loopDelay(() => new Promise((r) => setTimeout(r, 3000))), undefined);
  const busyFrom = epochsSoFar();
  let busy: number[] = [];
  row(`training (2 threads), GET /health loop`, await loopDelay(async () => (busy = await clientLatencies(url))), busy);
  const busyTo = epochsSoFar();
  const reports = trainer.job(long.id)!.reports;
  await trainer.cancel(long.id);
  const rateOf = (from: number, to: number): string => {
    const xs = reports.slice(from, to).map((r) => r.examplesPerSecond);
    return xs.length === 0 ? "no whole epoch" : `${Math.round(median(xs))} examples/s (median of ${xs.length} epochs)`;
  };

  // Throughput: the same job through the service and by train() in this thread, interleaved.
  const epochs = Number(values.epochs);
  const { train: data } = await loadMnistDigits();
  const service: number[] = [];
  const direct: number[] = [];
  const rate = (reports: { examplesPerSecond: number }[]): number => {
    const later = reports.slice(1); // the first epoch includes JIT warm-up
    return later.length / later.reduce((sum, r) => sum + 1 / r.examplesPerSecond, 0); // = examples / seconds over them
  };
  for (let i = 0; i < Number(values.runs); i++) {
    const job = await trainer.submit(spec(epochs, i + 1));
    service.push(rate((await trainer.wait(job.id)).reports));
    const net = Network.create([784, 30, 10], { seed: i + 1 });
    direct.push(rate((await train(net, data, { epochs, miniBatchSize: 10, eta: 3.0, seed: i + 1, threads })).epochs));
  }

  const cpu = cpus()[0]?.model ?? "?";
  console.log(`## Job server under load — ${new Date().toISOString().slice(0, 10)}`);
  console.log();
  console.log(`${availableParallelism()} × ${cpu}, Node ${process.version}; \`npm run bench:service -- --requests ${requests} --concurrency ${concurrency} --runs ${values.runs} --epochs ${epochs}\``);
  console.log();
  console.log("| main thread of the server | event-loop delay p50 / p99 / max (ms) | GET /health latency p50 / p99 / max (ms) |");
  console.log("| --- | --- | --- |");
  for (const r of rows) console.log(r);
  console.log();
  console.log(`The job's training rate: ${rateOf(quietFrom, busyFrom)} without requests; ${rateOf(busyFrom, busyTo)} during the request loop (the client, the server and 2 workers share ${availableParallelism()} cores).`);
  console.log();
  // On a shared machine other processes' load swings run to run: the best run is the least disturbed.
  const best = (xs: number[]): number => Math.max(...xs);
  console.log(`| 784-30-10, 8,000 digits, batch 10, ${threads} threads, epochs 2–${epochs} | examples/s, median of ${values.runs} | best run | runs |`);
  console.log("| --- | --- | --- | --- |");
  console.log(`| train() in this process | ${Math.round(median(direct))} | ${Math.round(best(direct))} | ${direct.map(Math.round).join(", ")} |`);
  console.log(`| through the service (trainer thread) | ${Math.round(median(service))} | ${Math.round(best(service))} | ${service.map(Math.round).join(", ")} |`);
  console.log(`| service / direct | ${(median(service) / median(direct)).toFixed(3)} | ${(best(service) / best(direct)).toFixed(3)} | |`);
} finally {
  await server.close();
  await rm(modelsDir, { recursive: true, force: true });
}
