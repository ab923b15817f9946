/**
 * Scaling: training examples per second at 1 … N worker threads, for several networks, batch
 * sizes and dtypes, on the 8,000 bundled training digits (sigmoid, quadratic cost, η 3.0), measured
 * by measureScaling (../scaling.ts, shared with `shoal bench`): the machine is first kept busy for
 * 2.5 s (its clock ramps up under load); each run trains a fresh network at every thread count at
 * once, taking turns one epoch each, past their threads' JIT warm-up, then measures 3 rounds of
 * epochs; runs start 0.3 s apart. Reported:
 * the median of all measured epochs with min–max; the speedup against 1 thread as the median of
 * the rounds' ratios (paired, so a spell in which the machine is slow or fast hits both), and the
 * parallel efficiency from it, each over all rounds and over the quiet rounds (no CPU time stolen
 * by the hypervisor during either epoch); the shares of a worker's step time spent at the barriers
 * and on its rows (their gradient sums over the batch and the SGD step). Draws a plot too.
 */
import type { DType } from "../../core/network.js";
import { renderSvg } from "../results.js";
import { measureScaling } from "../scaling.js";
import { divideSplit, machine, median, quietCell, spread, stealCell, table } from "../stats.js";
import { arg, defineSuite, everyThreadCount } from "../suite.js";
import { digits, pace } from "../training.js";

export const scaling = defineSuite({
  name: "scaling",
  script: "bench",
  section: "scaling",
  summary: "examples/s at 1 … N threads for networks × batches × dtypes, taking turns; a plot beside the table",
  options: {
    threads: { type: "string", default: everyThreadCount, quick: "1,2", help: "thread counts" },
    runs: { type: "string", default: "5", quick: "1", help: "runs (each: a fresh network per thread count, 3 rounds measured)" },
    nets: { type: "string", default: "784-30-10,784-100-10,784-256-128-10", quick: "784-30-10", help: "networks" },
    batches: { type: "string", default: "10,100", quick: "10", help: "mini-batch sizes" },
    dtypes: { type: "string", default: "float32,float64", quick: "float32", help: "dtypes" },
  },
  async run(values, { quick, section, command, log }) {
    const threadCounts = arg.integers("threads", values.threads);
    const runs = arg.integer("runs", values.runs);
    const nets = arg.nets("nets", values.nets);
    const batches = arg.integers("batches", values.batches);
    const dtypes = arg.choices<DType>("dtypes", values.dtypes, ["float32", "float64"]);
    const { rounds } = pace(quick);
    const { train: data } = await digits(quick);
    const results = await measureScaling({ threads: threadCounts, runs, nets, batches, dtypes }, data, { quick });
    const rows: string[][] = [];
    const points: { config: string; threads: number; examplesPerSecond: number }[] = [];
    for (const { workload: { sizes, miniBatchSize, dtype }, measured } of results) {
      const config = `${sizes.join("-")} batch ${miniBatchSize} ${dtype}`;
      for (const { threads, samples, speedup, barrierShare: shares, steal } of measured) {
        const rate = median(samples.map((r) => r.examplesPerSecond));
        const efficiency = divideSplit(speedup, threads);
        const updateShare = samples.map(({ phases: p }) => (100 * p!.update) / (p!.compute + p!.synchronisation + p!.update));
        points.push({ config, threads, examplesPerSecond: rate });
        const row = [
          sizes.join("-"), String(miniBatchSize), dtype, String(threads), spread(samples.map((r) => r.examplesPerSecond)),
          quietCell(speedup, (x) => `${x.toFixed(2)}×`), quietCell(efficiency, (x) => `${(100 * x).toFixed(0)}%`),
          quietCell(shares, (x) => `${x.toFixed(1)}%`), `${median(updateShare).toFixed(1)}%`, stealCell(steal),
        ];
        rows.push(row);
        log(row.join("  "));
      }
    }

    const header = [
      "network", "batch", "dtype", "threads", "examples/s median (min–max)", "speedup vs 1 thread: all / quiet rounds", "efficiency: all / quiet", "barrier share: all / quiet epochs", "rows' sum + update share",
      "host steal, median (max)",
    ];
    const markdown = `### Scaling (\`${command}\`)\n\n${machine()}. Kernel: wasm SIMD for float32, TypeScript for float64 (the defaults). ${runs} runs; in each, one training per thread count, taking turns one epoch each, past their JIT warm-up (≥ 2 epochs and ≥ 1 s of training each), then ${rounds} rounds measured (runs 0.3 s apart, after a 2.5 s warm-up of the machine). examples/s: median (min–max) of the measured epochs. Speedup: median over the ${rounds * runs} rounds of the round's ratio to 1 thread, over all rounds / over the quiet rounds (in which the hypervisor took no CPU time from this machine during either epoch, by /proc/stat) and how many of the rounds were quiet (tables recorded before 2026-12-01 gave the ratio of medians of separate runs instead); efficiency: speedup ÷ threads. "barrier share": a worker's time waiting at the step's two barriers, of its step time (median over all epochs / over the epochs without steal); "rows' sum + update share": its time summing the batch's BP3/BP4 into its rows and applying the SGD step (one pass in the SIMD kernel), work a serial trainer does too. (Tables recorded before 2026-11-30 21:30 UTC showed "sync + update" instead, which left out the sums.) "host steal": CPU time the hypervisor took from this machine during the measured epochs (/proc/stat), as a share of all its cores' time; a 2-thread step waits whenever either thread is stolen from.\n\n${table(header, rows)}\n\n![examples/s vs threads](${section}.svg)`;
    const svg = await renderSvg({
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      title: `shoal: training examples/s vs worker threads (${machine()})`,
      width: 560,
      height: 340,
      data: { values: points },
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "threads", type: "quantitative", title: "worker threads", axis: { tickMinStep: 1, format: "d" } },
        y: { field: "examplesPerSecond", type: "quantitative", title: "training examples / s", scale: { type: "log" } },
        color: { field: "config", type: "nominal", title: "network, batch, dtype", scale: { scheme: "category20" }, legend: { labelLimit: 400 } },
      },
    });
    return { markdown, svg };
  },
});
