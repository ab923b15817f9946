/**
 * Prints a hash of the parameters (and the costs and accuracy) after 2 epochs of 784-30-10 on the
 * digits, for float32 and float64, in process and on 1–2 threads: run it in two checkouts and diff
 * the outputs to show that a change left the results bit-identical.
 *
 *   npx tsx bench/probes/bits.ts [checkout (default: this one)]
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { pathToFileURL } from "node:url";

type Lib = typeof import("../../src/index.js");
const dir = path.resolve(process.argv[2] ?? new URL("../..", import.meta.url).pathname);
const lib = (await import(pathToFileURL(path.join(dir, "src/index.ts")).href)) as Lib;
const { train: data, test } = await lib.loadMnistDigits();
for (const [dtype, threads] of [["float32", 1], ["float32", 2], ["float64", 2], ["float32", 0], ["float64", 0]] as const) {
  const net = lib.Network.create([784, 30, 10], { seed: 1, dtype, init: "scaled-gaussian" });
  const examples = lib.sliceDataset(data, 0, threads === 0 ? 1000 : 8000);
  const result = await lib.train(net, examples, { epochs: 2, miniBatchSize: 10, eta: 3, seed: 7, threads, testData: test });
  const hash = createHash("sha256").update(Buffer.from(net.params.buffer)).digest("hex").slice(0, 16);
  console.log(`${dtype} threads ${threads}: ${hash} cost ${result.epochs.map((e) => e.cost).join(",")} accuracy ${result.epochs.at(-1)?.accuracy}`);
}
await (lib as Partial<Pick<Lib, "closeDefaultPool">>).closeDefaultPool?.();
