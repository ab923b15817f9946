/**
 * npm run bench:parallelism -- [--threads 2] [--nets 784-30-10,784-100-10] [--batches 10,100] [--runs 3] [--quick] [--no-record]
 *
 * The suite lives in src/bench/suites/parallelism.ts; `--help` lists its options.
 */
import { parallelism } from "../src/bench/suites/parallelism.js";
import { runEntry } from "./lib.js";

await runEntry(parallelism);
