/**
 * What the machine itself gives to N threads, as a ceiling for the training benchmarks: each of
 * N worker threads runs the same job on its own data at once, and the table reports the N-thread
 * throughput against one thread. Jobs: pure arithmetic (registers only), and streaming reads of a
 * private array sized for L2 (256 KB), for a shared L3 (8 MB) and for main memory (128 MB).
 * A trainer whose data lives in L3 or memory cannot scale better than those rows.
 * Then the closest ceiling for shoal itself: N independent single-thread trainings of W1 at once
 * (nothing shared between them), against one alone. The thread counts take turns, run by run.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { Network } from "../../core/network.js";
import { machine, median, spread, table } from "../stats.js";
import { arg, defineSuite } from "../suite.js";
import { digits, epochsInTurn, independentTrainings, pace } from "../training.js";
import { takeTurns, type Contender } from "../turns.js";

// Each job does the same amount of work whatever its array size: 2^24 float reads (one per cache line), or 2^26 multiply-adds.
const jobCode = `
const { parentPort } = require("node:worker_threads");
let data;
parentPort.on("message", ({ job, bytes, scale }) => {
  const started = performance.now();
  let sum = 0;
  if (job === "arithmetic") {
    for (let i = 0; i < (1 << 26) * scale; i++) sum = sum * 0.999999 + 1;
  } else {
    if (!data || data.byteLength !== bytes) data = new Float32Array(bytes / 4).fill(1);
    const reads = (1 << 24) * scale;
    for (let read = 0; read < reads; ) for (let i = 0; i < data.length && read < reads; i += 16, read++) sum += data[i];
  }
  parentPort.postMessage({ ms: performance.now() - started, sum });
});`;

const jobs = [
  { name: "arithmetic (registers)", job: "arithmetic", bytes: 0 },
  { name: "stream 256 KB per thread (L2)", job: "stream", bytes: 256 << 10 },
  { name: "stream 8 MB per thread (L3)", job: "stream", bytes: 8 << 20 },
  { name: "stream 128 MB per thread (memory)", job: "stream", bytes: 128 << 20 },
];

/** `threads` workers of its own running `job` at once per turn; a turn's measure is the slowest thread's ms, as at a barrier. */
function jobContender(threads: number, job: string, bytes: number, scale: number): Contender<number> {
  const workers = Array.from({ length: threads }, () => new Worker(jobCode, { eval: true }));
  const once = (w: Worker): Promise<number> =>
    new Promise((resolve, reject) => {
      w.once("error", reject);
      w.once("message", (m: { ms: number }) => {
        w.off("error", reject);
        resolve(m.ms);
      });
      w.postMessage({ job, bytes, scale });
    });
  return {
    name: `${threads} threads`,
    turn: async () => Math.max(...(await Promise.all(workers.map(once)))),
    close: async () => void (await Promise.all(workers.map((w) => w.terminate()))),
  };
}

export const machineSuite = defineSuite({
  name: "machine",
  script: "bench:machine",
  section: "machine",
  summary: "what the machine gives N threads: arithmetic, streaming reads, independent W1 trainings",
  options: {
    threads: { type: "string", default: () => `1,${availableParallelism()}`, help: "thread counts" },
    runs: { type: "string", default: "9", quick: "1", help: "measured rounds" },
  },
  async run(values, { quick, command, log }) {
    const threadCounts = [...new Set(arg.integers("threads", values.threads))];
    const runs = arg.integer("runs", values.runs);
    const scale = quick ? 1 / 64 : 1;
    const rows: string[][] = [];
    for (const { name, job, bytes } of jobs) {
      const measured = await takeTurns(
        threadCounts.map((t) => jobContender(t, job, quick ? Math.min(bytes, 1 << 20) : bytes, scale)),
        // allocate, and let every thread's JIT optimise the job (one round was not enough: a thread measured 2.5× faster than its twin)
        { rounds: runs, warm: (done) => done[0]!.length >= (quick ? 1 : 3) },
      );
      const base = median(measured[0]!.samples) / threadCounts[0]!;
      threadCounts.forEach((t, i) => {
        const ms = measured[i]!.samples;
        const speedup = (t * base) / median(ms);
        rows.push([name, String(t), spread(ms, 1), `${(Math.max(...ms) / Math.min(...ms)).toFixed(2)}×`, `${speedup.toFixed(2)}×`, `${((100 * speedup) / t).toFixed(0)}%`]);
        log(rows.at(-1)!.join("  "));
      });
    }

    // N independent 1-thread trainings at once, against one alone, taking turns epoch by epoch: what N
    // threads could give W1 if they never had to meet.
    const { warmUp } = pace(quick);
    const { train: data } = await digits(quick);
    const busiest = Math.max(...threadCounts);
    const trainerRows: string[][] = [];
    for (const miniBatchSize of [10, 100]) {
      const contestant = (shoal?: ReturnType<typeof independentTrainings>) => ({
        network: Network.create([784, 30, 10], { seed: 1 }), data, options: { miniBatchSize, eta: 3.0, seed: 1, threads: 1 }, ...(shoal && { shoal }),
      });
      const [one, many] = await epochsInTurn([contestant(), contestant(independentTrainings(busiest))], runs, warmUp);
      const rate = (run: typeof one): number[] => run!.samples.map((e) => e.examplesPerSecond);
      const speedup = median(rate(many)) / median(rate(one));
      trainerRows.push([String(miniBatchSize), spread(rate(one)), String(busiest), spread(rate(many)), `${speedup.toFixed(2)}×`, `${((100 * speedup) / busiest).toFixed(0)}%`]);
    }

    const markdown = `### Machine ceiling (\`${command}\`)\n\n${machine()}. Each of N threads runs the same job on its own data at once; ms is the slowest thread's time, median (min–max) of ${runs} rounds, the thread counts taking turns; "slowest ÷ fastest run" shows how much the same work varies from one run to the next on this machine; speedup is N-thread throughput over one thread's (medians).\n\n${table(["job", "threads", "ms", "slowest ÷ fastest run", "speedup", "efficiency"], rows)}`;
    const trainerTable = table(["batch", "1 training alone, examples/s", "trainings at once", "their examples/s summed", "speedup", "efficiency"], trainerRows);
    return {
      markdown: `${markdown}\n\nW1 (784-30-10, float32, 1 worker thread each), independent trainings at once against one alone, taking turns epoch by epoch past their JIT warm-up; examples/s median (min–max) over ${runs} measured epochs:\n\n${trainerTable}`,
    };
  },
});
