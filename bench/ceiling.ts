/**
 * npm run bench:ceiling -- [--threads 2] [--nets 784-30-10] [--batches 10,100] [--runs 6] [--no-record] [--quick]
 *
 * The suite lives in src/bench/suites/ (see its header); `--help` lists its options.
 */
import { ceiling } from "../src/bench/suites/ceiling.js";
import { runEntry } from "./lib.js";

await runEntry(ceiling);
