/**
 * Soak: does training leak memory, threads or handles over many runs and over a long one?
 *
 *   1. `--cycles` (200) consecutive create-train-destroy cycles: a fresh 2-8-2 network, 2 epochs on
 *      64 XOR examples, threads 2 (so each cycle starts and destroys a pool of 2 worker threads).
 *   2. One `--epochs` (100) epoch run: 784-30-10 on the first 1,000 bundled training digits
 *      (batch 10, η 3.0, threads 2), tested on 200 test digits after every epoch.
 *
 * Memory (RSS, V8 heap used, array buffers) is sampled after a full GC, every 10% of each phase
 * once past its warm-up (the first 10%); OS threads (/proc/self/status "Threads:") and
 * process.getActiveResourcesInfo() are taken before and after. Verdict: memory growth from the
 * first sample after warm-up to the last < 10% (RSS and heap), no thread and no handle left over.
 *
 *   npm run bench:soak -- [--cycles 200] [--epochs 100] [--no-record]
 *
 * Writes its tables into bench/RESULTS.md (section "soak"). Exits with code 1 if the verdict fails.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import v8 from "node:v8";
import vm from "node:vm";
import { createDataset, loadMnistDigits, Network, sliceDataset, train } from "../src/index.js";
import { machine, recordSection, table } from "./lib.js";

const { values } = parseArgs({
  options: {
    cycles: { type: "string", default: "200" },
    epochs: { type: "string", default: "100" },
    record: { type: "boolean", default: true },
  },
  allowNegative: true,
});
const cycles = Number(values.cycles);
const epochs = Number(values.epochs);
const command = `npm run bench:soak -- --cycles ${cycles} --epochs ${epochs}`;

// A full GC before each sample, so the figures are what is retained, not what awaits collection.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const MiB = 2 ** 20;
const osThreads = (): number => Number(/Threads:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
/** Active resources by type, e.g. { TTYWrap: 2, Timeout: 1 }. */
const resources = (): Record<string, number> =>
  process.getActiveResourcesInfo().reduce<Record<string, number>>((n, r) => ({ ...n, [r]: (n[r] ?? 0) + 1 }), {});
const showResources = (r: Record<string, number>): string =>
  Object.entries(r).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ×${v}`).join(", ") || "none";

interface Sample {
  point: string;
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  threads: number;
  seconds: number;
}
const started = performance.now();
function sample(point: string): Sample {
  gc();
  const m = process.memoryUsage();
  const s = { point, rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, threads: osThreads(), seconds: (performance.now() - started) / 1000 };
  console.log(`${point.padEnd(18)} rss ${(s.rss / MiB).toFixed(1)} MiB  heap ${(s.heapUsed / MiB).toFixed(1)} MiB  arrayBuffers ${(s.arrayBuffers / MiB).toFixed(1)} MiB  threads ${s.threads}  ${s.seconds.toFixed(0)} s`);
  return s;
}
const growth = (first: number, last: number): number => (100 * (last - first)) / first;
const pct = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(1)}%`;
const row = (phase: string, s: Sample): string[] => [
  phase, s.point, (s.rss / MiB).toFixed(1), (s.heapUsed / MiB).toFixed(1), (s.arrayBuffers / MiB).toFixed(1), String(s.threads), s.seconds.toFixed(0),
];

console.log(`${command}\n${machine()}; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} at the start\n`);

const xor = createDataset({
  inputs: Array.from({ length: 64 }, (_, i) => [i % 2, (i >> 1) % 2]),
  labels: Array.from({ length: 64 }, (_, i) => (i % 2) ^ ((i >> 1) % 2)),
  classes: 2,
});
const digits = await loadMnistDigits();
const trainSet = sliceDataset(digits.train, 0, 1000);
const testSet = sliceDataset(digits.test, 0, 200);

/** Lets short-lived requests (a file read's close, a timer) finish, so that only lasting handles are counted. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100));

// Baseline after the data is loaded and a first fs call was made (libuv's own threads already exist).
await settle();
const threadsBefore = osThreads();
const resourcesBefore = resources();
const initial = sample("start");

// 1. create-train-destroy cycles
const every = Math.max(1, Math.round(cycles / 10));
const cycleSamples: Sample[] = [];
for (let c = 1; c <= cycles; c++) {
  const net = Network.create([2, 8, 2], { seed: c });
  await train(net, xor, { epochs: 2, miniBatchSize: 8, eta: 1, seed: c, threads: 2 });
  if (c % every === 0) cycleSamples.push(sample(`cycle ${c}`));
}

// 2. one long run
const longSamples: Sample[] = [];
const epochEvery = Math.max(1, Math.round(epochs / 10));
const net = Network.create([784, 30, 10], { seed: 1 });
let lastAccuracy = 0;
const run = await train(net, trainSet, {
  epochs, miniBatchSize: 10, eta: 3.0, seed: 1, threads: 2, testData: testSet,
  onEpoch: (r) => {
    lastAccuracy = r.accuracy ?? 0;
    if (r.epoch % epochEvery === 0) longSamples.push(sample(`epoch ${r.epoch}`));
  },
});
const longSeconds = run.epochs.reduce((t, r) => t + r.seconds, 0);

await settle();
const final = sample("end");
const threadsAfter = osThreads();
const resourcesAfter = resources();

// Growth from the first sample after warm-up (the first 10% of the phase) to the last one.
function phaseGrowth(samples: Sample[]): { rss: number; heap: number; peakRss: number } {
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  return {
    rss: growth(first.rss, last.rss),
    heap: growth(first.heapUsed, last.heapUsed),
    peakRss: growth(first.rss, Math.max(...samples.map((s) => s.rss))),
  };
}
const cycleGrowth = phaseGrowth(cycleSamples);
const longGrowth = phaseGrowth(longSamples);
const leakedThreads = threadsAfter - threadsBefore;
const sameResources = showResources(resourcesBefore) === showResources(resourcesAfter);
const pass = [cycleGrowth.rss, cycleGrowth.heap, longGrowth.rss, longGrowth.heap].every((g) => g < 10) && leakedThreads === 0 && sameResources;

const samplesTable = table(
  ["phase", "point", "RSS MiB", "heap used MiB", "array buffers MiB", "OS threads", "elapsed s"],
  [row("", initial), ...cycleSamples.map((s) => row("cycles", s)), ...longSamples.map((s) => row(`${epochs}-epoch run`, s)), row("", final)],
);
const summary = table(
  ["", "create-train-destroy cycles", `${epochs}-epoch run`],
  [
    ["what", `${cycles} × (new 2-8-2, 2 epochs on 64 XOR examples, threads 2)`, `784-30-10, 1,000 digits, batch 10, η 3, threads 2; test accuracy ${(lastAccuracy * 100).toFixed(1)}% after ${epochs} epochs (${longSeconds.toFixed(0)} s)`],
    ["RSS growth after warm-up (peak)", `${pct(cycleGrowth.rss)} (${pct(cycleGrowth.peakRss)})`, `${pct(longGrowth.rss)} (${pct(longGrowth.peakRss)})`],
    ["heap growth after warm-up", pct(cycleGrowth.heap), pct(longGrowth.heap)],
  ],
);
const handles = table(
  ["", "before", "after"],
  [
    ["OS threads", String(threadsBefore), String(threadsAfter)],
    ["active resources", showResources(resourcesBefore), showResources(resourcesAfter)],
  ],
);
const verdict =
  `**Verdict: ${pass ? "pass" : "FAIL"}** — memory growth after warm-up ${[cycleGrowth.rss, cycleGrowth.heap, longGrowth.rss, longGrowth.heap].every((g) => g < 10) ? "< 10%" : "≥ 10%"} ` +
  `(RSS ${pct(cycleGrowth.rss)} / ${pct(longGrowth.rss)}, heap ${pct(cycleGrowth.heap)} / ${pct(longGrowth.heap)}), ` +
  `${leakedThreads} leaked threads, active resources ${sameResources ? "unchanged" : "changed"}.`;
const markdown =
  `### Soak (\`${command}\`)\n\n${machine()}; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} at the end ` +
  `(the machine was shared: times are not speed figures). Memory sampled after a full GC; warm-up = the first 10% of each phase.\n\n` +
  `${summary}\n\n${handles}\n\n${verdict}\n\n<details><summary>all samples</summary>\n\n${samplesTable}\n\n</details>`;
console.log(`\n${markdown}`);
if (values.record) {
  await recordSection("soak", markdown);
  console.log("recorded in bench/RESULTS.md");
}
if (!pass) process.exitCode = 1;
