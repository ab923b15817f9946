// One load in a fresh process for bench/load.ts; prints the call's time in milliseconds.
import { loadFashionMnist, loadMnistDigits } from "../src/index.js";
import { readMnistDigitsJson } from "../src/data/mnist.js";

const loads: Record<string, () => Promise<unknown>> = {
  "digits-binary": loadMnistDigits,
  "digits-json": readMnistDigitsJson,
  "fashion-mnist": () => loadFashionMnist(),
  // the floor of any load that hands out the digits as float32: first writes to 31 MB of new memory
  "touch-31mb": async () => new Float32Array(10_000 * 784).fill(0.5),
};
const load = loads[process.argv[2] ?? ""];
if (load === undefined) throw new Error(`unknown load ${process.argv[2]}; expected one of ${Object.keys(loads).join(", ")}`);
const start = performance.now();
await load();
console.log((performance.now() - start).toFixed(2));
