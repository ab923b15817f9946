// One load in a fresh process for bench/load.ts; prints the call's time in milliseconds.
import { loadFashionMnist, loadMnistDigits } from "../src/index.js";
import { readMnistDigitsJson } from "../src/data/mnist.js";

const loads: Record<string, () => Promise<unknown>> = {
  "digits-binary": loadMnistDigits,
  "digits-json": readMnistDigitsJson,
  "fashion-mnist": () => loadFashionMnist({ cache: false }),
  // the compact copy cached on first use (bench/load.ts makes it before the rounds)
  "fashion-mnist-cached": () => loadFashionMnist({ cache: process.env.SHOAL_BENCH_CACHE! }),
  // the floor of Fashion-MNIST as float32: first writes to 220 MB of new memory
  "touch-220mb": async () => new Float32Array(70_000 * 784).fill(0.5),
  // the floor of any load that hands out the digits as float32: first writes to 31 MB of new memory
  "touch-31mb": async () => new Float32Array(10_000 * 784).fill(0.5),
};
const load = loads[process.argv[2] ?? ""];
if (load === undefined) throw new Error(`unknown load ${process.argv[2]}; expected one of ${Object.keys(loads).join(", ")}`);
const start = performance.now();
await load();
console.log((performance.now() - start).toFixed(2));
