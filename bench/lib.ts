/**
 * bench/'s side of the benchmark harness (src/bench): the results file every suite records into,
 * the entry scripts' one call, and the helpers the scripts that are not suites yet still use.
 */
import { runSuite, type Suite } from "../src/bench/index.js";
import { recordSection as record } from "../src/bench/results.js";

export { machine, median, spread, table } from "../src/bench/stats.js";

/** bench/RESULTS.md: the latest recording of each suite, dated, under its command. */
export const RESULTS = new URL("./RESULTS.md", import.meta.url);

/** Replaces (or appends) the section `name` of bench/RESULTS.md. */
export const recordSection = (name: string, markdown: string): Promise<void> => record(RESULTS, name, markdown);

/** Runs `suite` with this process's arguments, recording into bench/RESULTS.md. */
export async function runEntry(suite: Suite): Promise<void> {
  await runSuite(suite, process.argv.slice(2), { results: RESULTS });
}
