/**
 * npm run bench -- [--threads 1,2] [--runs 5] [--nets 784-30-10,784-100-10,784-256-128-10] [--batches 10,100] [--dtypes float32,float64] [--section scaling] [--no-record] [--quick]
 *
 * The suite lives in src/bench/suites/ (see its header); `--help` lists its options.
 */
import { scaling } from "../src/bench/suites/scaling.js";
import { runEntry } from "./lib.js";

await runEntry(scaling);
