// One load in a fresh process for bench/load.ts; prints the call's time in milliseconds.
import { loadFashionMnist, loadMnistDigits } from "../src/index.js";
import { readMnistDigitsJson } from "../src/data/mnist.js";

const loads: Record<string, () => Promise<unknown>> = {
  "digits-binary": loadMnistDigits,
  "digits-json": readMnistDigitsJson,
  "fashion-mnist": () => loadFashionMnist(),
};
const load = loads[process.argv[2] ?? ""];
if (load === undefined) throw new Error(`unknown load ${process.argv[2]}; expected one of ${Object.keys(loads).join(", ")}`);
const start = performance.now();
await load();
console.log((performance.now() - start).toFixed(2));
