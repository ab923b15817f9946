/**
 * A fresh pool's first epoch ÷ its steady epochs (W1, 1 thread, 6 fresh pools in one process),
 * with V8's dynamic tiering of WebAssembly (default) or, with EAGER=1, every kernel function
 * compiled by the optimising compiler up front.
 *
 *   npx tsx bench/probes/first-epoch.ts; EAGER=1 npx tsx bench/probes/first-epoch.ts
 */
import v8 from "node:v8";

if (process.env.EAGER) v8.setFlagsFromString("--no-wasm-dynamic-tiering");
const { createPool, loadMnistDigits, Network, train } = await import("../../src/index.js");
const { train: data } = await loadMnistDigits();
const ratios: number[] = [];
for (let r = 0; r < 6; r++) {
  const pool = createPool({ threads: 1 });
  const result = await train(Network.create([784, 30, 10], { seed: 1 }), data, { miniBatchSize: 10, eta: 3, seed: 1, epochs: 4, pool });
  await pool.close();
  const rates = result.epochs.map((e) => e.examplesPerSecond);
  ratios.push(rates[0]! / Math.max(rates[2]!, rates[3]!));
}
console.log(`${process.env.EAGER ? "eager" : "dynamic tiering"}: first ÷ steady per fresh pool, sorted: ${ratios.sort((a, b) => a - b).map((x) => x.toFixed(2)).join(" ")}`);
