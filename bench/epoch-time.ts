/**
 * Epoch time of Nielsen's setup (W1: 784-30-10, sigmoid, quadratic cost, batch 10, η 3.0, the
 * 8,000 bundled training digits) at several thread counts, measured in one run so the figures can
 * be compared as ratios. Each run trains a fresh network for 2 epochs and keeps the 2nd (the 1st
 * includes JIT warm-up); runs of the thread counts are interleaved; the median is reported.
 *
 *   npm run bench:epochs -- [--threads 0,1,2] [--runs 5] [--dtype float32]
 */
import { availableParallelism, cpus } from "node:os";
import { parseArgs } from "node:util";
import { loadMnistDigits, Network, train, type DType } from "../src/index.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: `0,1,${availableParallelism()}` },
    runs: { type: "string", default: "5" },
    dtype: { type: "string", default: "float32" },
  },
});
const threadCounts = [...new Set(values.threads.split(",").map(Number))];
const runs = Number(values.runs);
const dtype = values.dtype as DType;

const { train: data } = await loadMnistDigits();
const seconds = new Map<number, number[]>(threadCounts.map((t) => [t, []]));
for (let run = 0; run < runs; run++) {
  for (const threads of threadCounts) {
    const net = Network.create([784, 30, 10], { seed: run + 1, dtype });
    const result = await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 3.0, seed: run + 1, threads });
    seconds.get(threads)!.push(result.epochs[1]!.seconds);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const base = threadCounts.includes(1) ? median(seconds.get(1)!) : undefined;
console.log(`W1 epoch time, ${dtype}, median of ${runs} runs (min–max); ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}`);
console.log("| threads | epoch seconds | examples/s | speedup vs 1 thread | efficiency |");
console.log("| --- | --- | --- | --- | --- |");
for (const threads of threadCounts) {
  const xs = seconds.get(threads)!;
  const m = median(xs);
  const speedup = base !== undefined && threads > 0 ? base / m : undefined;
  console.log(
    `| ${threads === 0 ? "0 (in-process)" : threads} | ${m.toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}) | ` +
      `${Math.round(data.count / m)} | ${speedup ? speedup.toFixed(2) + "×" : "–"} | ${speedup ? ((speedup / threads) * 100).toFixed(0) + "%" : "–"} |`,
  );
}
