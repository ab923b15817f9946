/**
 * The benchmark harness: named suites that measure by taking turns (takeTurns), print a markdown
 * table and record it into a results file. Not part of the library: importing `shoal` never loads
 * it (test/light.test.ts); bench/ runs each suite through a thin entry script.
 */
import { ab } from "./suites/ab.js";
import { ceiling } from "./suites/ceiling.js";
import { epochs } from "./suites/epochs.js";
import { machineSuite } from "./suites/machine.js";
import { scaling } from "./suites/scaling.js";
import { start } from "./suites/start.js";
import type { Suite } from "./suite.js";

/** Every suite, by name. */
export const suites: Readonly<Record<string, Suite>> = { scaling, epochs, ceiling, ab, machine: machineSuite, start };

export { runSuite, usage, type Suite, type SuiteContext, type SuiteOutput, type RunSettings } from "./suite.js";
export { takeTurns, pairedRatios, type Contender, type Turns } from "./turns.js";
