/**
 * One contender's training run, in its own process (so no library's JIT state, wasm instance or
 * threads affect another's). Started by run.ts with `fork`; reports over IPC. Run by hand it prints
 * the outcome as JSON:
 *
 *   npx tsx bench/peers/child.ts --contender convnetjs --net 784-30-10 --epochs 2 --seed 1
 */
import { parseArgs } from "node:util";
import type { TrainOutcome } from "./common.js";
import { contenders } from "./contenders.js";

export type ChildMessage =
  | ({ ok: true } & TrainOutcome)
  | { ok: false; error: string };

const { values } = parseArgs({
  options: {
    contender: { type: "string" },
    net: { type: "string", default: "784-30-10" },
    epochs: { type: "string", default: "2" },
    seed: { type: "string", default: "1" },
  },
});

async function main(): Promise<ChildMessage> {
  const factory = contenders[values.contender ?? ""];
  if (!factory) throw new Error(`unknown contender ${values.contender}; known: ${Object.keys(contenders).join(", ")}`);
  const sizes = values.net.split("-").map(Number);
  const contender = await factory({ sizes, seed: Number(values.seed) });
  const outcome = await contender.train(Number(values.epochs));
  return { ok: true, ...outcome };
}

let message: ChildMessage;
try {
  message = await main();
} catch (error) {
  message = { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}
if (process.send) {
  process.send(message, () => process.exit(0));
} else {
  console.log(JSON.stringify(message, null, 2));
  process.exit(message.ok ? 0 : 1);
}
