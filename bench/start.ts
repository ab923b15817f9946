/**
 * npm run bench:start -- [--part e2e,first,warm,auto,jobs] [--rounds 10] [--epochs 10] [--threads 1,2] [--quick] [--no-record]
 * npm run bench:pool  (= bench:start --part warm --section pool)
 *
 * The suite lives in src/bench/suites/ (see its header); `--help` lists its options.
 */
import { start } from "../src/bench/suites/start.js";
import { runEntry } from "./lib.js";

await runEntry(start);
