/**
 * npm run bench:epochs -- [--threads 0,1,2] [--runs 5] [--dtype float32] [--no-record] [--quick]
 *
 * The suite lives in src/bench/suites/ (see its header); `--help` lists its options.
 */
import { epochs } from "../src/bench/suites/epochs.js";
import { runEntry } from "./lib.js";

await runEntry(epochs);
