/**
 * Part auto of the start suite: `threads: "auto"` against every fixed thread count, on a grid of
 * networks × batch sizes. At each point the trainings take turns epoch by epoch (epochsInTurn),
 * and "auto ÷ best fixed" is the median over the rounds of auto's examples/s ÷ the best fixed
 * count's (the one with the highest median) in the same round. What auto chose is read from a
 * short run's TrainResult.threads.
 */
import type { Dataset } from "../../../core/dataset.js";
import { Network } from "../../../core/network.js";
import { train } from "../../../train/train.js";
import { median, quietCell, spread, table, times } from "../../stats.js";
import { epochsInTurn, type Contestant, type WarmUp } from "../../training.js";
import { pairedRatios } from "../../turns.js";

export interface AutoSettings {
  readonly nets: readonly number[][];
  readonly batches: readonly number[];
  readonly threadCounts: readonly number[];
  readonly rounds: number;
  readonly warmUp: WarmUp;
  readonly data: Dataset;
  readonly log: (line: string) => void;
}

export async function autoPart({ nets, batches, threadCounts, rounds, warmUp, data, log }: AutoSettings): Promise<string> {
  const rows: string[][] = [];
  for (const sizes of nets) {
    for (const miniBatchSize of batches) {
      const options = { miniBatchSize, eta: 3.0, seed: 1 } as const;
      const chosen = (await train(Network.create(sizes, { seed: 1 }), data, { ...options, epochs: 1, threads: "auto" })).threads;
      const contestant = (threads: number | "auto"): Contestant => ({ network: Network.create(sizes, { seed: 1 }), data, options: { ...options, threads } });
      const [auto, ...fixed] = await epochsInTurn([contestant("auto"), ...threadCounts.map(contestant)], rounds, warmUp);
      const rate = (e: { examplesPerSecond: number }): number => e.examplesPerSecond;
      const medians = fixed.map((f) => median(f.samples.map(rate)));
      const best = medians.indexOf(Math.max(...medians));
      rows.push([
        sizes.join("-"), String(miniBatchSize), String(chosen), spread(auto!.samples.map(rate)), `${threadCounts[best]}: ${spread(fixed[best]!.samples.map(rate))}`,
        quietCell(pairedRatios(fixed[best]!, auto!, rate), times), threadCounts.map((t, i) => `${t}: ${Math.round(medians[i]!).toLocaleString("en-US")}`).join(", "),
      ]);
      log(rows.at(-1)!.join("  "));
    }
  }
  return (
    `#### \`threads: "auto"\` against every fixed count\n\n${data.count.toLocaleString("en-US")} digits, float32, η 3.0. At each point, one training with threads "auto" and one per fixed count take turns ` +
    `one epoch each past their JIT warm-up, then ${rounds} rounds are measured: examples/s median (min–max). "auto chose": TrainResult.threads of a one-epoch run. ` +
    `"auto ÷ best fixed": median of the rounds' ratios to the fixed count with the highest median, over all rounds / over the quiet ones (no CPU time stolen).\n\n` +
    table(["network", "batch", "auto chose", "auto: examples/s", "best fixed: threads: examples/s", "auto ÷ best fixed", "every fixed count: median examples/s"], rows)
  );
}
