/**
 * A/B of two checkouts of shoal in one process, taking turns epoch by epoch:
 *
 *   git worktree add /tmp/a <commit> && ln -s "$PWD/node_modules" /tmp/a/node_modules
 *   (cd /tmp/a && npm run build:wasm)
 *   npm run bench:ab -- --a /tmp/a --b . [--net 784-30-10] [--batch 10] [--threads 2] [--pairs 10]
 *                       [--section ab] [--no-record] [--quick]
 *
 * The suite lives in src/bench/suites/ab.ts (see its header); `--help` lists its options.
 */
import { ab } from "../src/bench/suites/ab.js";
import { runEntry } from "./lib.js";

await runEntry(ab);
