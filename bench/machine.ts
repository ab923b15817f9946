/**
 * What the machine itself gives to N threads, as a ceiling for the training benchmarks: each of
 * N worker threads runs the same job on its own data at once, and the table reports the N-thread
 * throughput against one thread. Jobs: pure arithmetic (registers only), and streaming reads of a
 * private array sized for L2 (256 KB), for a shared L3 (8 MB) and for main memory (128 MB).
 * A trainer whose data lives in L3 or memory cannot scale better than those rows.
 *
 *   npm run bench:machine -- [--threads 1,2] [--runs 9] [--no-record]
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { machine, median, recordSection, table } from "./lib.js";

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
    w.once("message", (m: { ms: number }) => resolve(m.ms));
    w.once("error", reject);
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
    rows.push([name, String(t), `${median(times.get(t)!).toFixed(1)}`, `${speedup.toFixed(2)}×`, `${((100 * speedup) / t).toFixed(0)}%`]);
  }
}
await Promise.all(workers.map((w) => w.terminate()));

const command = `npm run bench:machine -- --threads ${threadCounts.join(",")} --runs ${runs}`;
const markdown = `### Machine ceiling (\`${command}\`)\n\n${machine()}. Each of N threads runs the same job on its own data at once; ms is the slowest thread's time (median of ${runs}); speedup is N-thread throughput over one thread's.\n\n${table(["job", "threads", "ms", "speedup", "efficiency"], rows)}`;
console.log(markdown);
if (values.record) await recordSection("machine", markdown);
