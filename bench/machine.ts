/**
 * npm run bench:machine -- [--threads 1,2] [--runs 9] [--no-record] [--quick]
 *
 * The suite lives in src/bench/suites/ (see its header); `--help` lists its options.
 */
import { machineSuite } from "../src/bench/suites/machine.js";
import { runEntry } from "./lib.js";

await runEntry(machineSuite);
