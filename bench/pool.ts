/**
 * What a warm pool saves: one W1 epoch (784-30-10, batch 10, η 3.0, the 8,000 bundled digits) by
 * train() with threads of its own (started and ended by the call: "cold") against the same call on
 * a pool whose threads earlier runs started ("warm"), and a steady epoch of a long run on the pool.
 * Wall-clock time of the whole train() call, as a caller sees it. Cold and warm take turns, round by
 * round (who goes first alternates), in one process.
 *
 *   npm run bench:pool [-- --threads 1,2] [--rounds 10] [--no-record]
 */
import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { createPool, loadMnistDigits, Network, train } from "../src/index.js";
import { machine, median, recordSection, spread, table, warmUp } from "./lib.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: Array.from({ length: availableParallelism() }, (_, i) => i + 1).join(",") },
    rounds: { type: "string", default: "10" },
    record: { type: "boolean", default: true },
  },
  allowNegative: true,
});
const threadCounts = values.threads.split(",").map(Number);
const rounds = Number(values.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);

const { train: data } = await loadMnistDigits();
const options = { miniBatchSize: 10, eta: 3.0, seed: 1 } as const;
await warmUp(() => train(Network.create([784, 30, 10], { seed: 1 }), data, { ...options, epochs: 2, threads: Math.max(...threadCounts) }));

const rows: string[][] = [];
for (const threads of threadCounts) {
  const pool = createPool({ threads });
  const steady = (await train(Network.create([784, 30, 10], { seed: 1 }), data, { ...options, epochs: 10, pool })).epochs.slice(2).map((e) => 1000 * e.seconds);
  const timed = async (how: "cold" | "warm"): Promise<number> => {
    const started = performance.now();
    await train(Network.create([784, 30, 10], { seed: 1 }), data, { ...options, epochs: 1, ...(how === "warm" ? { pool } : { threads }) });
    return performance.now() - started;
  };
  const cold: number[] = [];
  const warm: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const how of r % 2 === 0 ? (["cold", "warm"] as const) : (["warm", "cold"] as const)) (how === "cold" ? cold : warm).push(await timed(how));
  }
  await pool.close();
  rows.push([String(threads), spread(cold, 1), spread(warm, 1), spread(steady, 1), `${(median(warm) / median(steady)).toFixed(2)}×`, `${(median(cold) / median(warm)).toFixed(2)}×`]);
  console.log(rows.at(-1)!.join("  "));
}

const command = `npm run bench:pool -- --threads ${threadCounts.join(",")} --rounds ${rounds}`;
const markdown = `### A warm pool (\`${command}\`)

${machine()}; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} at the end. W1 (784-30-10, batch 10, η 3.0, 8,000 digits, float32, wasm kernel). One-epoch \`train()\` calls, wall-clock ms from call to return, median (min–max) of ${rounds} each, cold and warm taking turns: "cold" starts and ends its own threads, "warm" runs on a pool that earlier runs started. "steady": epochs 3–10 of a 10-epoch run on the pool.

${table(["threads", "cold train(): ms", "warm train(): ms", "steady epoch: ms", "warm ÷ steady", "cold ÷ warm"], rows)}`;
console.log(`\n${markdown}`);
if (values.record) await recordSection("pool", markdown);
