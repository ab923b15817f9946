/**
 * What the weight initialisation does to `shoal train`'s default run (784-30-10, sigmoid, quadratic
 * cost, η 3, batch 10, 30 epochs on the bundled 8,000 / 2,000 digits), seed by seed: the final test
 * accuracy with N(0,1) weights (network.py, `--weight-init gaussian`) and N(0, 1/n_in) weights
 * (network2.py, `scaled-gaussian`, the default). The seed draws the weights and the shuffle, as
 * `shoal train --seed` does. Issue 14 measured 12 seeds: N(0,1) ended at ~82% on 2 and ~90.5% on
 * the others, N(0, 1/n_in) at 92.1–92.8% on all. 24 runs of 30 epochs: minutes on every core.
 *
 *   npm run bench:init -- [--seeds 12] [--epochs 30] [--threads auto] [--no-record]
 */
import { parseArgs } from "node:util";
import { inits, type Init } from "../src/core/network.js";
import { loadMnistDigits, Network, train } from "../src/index.js";
import { machine, recordSection, spread, table } from "./lib.js";

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "12" },
    epochs: { type: "string", default: "30" },
    threads: { type: "string", default: "auto" },
    record: { type: "boolean", default: true },
  },
  allowNegative: true,
});
const seeds = Number(values.seeds);
const epochs = Number(values.epochs);
const threads = values.threads === "auto" ? "auto" : Number(values.threads);
if (!(Number.isInteger(seeds) && seeds >= 1)) throw new Error(`--seeds must be a positive integer, got ${values.seeds}`);
if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`--epochs must be a positive integer, got ${values.epochs}`);

const { train: data, test } = await loadMnistDigits();
const accuracy: Record<Init, number[]> = { gaussian: [], "scaled-gaussian": [] };
const rows: string[][] = [];
for (let seed = 1; seed <= seeds; seed++) {
  const row = [String(seed)];
  for (const init of inits) {
    const net = Network.create([784, 30, 10], { seed, init });
    const result = await train(net, data, { epochs, miniBatchSize: 10, eta: 3, seed, threads, testData: test });
    const percent = 100 * (result.epochs.at(-1)!.accuracy ?? 0);
    accuracy[init].push(percent);
    row.push(percent.toFixed(2));
  }
  rows.push(row);
  console.log(`seed ${row[0]}: gaussian ${row[1]}%, scaled-gaussian ${row[2]}%`);
}
rows.push(["median (min–max)", spread(accuracy.gaussian, 2), spread(accuracy["scaled-gaussian"], 2)]);
const markdown = [
  `### Weight initialisation and the default run (\`npm run bench:init -- --seeds ${seeds} --epochs ${epochs} --threads ${values.threads}\`)`,
  "",
  `${machine()}.`,
  "",
  "Test accuracy (%) after the last epoch of 784-30-10 on the bundled digits, η 3, batch 10:",
  "",
  table(["seed", "gaussian N(0,1)", "scaled-gaussian N(0,1/n_in)"], rows),
].join("\n");
console.log(`\n${markdown}`);
if (values.record) await recordSection("init-spread", markdown);
