/**
 * What a default run does with a workload of `shoal bench` on this machine: the strategy
 * `parallelism: "auto"` takes at each thread count, and the count and strategy of `threads: "auto"`.
 * Asked of threadChoice (src/train/options.ts), which a training asks too, so the answer is the
 * trainer's, from its cost model (auto-threads.ts), not a copy of it.
 */
import type { Dataset } from "../core/dataset.js";
import type { DType } from "../core/network.js";
import type { Parallelism } from "../parallel/shared-state.js";
import type { ThreadChoice } from "../train/auto-threads.js";
import { threadChoice } from "../train/options.js";
import type { ScalingWorkload } from "./scaling.js";
import { table } from "./stats.js";

/** A workload's default choices. */
export interface AutoChoice {
  readonly network: readonly number[];
  readonly batch: number;
  readonly dtype: DType;
  /** At each thread count 2 … the most reported: the strategy `parallelism: "auto"` takes on that many threads. */
  readonly parallelism: readonly { readonly threads: number; readonly parallelism: Parallelism }[];
  /** A run that leaves threads and parallelism to shoal on this machine: its thread count, strategy and reason. */
  readonly threadsAuto: ThreadChoice;
}

/** The default choices for each workload (the network.py layers `shoal bench` trains), at 2 … `most` threads. */
export function autoChoices(workloads: readonly ScalingWorkload[], data: Dataset, most: number): AutoChoice[] {
  return workloads.map(({ sizes, miniBatchSize, dtype }) => {
    const shape = { sizes, dtype, data };
    const counts = Array.from({ length: Math.max(0, most - 1) }, (_, i) => i + 2);
    return {
      network: [...sizes],
      batch: miniBatchSize,
      dtype,
      parallelism: counts.map((threads) => ({ threads, parallelism: threadChoice({ threads, miniBatchSize, parallelism: "auto" }, shape).parallelism })),
      threadsAuto: threadChoice({ threads: "auto", miniBatchSize, parallelism: "auto" }, shape),
    };
  });
}

/** `neurons at 2–8 threads`, `examples at 2, neurons at 3–8 threads`: the counts, grouped where the strategy stays. */
export function strategyRanges(choices: AutoChoice["parallelism"]): string {
  if (!choices.length) return "–";
  const groups: { parallelism: Parallelism; from: number; to: number }[] = [];
  for (const { threads, parallelism } of choices) {
    const last = groups.at(-1);
    if (last && last.parallelism === parallelism && last.to === threads - 1) last.to = threads;
    else groups.push({ parallelism, from: threads, to: threads });
  }
  return `${groups.map((g) => `${g.parallelism} at ${g.from === g.to ? g.from : `${g.from}–${g.to}`}`).join(", ")} threads`;
}

/** A markdown table of the choices: per workload, parallelism "auto" by thread count, and a default run here. */
export function autoTable(choices: readonly AutoChoice[]): string {
  const header = ["network", "batch", "dtype", `parallelism "auto" takes`, `a default run here (threads "auto")`, "why (the cost model)"];
  return table(header, choices.map(({ network, batch, dtype, parallelism, threadsAuto: auto }) => [
    network.join("-"), String(batch), dtype, strategyRanges(parallelism), `${auto.threads} thread${auto.threads === 1 ? "" : "s"}, ${auto.parallelism}`, auto.reason,
  ]));
}
