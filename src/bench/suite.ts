/**
 * A suite is a named benchmark: its options, and a run that measures (with takeTurns) and returns
 * a markdown table. runSuite gives every suite the same edge: argument parsing with checked
 * values, --quick (tiny sizes, for smoke runs), --section and --no-record, the command line that
 * reproduces the run, and recording into the results file.
 */
import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { recordSection, sectionName } from "./results.js";
import { machine } from "./stats.js";

/** A suite's option: a string (with its default, and its value under --quick) or a flag. */
export type OptionSpec =
  | { readonly type: "string"; readonly default?: string | (() => string); readonly quick?: string; readonly help: string }
  | { readonly type: "boolean"; readonly default?: boolean; readonly help: string };

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The parsed values of `O`: a flag is a boolean, a string with a default is a string. */
export type Values<O extends OptionSpecs> = {
  readonly [K in keyof O]: O[K] extends { type: "boolean" } ? boolean : O[K] extends { default: string | (() => string) } ? string : string | undefined;
};

/** What a suite's run is given besides its options. */
export interface SuiteContext {
  /** --quick: tiny sizes, for a smoke run (the suite shortens its warm-ups too). */
  readonly quick: boolean;
  /** The results section this run records into (the suite names a plot after it). */
  readonly section: string;
  /** The command that reproduces this run, for the table's heading. */
  readonly command: string;
  /** Progress for the terminal (not recorded). */
  readonly log: (line: string) => void;
}

/** A suite's result: its markdown (heading, machine line, table), and a plot to write beside the results file. */
export interface SuiteOutput {
  readonly markdown: string;
  readonly svg?: string;
}

export interface Suite<O extends OptionSpecs = OptionSpecs> {
  readonly name: string;
  /** The npm script that runs it (`bench:epochs`), for the recorded command. */
  readonly script: string;
  /** The results section it records into unless --section (or {@link Suite.sectionFor}) says otherwise. */
  readonly section: string;
  /** The section for these options, when they change it: a run of some of a suite's parts must not replace the whole suite's section. */
  sectionFor?(values: Values<O>): string;
  readonly summary: string;
  readonly options: O;
  run(values: Values<O>, context: SuiteContext): Promise<SuiteOutput>;
}

/** Where runSuite records, and where it prints. */
export interface RunSettings {
  /** The results file (bench/RESULTS.md). */
  readonly results: URL;
  readonly log?: (line: string) => void;
}

/** A suite's definition, typed by its options (so its run sees them typed). */
export const defineSuite = <O extends OptionSpecs>(suite: Suite<O>): Suite<O> => suite;

const common = {
  quick: { type: "boolean", default: false, help: "tiny sizes, for a smoke run (numbers not comparable)" },
  section: { type: "string", help: "results section to record into (default: the suite's)" },
  record: { type: "boolean", default: true, help: "--no-record: print only" },
  help: { type: "boolean", default: false, help: "this list" },
} as const satisfies OptionSpecs;

/** The options of `suite`, one line each. */
export function usage(suite: Suite): string {
  const specs: OptionSpecs = { ...suite.options, ...common };
  const lines = Object.entries(specs).map(([name, spec]) => {
    const fallback = spec.type === "string" && spec.default !== undefined ? ` (default ${typeof spec.default === "function" ? spec.default() : spec.default})` : "";
    return `  --${name}${spec.type === "string" ? " <value>" : ""}  ${spec.help}${fallback}`;
  });
  return [`npm run ${suite.script} -- [options]: ${suite.summary}`, ...lines].join("\n");
}

/**
 * Parses `args` for `suite`, runs it, prints its table and records it into its section of the
 * results file (unless --no-record). Returns the markdown, or undefined for --help.
 */
export async function runSuite<O extends OptionSpecs>(suite: Suite<O>, args: readonly string[], settings: RunSettings): Promise<string | undefined> {
  const log = settings.log ?? ((line: string) => console.log(line));
  const specs: OptionSpecs = { ...suite.options, ...common };
  const { values: parsed } = parseArgs({
    args: [...args],
    options: Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type }])),
    allowNegative: true,
    strict: true,
  });
  if (parsed.help === true) {
    log(usage(suite));
    return undefined;
  }
  const quick = parsed.quick === true;
  const values: Record<string, string | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const given = parsed[name];
    if (given !== undefined) values[name] = given;
    else if (spec.type === "string") values[name] = quick && spec.quick !== undefined ? spec.quick : typeof spec.default === "function" ? spec.default() : spec.default;
    else values[name] = spec.default ?? false;
  }
  const ownSection = suite.sectionFor?.(values as Values<O>) ?? suite.section;
  const section = sectionName(typeof values.section === "string" ? values.section : ownSection);
  const shown = Object.entries(suite.options).flatMap(([name, spec]) => {
    const value = values[name];
    if (spec.type === "string") return value === undefined ? [] : [`--${name} ${String(value)}`];
    return value === (spec.default ?? false) ? [] : [value ? `--${name}` : `--no-${name}`]; // a flag only when it changes something
  });
  if (quick) shown.push("--quick");
  if (section !== ownSection) shown.push(`--section ${section}`);
  const command = `npm run ${suite.script}${shown.length ? ` -- ${shown.join(" ")}` : ""}`;
  log(`${command}\n${machine()}\n`);
  const output = await suite.run(values as Values<O>, { quick, section, command, log });
  log(`\n${output.markdown}`);
  if (values.record === true) {
    await recordSection(settings.results, section, output.markdown);
    if (output.svg !== undefined) await writeFile(new URL(`./${section}.svg`, settings.results), output.svg);
    log(`recorded in ${settings.results.pathname}${output.svg === undefined ? "" : ` and ${section}.svg beside it`} (section ${section})`);
  }
  return output.markdown;
}

/** Argument values, checked where a suite reads them: messages name the option. */
export const arg = {
  list: (value: string): string[] => value.split(",").map((x) => x.trim()).filter(Boolean),
  integer(name: string, value: string, min = 1): number {
    const n = Number(value);
    if (!(Number.isInteger(n) && n >= min)) throw new Error(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
    return n;
  },
  integers(name: string, value: string, min = 1): number[] {
    const xs = arg.list(value).map((x) => arg.integer(name, x, min));
    if (!xs.length) throw new Error(`--${name} needs at least one value`);
    return xs;
  },
  /** Layer sizes: "784-30-10,784-100-10". */
  nets(name: string, value: string): number[][] {
    return arg.list(value).map((net) => {
      const sizes = net.split("-").map(Number);
      if (sizes.length < 2 || !sizes.every((s) => Number.isInteger(s) && s >= 1)) throw new Error(`--${name}: ${JSON.stringify(net)} is not layer sizes like 784-30-10`);
      return sizes;
    });
  },
  /** Names from `allowed`. */
  choices<T extends string>(name: string, value: string, allowed: readonly T[]): T[] {
    const xs = arg.list(value);
    for (const x of xs) if (!allowed.includes(x as T)) throw new Error(`--${name}: ${JSON.stringify(x)} is not one of ${allowed.join(", ")}`);
    return xs as T[];
  },
};

/** The default --threads list: every count from 1 to the machine's cores. */
export const everyThreadCount = (): string => Array.from({ length: availableParallelism() }, (_, i) => i + 1).join(",");
