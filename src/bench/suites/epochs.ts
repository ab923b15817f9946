/**
 * Epoch time of Nielsen's setup (W1: 784-30-10, sigmoid, quadratic cost, batch 10, η 3.0, the
 * 8,000 bundled training digits) at several thread counts, measured in one run so the figures can
 * be compared as ratios. After a 2.5 s warm-up (the machine's clock ramps up under load), each run
 * trains a fresh network at every thread count at once, taking turns one epoch each (see
 * epochsInTurn), past their JIT warm-up, then measures 3 rounds; runs start 0.3 s apart. The
 * median epoch time is reported with min–max, the speedup as the median of the rounds' ratios to
 * 1 thread's epoch in the same round. For worker threads, also where a worker's time went (medians
 * over epochs): its examples' forward and backward passes per example, and per step its rows'
 * gradient sums and update, and its wait at the two barriers.
 */
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { Network, type DType } from "../../core/network.js";
import type { EpochReport } from "../../train/options.js";
import { train } from "../../train/train.js";
import { addSplit, divideSplit, emptySplit, machine, median, quietCell, spread, stealCell, table, type Split } from "../stats.js";
import { arg, defineSuite } from "../suite.js";
import { digits, epochsInTurn, pace, warmUpMachine } from "../training.js";
import { pairedRatios, turnValues } from "../turns.js";

export const epochs = defineSuite({
  name: "epochs",
  script: "bench:epochs",
  section: "epochs",
  summary: "W1 epoch time at several thread counts (0: in process), taking turns",
  options: {
    threads: { type: "string", default: () => `0,1,${availableParallelism()}`, quick: "0,1", help: "thread counts" },
    runs: { type: "string", default: "5", quick: "1", help: "runs (each: a fresh network per thread count, 3 rounds measured)" },
    dtype: { type: "string", default: "float32", help: "float32 or float64" },
  },
  async run(values, { quick, command, log }) {
    const threadCounts = [...new Set(arg.integers("threads", values.threads, 0))];
    const runs = arg.integer("runs", values.runs);
    const [dtype] = arg.choices<DType>("dtype", values.dtype, ["float32", "float64"]);
    const { rounds, warmUp, machineMs, pauseMs } = pace(quick);
    const { train: data } = await digits(quick);
    const seconds = new Map<number, number[]>(threadCounts.map((t) => [t, []]));
    /** Per thread count and epoch: µs per example of a worker's passes, per step of its rows' work and of its barrier waits. */
    const phases = new Map<number, { example: Split; rows: Split; barriers: Split }>(
      threadCounts.map((t) => [t, { example: emptySplit(), rows: emptySplit(), barriers: emptySplit() }]),
    );
    const steps = Math.ceil(data.count / 10);
    const steals = new Map<number, number[]>(threadCounts.map((t) => [t, []]));
    const busiest = Math.max(...threadCounts);
    await warmUpMachine(() => train(Network.create([784, 30, 10], { seed: 1, dtype }), data, { epochs: 2, miniBatchSize: 10, eta: 3.0, seed: 1, threads: busiest }), machineMs);
    /** Every measured epoch of the busiest thread count: its time, the CPU time stolen during it, and a worker's phases. */
    const epochLog: { ms: number; stolenMs: number | undefined; example: number; barriers: number }[] = [];
    /** Per thread count: each measured round's 1-thread epoch time ÷ its own, in the same round (all rounds, quiet rounds). */
    const speedups = new Map<number, Split>(threadCounts.map((t) => [t, emptySplit()]));
    for (let run = 0; run < runs; run++) {
      await sleep(pauseMs);
      const contestants = threadCounts.map((threads) => ({
        network: Network.create([784, 30, 10], { seed: run + 1, dtype }), data, options: { miniBatchSize: 10, eta: 3.0, seed: run + 1, threads, parallelism: "examples" as const },
      }));
      const measured = await epochsInTurn(contestants, rounds, warmUp);
      const base = measured[threadCounts.indexOf(1)];
      measured.forEach((m, i) => {
        const threads = threadCounts[i]!;
        seconds.get(threads)!.push(...m.samples.map((e) => e.seconds));
        if (base) addSplit(speedups.get(threads)!, pairedRatios(m, base, (e) => e.seconds)); // 1 thread's time ÷ this one's
        if (threads > 0) {
          // a worker's passes per example it took, its rows' work and its barrier waits per step, in µs
          const example = (e: EpochReport): number => (1e6 * e.phases!.compute) / (data.count / threads);
          const rows = (e: EpochReport): number => (1e6 * e.phases!.update) / steps;
          const barriers = (e: EpochReport): number => (1e6 * e.phases!.synchronisation) / steps;
          const into = phases.get(threads)!;
          addSplit(into.example, turnValues(m, example));
          addSplit(into.rows, turnValues(m, rows));
          addSplit(into.barriers, turnValues(m, barriers));
          if (threads === busiest) {
            m.samples.forEach((e, r) => {
              const stolen = m.stolen[r];
              epochLog.push({ ms: 1000 * e.seconds, stolenMs: stolen === undefined ? undefined : 1000 * stolen, example: example(e), barriers: barriers(e) });
            });
          }
        }
        if (m.steal !== undefined) steals.get(threads)!.push(100 * m.steal);
      });
      log(`run ${run + 1} of ${runs} done`);
    }

    const rows = threadCounts.map((threads) => {
      const xs = seconds.get(threads)!;
      const speedup = speedups.get(threads)!;
      const efficiency = divideSplit(speedup, threads);
      return [
        threads === 0 ? "0 (in process, TypeScript kernel)" : String(threads),
        spread(xs, 3),
        Math.round(data.count / median(xs)).toLocaleString("en-US"),
        threads > 0 ? quietCell(speedup, (x) => `${x.toFixed(2)}×`) : "–",
        threads > 0 ? quietCell(efficiency, (x) => `${(100 * x).toFixed(0)}%`) : "–",
        ...(["example", "rows", "barriers"] as const).map((key) => quietCell(phases.get(threads)![key], (x) => x.toFixed(1))),
        stealCell(steals.get(threads)!),
      ];
    });
    const markdown = `### Epoch time, W1 (\`${command}\`)\n\n${machine()}. 784-30-10, batch 10, η 3.0, ${data.count.toLocaleString("en-US")} digits, ${dtype}; ${runs} runs; in each, one training per thread count, taking turns one epoch each, past their JIT warm-up (≥ 2 epochs and ≥ 1 s each), then ${rounds} rounds measured (runs 0.3 s apart, after a 2.5 s warm-up of the machine): median (min–max). Speedup: median over the rounds of 1 thread's epoch time ÷ this one's in the same round, over all rounds / over the quiet rounds (in which the hypervisor took no CPU time from this machine during either epoch, by /proc/stat), and how many were quiet. A worker's time (mean over workers; median over all epochs / over the epochs without steal): its examples' forward pass, BP1 and BP2, in µs per example it took; its rows' BP3/BP4 sums and SGD step, and its waits at the step's two barriers, in µs per step. Host steal: CPU time the hypervisor took from this machine during the measured epochs, as a share of all its cores' time.\n\n${table(["threads", "epoch seconds", "examples/s", "speedup vs 1 thread", "efficiency", "µs per example: passes", "µs per step: rows", "µs per step: barriers", "host steal, median (max)"], rows)}`;
    // Slowest first: on a shared machine, the slow epochs show where the time went.
    const slowest = epochLog
      .sort((a, b) => b.ms - a.ms)
      .map((e) => `${e.ms.toFixed(0)} ms (stolen ${e.stolenMs === undefined ? "?" : e.stolenMs.toFixed(0)} ms; passes ${e.example.toFixed(1)} µs/example, barriers ${e.barriers.toFixed(1)} µs/step)`);
    const epochsMarkdown = slowest.length
      ? `\n\nEvery measured epoch of ${busiest} threads, slowest first: its time, the CPU time the hypervisor took from this machine during it (all cores; /proc/stat counts 10 ms ticks), and a worker's passes and barrier waits: ${slowest.join("; ")}.`
      : "";
    return { markdown: markdown + epochsMarkdown };
  },
});
