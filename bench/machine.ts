/**
 * What the machine itself gives to N threads, as a ceiling for the training benchmarks: each of
 * N worker threads runs the same job on its own data at once, and the table reports the N-thread
 * throughput against one thread. Jobs: pure arithmetic (registers only), and streaming reads of a
 * private array sized for L2 (256 KB), for a shared L3 (8 MB) and for main memory (128 MB).
 * A trainer whose data lives in L3 or memory cannot scale better than those rows.
 * Then the closest ceiling for shoal itself: N independent single-thread trainings of W1 at once
 * (nothing shared between them), against one alone.
 *
 *   npm run bench:machine -- [--threads 1,2] [--runs 9] [--no-record]
 */
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { loadMnistDigits, Network } from "../src/index.js";
import { machine, median, recordSection, spread, steadyEpochs, table } from "./lib.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: `1,${availableParallelism()}` },
    runs: { type: "string", default: "9" },
    record: { type: "boolean", default: true },
  },
  allowNegative: true,
});
const threadCounts = [...new Set(values.threads.split(",").map(Number))];
const runs = Number(values.runs);

// Each job does the same amount of work whatever its array size: 2^24 float reads (one per cache line), or 2^26 multiply-adds.
const jobCode = `
const { parentPort } = require("node:worker_threads");
let data;
parentPort.on("message", ({ job, bytes }) => {
  const started = performance.now();
  let sum = 0;
  if (job === "arithmetic") {
    for (let i = 0; i < 1 << 26; i++) sum = sum * 0.999999 + 1;
  } else {
    if (!data || data.byteLength !== bytes) data = new Float32Array(bytes / 4).fill(1);
    for (let read = 0; read < 1 << 24; ) for (let i = 0; i < data.length && read < 1 << 24; i += 16, read++) sum += data[i];
  }
  parentPort.postMessage({ ms: performance.now() - started, sum });
});`;

const jobs = [
  { name: "arithmetic (registers)", job: "arithmetic", bytes: 0 },
  { name: "stream 256 KB per thread (L2)", job: "stream", bytes: 256 << 10 },
  { name: "stream 8 MB per thread (L3)", job: "stream", bytes: 8 << 20 },
  { name: "stream 128 MB per thread (memory)", job: "stream", bytes: 128 << 20 },
];

const workers = Array.from({ length: Math.max(...threadCounts) }, () => new Worker(jobCode, { eval: true }));
const once = (w: Worker, job: string, bytes: number): Promise<number> =>
  new Promise((resolve, reject) => {
    w.once("error", reject);
    w.once("message", (m: { ms: number }) => {
      w.off("error", reject);
      resolve(m.ms);
    });
    w.postMessage({ job, bytes });
  });

const rows: string[][] = [];
for (const { name, job, bytes } of jobs) {
  // allocate, and let every thread's JIT optimise the job (one round was not enough: a thread
  // measured 2.5× faster than its twin)
  for (let round = 0; round < 3; round++) await Promise.all(workers.map((w) => once(w, job, bytes)));
  const times = new Map<number, number[]>(threadCounts.map((t) => [t, []]));
  for (let run = 0; run < runs; run++) {
    for (const t of threadCounts) {
      const ms = await Promise.all(workers.slice(0, t).map((w) => once(w, job, bytes)));
      times.get(t)!.push(Math.max(...ms)); // the slowest thread sets the pace, as at a barrier
    }
  }
  const base = median(times.get(threadCounts[0]!)!) / threadCounts[0]!;
  for (const t of threadCounts) {
    const speedup = (t * base) / median(times.get(t)!) ;
    const ms = times.get(t)!;
    rows.push([
      name, String(t), spread(ms, 1), `${(Math.max(...ms) / Math.min(...ms)).toFixed(2)}×`, `${speedup.toFixed(2)}×`, `${((100 * speedup) / t).toFixed(0)}%`,
    ]);
  }
}
await Promise.all(workers.map((w) => w.terminate()));

// N independent 1-thread trainings at once, against one alone: what N threads could give W1 if
// they never had to meet.
const { train: data } = await loadMnistDigits();
const alone = async (seed: number, miniBatchSize: number): Promise<number> => {
  const { epochs } = await steadyEpochs(Network.create([784, 30, 10], { seed }), data, { miniBatchSize, eta: 3.0, seed, threads: 1 });
  return median(epochs.map((e) => e.examplesPerSecond));
};
const busiest = Math.max(...threadCounts);
const trainerRows: string[][] = [];
for (const miniBatchSize of [10, 100]) {
  const one: number[] = [];
  const many: number[] = [];
  for (let run = 0; run < runs; run++) {
    await sleep(300);
    one.push(await alone(run + 1, miniBatchSize));
    await sleep(300);
    const rates = await Promise.all(Array.from({ length: busiest }, (_, k) => alone(run + 1 + k, miniBatchSize)));
    many.push(rates.reduce((a, b) => a + b, 0));
  }
  const speedup = median(many) / median(one);
  trainerRows.push([String(miniBatchSize), spread(one), String(busiest), spread(many), `${speedup.toFixed(2)}×`, `${((100 * speedup) / busiest).toFixed(0)}%`]);
}

const command = `npm run bench:machine -- --threads ${threadCounts.join(",")} --runs ${runs}`;
const markdown = `### Machine ceiling (\`${command}\`)\n\n${machine()}. Each of N threads runs the same job on its own data at once; ms is the slowest thread's time, median (min–max) of ${runs} runs; "slowest ÷ fastest run" shows how much the same work varies from one run to the next on this machine; speedup is N-thread throughput over one thread's (medians).\n\n${table(["job", "threads", "ms", "slowest ÷ fastest run", "speedup", "efficiency"], rows)}`;
const trainerTable = table(["batch", "1 training alone, examples/s", "trainings at once", "their examples/s summed", "speedup", "efficiency"], trainerRows);
const full = `${markdown}\n\nW1 (784-30-10, float32, 1 worker thread each), independent trainings at once against one alone; examples/s median (min–max) over ${runs} runs, each measured after its JIT warm-up:\n\n${trainerTable}`;
console.log(full);
if (values.record) await recordSection("machine", full);
