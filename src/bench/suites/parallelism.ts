/**
 * The two ways threads share a mini-batch (issue 17 §1), beside one thread: for each network and
 * batch size, a training per contender — the example split on 1 thread and on N, the neuron split
 * on N — takes turns epoch by epoch past its JIT warm-up, then `rounds` rounds are measured, over
 * `runs` runs from fresh networks. Reported: examples/s (median, min–max) and each contender ÷ the
 * example split on 1 thread, as the median of the rounds' paired ratios. The neuron split takes
 * one hidden layer; it gives the same bits as the example split. float64: the example split runs
 * the float64 wasm kernel and the neuron split the TypeScript kernel's (the same bits, the pair
 * `auto` chooses between), and the TypeScript kernel's example split on 1 thread runs beside them.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Network } from "../../core/network.js";
import type { KernelName, Parallelism } from "../../parallel/shared-state.js";
import { machine, median, spread, table, times } from "../stats.js";
import { arg, defineSuite } from "../suite.js";
import { digits, epochsInTurn, pace } from "../training.js";
import { pairedRatios } from "../turns.js";

export const parallelism = defineSuite({
  name: "parallelism",
  script: "bench:parallelism",
  section: "parallelism",
  summary: "the example split on 1 and N threads against the neuron split on N, networks × batch sizes, taking turns",
  options: {
    threads: { type: "string", default: "2", help: "N: the thread count of the split contenders" },
    nets: { type: "string", default: "784-30-10,784-100-10", quick: "784-30-10", help: "networks (one hidden layer)" },
    batches: { type: "string", default: "10,100", quick: "10", help: "mini-batch sizes" },
    runs: { type: "string", default: "3", quick: "1", help: "runs (each: fresh networks, `rounds` rounds measured)" },
    dtype: { type: "string", default: "float32", help: "float32 (the wasm kernel) or float64 (examples: the float64 wasm kernel; neurons: the TypeScript kernel)" },
  },
  sectionFor: (values) => (values.dtype === "float64" ? "parallelism-float64" : "parallelism"),
  async run(values, { quick, command, log }) {
    const threads = arg.integer("threads", values.threads);
    const nets = arg.nets("nets", values.nets);
    const batches = arg.integers("batches", values.batches);
    const runs = arg.integer("runs", values.runs);
    const [dtype] = arg.choices("dtype", values.dtype, ["float32", "float64"] as const);
    const { rounds, warmUp, pauseMs } = pace(quick);
    const { train: data } = await digits(quick);
    const contenders: { name: string; threads: number; parallelism: Parallelism; kernel?: KernelName }[] = [
      { name: "examples, 1 thread", threads: 1, parallelism: "examples" },
      { name: `examples, ${threads} threads`, threads, parallelism: "examples" },
      { name: `neurons, ${threads} threads`, threads, parallelism: "neurons" },
      ...(dtype === "float64" ? [{ name: "examples, 1 thread, TypeScript kernel", threads: 1, parallelism: "examples" as const, kernel: "js" as const }] : []),
    ];
    const rows: string[][] = [];
    for (const sizes of nets) {
      for (const miniBatchSize of batches) {
        const rates = contenders.map(() => [] as number[]);
        const ratios = contenders.map(() => [] as number[]);
        for (let run = 0; run < runs; run++) {
          await sleep(pauseMs);
          const measured = await epochsInTurn(
            contenders.map((c) => ({ network: Network.create(sizes, { seed: run + 1, dtype }), data, options: { miniBatchSize, eta: 3, seed: run + 1, threads: c.threads, parallelism: c.parallelism, ...(c.kernel && { kernel: c.kernel }) } })),
            rounds,
            warmUp,
          );
          measured.forEach((m, i) => {
            // wall-clock, as the caller sees an epoch (the coordinator's part included)
            rates[i]!.push(...m.samples.map((e) => data.count / e.seconds));
            ratios[i]!.push(...pairedRatios(m, measured[0]!, (e) => e.seconds).all); // its time ÷ this one's
          });
          log(`${sizes.join("-")} batch ${miniBatchSize}: run ${run + 1} of ${runs} done`);
        }
        rows.push([sizes.join("-"), String(miniBatchSize), ...contenders.flatMap((_, i) => [spread(rates[i]!), i === 0 ? "1.00×" : times(median(ratios[i]!))])]);
      }
    }
    const header = ["network", "batch", ...contenders.flatMap((c) => [`${c.name}: examples/s`, "÷ examples, 1 thread"])];
    return {
      markdown:
        `### The example split against the neuron split (\`${command}\`)\n\n${machine()}.\n\n` +
        `${data.count.toLocaleString("en-US")} digits, ${dtype === "float32" ? "float32 wasm" : "float64: the example split on the float64 wasm kernel, the neuron split on the TypeScript kernel's (the same bits)"}, sigmoid, quadratic cost, η 3.0. Per network and batch size, ${runs} runs from fresh networks; in each, the three trainings take turns one epoch each past their JIT warm-up, then ${rounds} rounds are measured. ` +
        `examples/s: median (min–max) of every measured epoch, wall-clock (the epoch's examples over its seconds, the coordinator included); "÷ examples, 1 thread": median of the rounds' ratios to the 1-thread example split's epoch in the same round (above 1: faster). The neuron split gives the example split's bits (test/neuron-split.test.ts).\n\n` +
        table(header, rows),
    };
  },
});
