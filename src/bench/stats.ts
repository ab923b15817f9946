/** Statistics and table cells shared by the benchmark suites: medians, spreads, paired ratios, host steal. */
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import type { StepPhases } from "../parallel/epoch-share.js";

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  if (!xs.length) throw new Error("median of an empty list");
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

/** Values over all rounds (or epochs) of a measurement, and over its quiet ones (no CPU time stolen). */
export interface Split {
  readonly all: number[];
  readonly quiet: number[];
}

/** An empty Split. */
export const emptySplit = (): Split => ({ all: [], quiet: [] });

/** Adds `more`'s values to `into`'s. */
export function addSplit(into: Split, more: Split): void {
  into.all.push(...more.all);
  into.quiet.push(...more.quiet);
}

/** Each value divided by `by` (speedups into efficiencies). */
export const divideSplit = (split: Split, by: number): Split => ({
  all: split.all.map((x) => x / by),
  quiet: split.quiet.map((x) => x / by),
});

/** A table cell: the median over all rounds (or epochs) / over the quiet ones (how many of all), formatted by `show`. */
export function quietCell(split: Split, show: (value: number) => string): string {
  if (!split.all.length) return "–";
  return `${show(median(split.all))} / ${split.quiet.length ? show(median(split.quiet)) : "–"} (${split.quiet.length} of ${split.all.length})`;
}

/** `1.23×` */
export const times = (x: number): string => `${x.toFixed(2)}×`;

/** A worker's time waiting at a step's barriers, as a percentage of its step time. */
export function barrierShare(phases: StepPhases): number {
  return (100 * phases.synchronisation) / (phases.compute + phases.synchronisation + phases.update);
}
