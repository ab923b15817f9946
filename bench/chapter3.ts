/**
 * npm run bench:chapter3 -- [--data digits,fashion-mnist] [--epochs 30] [--overfit-epochs 400] [--threads auto] [--quick] [--no-record]
 *
 * The suite lives in src/bench/suites/chapter3.ts; `--help` lists its options.
 */
import { chapter3 } from "../src/bench/suites/chapter3.js";
import { runEntry } from "./lib.js";

await runEntry(chapter3);
