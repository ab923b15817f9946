/** Small helpers shared by the benchmarks: statistics, machine facts, and recording results. */
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, totalmem } from "node:os";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import * as thisShoal from "../src/index.js";
import type { Dataset, EpochReport, Network, TrainOptions } from "../src/index.js";

/** What steadyEpochs needs of a shoal build: this repository's, or another checkout's (bench/ab.ts). */
export type Shoal = Pick<typeof thisShoal, "train" | "AbortError">;

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** `median (min–max)` with the given digits. */
export function spread(xs: readonly number[], digits = 0): string {
  const f = (x: number): string => x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
}

/** One line naming the machine, Node version and date, for every recorded table. */
export function machine(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  return `${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** A markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

const RESULTS = new URL("./RESULTS.md", import.meta.url);

/**
 * A --section value, checked before a benchmark runs: it names an HTML comment marker in
 * RESULTS.md and, for the scaling plot, a file next to it.
 */
export function sectionName(value: string): string {
  if (!/^[a-z0-9-]+$/.test(value)) throw new Error(`--section must be lowercase letters, digits and dashes, got ${JSON.stringify(value)}`);
  return value;
}

/** Replaces (or appends) the section `name` of bench/RESULTS.md, between marker comments. */
export async function recordSection(name: string, markdown: string): Promise<void> {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  let text = await readFile(RESULTS, "utf8").catch(() => "# Benchmark results\n\nEvery table below was written by the command above it; rerun it to refresh.\n");
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  text = from >= 0 && to > from ? text.slice(0, from) + block + text.slice(to + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  await writeFile(RESULTS, text);
}

/** Renders a vega-lite spec to an SVG string, in Node, without a browser. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/**
 * Keeps the machine busy with `work` for `ms` before measuring: on the reference machine a process's
 * first second of load runs up to ~1.5× slower (the clock ramps up), which would otherwise bias
 * whichever configuration is measured first.
 */
export async function warmUp(work: () => Promise<unknown>, ms = 2500): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < ms) await work();
}

/**
 * Seconds of CPU time the hypervisor gave to others while this machine's cores wanted to run
 * ("steal" in /proc/stat, summed over cores), or undefined where there is no such count. Two
 * threads in lockstep both wait while either one is stolen from, so this is reported beside
 * every multi-thread figure.
 */
export function stolenSeconds(): number | undefined {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/);
    const ticks = Number(fields[8]);
    return Number.isFinite(ticks) ? ticks / 100 : undefined; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** A table cell: median and maximum of the runs' steal percentages, or – where the machine does not count steal. */
export function stealCell(percents: readonly number[]): string {
  return percents.length ? `${median(percents).toFixed(1)}% (${Math.max(...percents).toFixed(1)}%)` : "–";
}

/** The epochs a benchmark run measured, and the share of the machine's CPU time stolen meanwhile. */
export interface SteadyRun {
  readonly epochs: EpochReport[];
  /** Stolen CPU time ÷ (wall time × cores) over the measured epochs; undefined if unknown. */
  readonly steal: number | undefined;
}

/**
 * Trains `network` past its threads' JIT warm-up, then `measured` epochs more, and returns the
 * reports of those. Warm-up: at least 2 epochs and `warmSeconds` of training. V8 optimises a
 * function after enough calls, so a short epoch (a large batch, a small network) needs more of
 * them: W1 at batch 100 was still compiling in its 7th epoch, and a 2-thread epoch during which a
 * thread compiles runs at half speed (the other waits at the barrier).
 */
export async function steadyEpochs(
  network: Network, data: Dataset, options: Omit<TrainOptions, "epochs">, measured = 3, warmSeconds = 1, shoal: Shoal = thisShoal,
): Promise<SteadyRun> {
  const reports: EpochReport[] = [];
  let warm = -1;
  let seconds = 0;
  let from: { wall: number; stolen: number | undefined } | undefined;
  let steal: number | undefined;
  const controller = new AbortController();
  const onEpoch = (report: EpochReport): void => {
    reports.push(report);
    seconds += report.seconds;
    if (warm < 0 && reports.length >= 2 && seconds >= warmSeconds) {
      warm = reports.length;
      from = { wall: performance.now(), stolen: stolenSeconds() };
    }
    if (warm >= 0 && reports.length === warm + measured) {
      const stolen = stolenSeconds();
      if (from?.stolen !== undefined && stolen !== undefined) {
        steal = (stolen - from.stolen) / (((performance.now() - from.wall) / 1000) * availableParallelism());
      }
      controller.abort();
    }
  };
  try {
    await shoal.train(network, data, { ...options, epochs: 1_000_000, signal: controller.signal, onEpoch });
  } catch (error) {
    if (!(error instanceof shoal.AbortError)) throw error;
  }
  return { epochs: reports.slice(warm, warm + measured), steal };
}
