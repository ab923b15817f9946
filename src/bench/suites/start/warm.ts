/**
 * Part warm of the start suite: what a warm pool saves. One W1 epoch by train() on threads it
 * starts itself (a fresh pool, closed after the call: "cold"), on a pool that earlier runs started
 * ("warm"), and by train() without a pool (whatever train() does by default: its own threads, or a
 * process-wide pool), against a steady epoch of a long run. Wall-clock time of the whole call, as
 * a caller sees it; the four take turns round by round, so each ratio is paired.
 */
import type { Dataset } from "../../../core/dataset.js";
import { Network } from "../../../core/network.js";
import { createPool } from "../../../parallel/pool.js";
import { train } from "../../../train/train.js";
import { median, spread, table, times } from "../../stats.js";
import { trainingContender } from "../../training.js";
import { pairedRatios, takeTurns, timed, unmeasuredRounds, type Contender } from "../../turns.js";

export interface WarmSettings {
  readonly threadCounts: readonly number[];
  readonly rounds: number;
  /** Unmeasured rounds first (the long run's JIT warm-up, the warm pool's first, cold, run). */
  readonly warmRounds: number;
  readonly data: Dataset;
  readonly log: (line: string) => void;
}

const w1 = (): Network => Network.create([784, 30, 10], { seed: 1 });
const options = { miniBatchSize: 10, eta: 3.0, seed: 1 } as const;

export async function warmPart({ threadCounts, rounds, warmRounds, data, log }: WarmSettings): Promise<string> {
  const rows: string[][] = [];
  for (const threads of threadCounts) {
    const pool = createPool({ threads });
    const contenders: Contender<number>[] = [
      {
        name: "cold",
        turn: async () => {
          const own = createPool({ threads });
          try {
            return await timed(() => train(w1(), data, { ...options, epochs: 1, pool: own }));
          } finally {
            await own.close(); // not timed: a caller that is done need not wait for it
          }
        },
      },
      { name: "warm", turn: () => timed(() => train(w1(), data, { ...options, epochs: 1, pool })), close: () => pool.close() },
      { name: "default", turn: () => timed(() => train(w1(), data, { ...options, epochs: 1, threads })) },
    ];
    const long = trainingContender({ network: w1(), data, options: { ...options, threads } }, "steady");
    contenders.push({ name: "steady", turn: async () => 1000 * (await long.turn()).seconds, close: () => long.close!() });
    const [cold, warm, byDefault, steady] = await takeTurns(contenders, { rounds, ...unmeasuredRounds(warmRounds) });
    const ratio = (of: typeof cold, to: typeof cold): string => times(median(pairedRatios(to!, of!, (ms) => ms).all));
    rows.push([
      String(threads), ...[cold, warm, byDefault, steady].map((m) => spread(m!.samples, 1)), ratio(warm, steady), ratio(byDefault, steady), ratio(cold, warm),
    ]);
    log(rows.at(-1)!.join("  "));
  }
  return (
    `#### Cold and warm \`train()\`\n\nW1 (784-30-10, batch 10, η 3.0, ${data.count.toLocaleString("en-US")} digits, float32, wasm kernel), one-epoch \`train()\` calls, wall-clock ms from call to return, ` +
    `median (min–max) of ${rounds} rounds after ${warmRounds} unmeasured, taking turns: "cold" on a pool of its own started for the call (closed after it, untimed), "warm" on a pool ` +
    `that earlier calls started, "default" without a pool (what \`train()\` does by itself), "steady" one epoch of a long run. Ratios: median of the rounds' ratios.\n\n` +
    table(["threads", "cold: ms", "warm: ms", "default: ms", "steady epoch: ms", "warm ÷ steady", "default ÷ steady", "cold ÷ warm"], rows)
  );
}
