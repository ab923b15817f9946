/** Small helpers shared by the benchmarks: statistics, machine facts, and recording results. */
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, totalmem } from "node:os";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import * as thisShoal from "../src/index.js";
import type { Dataset, EpochReport, Network, StepPhases, TrainOptions } from "../src/index.js";

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
  /**
   * Per measured epoch, the CPU seconds the hypervisor took from this machine during it (/proc/stat
   * counts 10 ms ticks; 0: a quiet epoch); undefined if unknown.
   */
  readonly stolen: (number | undefined)[];
}

/** One training of a measurement: a network, its data and options, and the shoal build that trains it. */
export interface Contestant {
  readonly network: Network;
  readonly data: Dataset;
  readonly options: Omit<TrainOptions, "epochs" | "signal" | "onEpoch">;
  readonly shoal?: Shoal;
}

/**
 * Trains `network` past its threads' JIT warm-up, then `measured` epochs more, and returns the
 * reports of those. Warm-up: at least 2 epochs and `warmSeconds` of training. V8 optimises a
 * function after enough calls, so a short epoch (a large batch, a small network) needs more of
 * them: W1 at batch 100 was still compiling in its 7th epoch, and a 2-thread epoch during which a
 * thread compiles runs at half speed (the other waits at the barrier).
 */
export async function steadyEpochs(
  network: Network, data: Dataset, options: Contestant["options"], measured = 3, warmSeconds = 1, shoal: Shoal = thisShoal,
): Promise<SteadyRun> {
  return (await epochsInTurn([{ network, data, options, shoal }], measured, warmSeconds))[0]!;
}

/**
 * Trains several contestants at once, taking turns: one epoch each, round after round (the order
 * reversed every other round), so the epochs of round r of every contestant are measured within
 * a few tens of milliseconds of each other. On this machine the same 2-thread W1 epoch took 29 to
 * 101 ms within one `bench:epochs` run, so configurations measured in separate runs, seconds
 * apart, compare the host's spells as much as their code; the ratio of two contestants' epochs in
 * one round compares them under (nearly) the same conditions. Each keeps its worker threads for
 * the whole measurement, idle while the others train. All train until every one is past its JIT
 * warm-up (as in steadyEpochs), then `rounds` rounds more are measured. Returns, per contestant,
 * its measured epochs (index r: round r) and the host steal during them. A contestant's failure,
 * during the measurement or while it stops, rejects the whole measurement once every training has
 * ended.
 */
export async function epochsInTurn(contestants: readonly Contestant[], rounds: number, warmSeconds = 1): Promise<SteadyRun[]> {
  const turns = contestants.map(() => new Mailbox<boolean>()); // true: train one epoch more; false: stop
  const epochs = contestants.map(() => new Mailbox<EpochReport | Error>());
  const running = contestants.map(async ({ network, data, options, shoal = thisShoal }, i) => {
    const controller = new AbortController();
    try {
      if (!(await turns[i]!.take())) return;
      await shoal.train(network, data, {
        ...options,
        epochs: 1_000_000,
        signal: controller.signal,
        onEpoch: async (report) => {
          epochs[i]!.put(report);
          if (!(await turns[i]!.take())) controller.abort();
        },
      });
      throw new Error("a training ended before the benchmark stopped it");
    } catch (error) {
      if (controller.signal.aborted && error instanceof shoal.AbortError) return; // stopped, as asked
      const failure = error instanceof Error ? error : new Error(String(error));
      epochs[i]!.put(failure); // the scheduler may be waiting for this contestant's epoch
      throw failure;
    }
  });
  for (const training of running) training.catch(() => {}); // handled below, once all have ended
  const measured: EpochReport[][] = contestants.map(() => []);
  const stolen = contestants.map(() => ({ wall: 0, epochs: [] as (number | undefined)[] }));
  const warm = contestants.map(() => ({ epochs: 0, seconds: 0 }));
  let measuring = false;
  try {
    for (let round = 0; measured[0]!.length < rounds; round++) {
      const order = contestants.map((_, i) => (round % 2 === 0 ? i : contestants.length - 1 - i));
      for (const i of order) {
        const before = { wall: performance.now(), stolen: stolenSeconds() };
        turns[i]!.put(true);
        const report = await epochs[i]!.take();
        if (report instanceof Error) throw report;
        const after = stolenSeconds();
        if (measuring) {
          measured[i]!.push(report);
          stolen[i]!.wall += (performance.now() - before.wall) / 1000;
          stolen[i]!.epochs.push(after === undefined || before.stolen === undefined ? undefined : after - before.stolen);
        } else {
          warm[i]!.epochs++;
          warm[i]!.seconds += report.seconds;
        }
      }
      measuring ||= warm.every((w) => w.epochs >= 2 && w.seconds >= warmSeconds);
    }
  } finally {
    for (const turn of turns) turn.put(false);
    const ended = await Promise.allSettled(running);
    const failed = ended.find((e): e is PromiseRejectedResult => e.status === "rejected");
    if (failed) throw failed.reason;
  }
  return measured.map((reports, i) => {
    const { wall, epochs } = stolen[i]!;
    const known = epochs.every((s) => s !== undefined);
    const seconds = epochs.reduce<number>((sum, s) => sum + (s ?? 0), 0);
    return { epochs: reports, steal: known && wall > 0 ? seconds / (wall * availableParallelism()) : undefined, stolen: epochs };
  });
}

/** Values over all rounds (or epochs) of a measurement, and over its quiet ones (see pairedRatios). */
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

/**
 * Each measured round's ratio of `run`'s epoch to `base`'s (by `value`, e.g. examples/s): over all
 * rounds, and over the "quiet" rounds, in which the hypervisor took no CPU time during either
 * epoch (by /proc/stat; some slow epochs of this machine show none, so quiet is not always fast).
 */
export function pairedRatios(base: SteadyRun, run: SteadyRun, value: (report: EpochReport) => number): Split {
  const all = run.epochs.map((e, r) => value(e) / value(base.epochs[r]!));
  return { all, quiet: all.filter((_, r) => base.stolen[r] === 0 && run.stolen[r] === 0) };
}

/** A value of each of `run`'s measured epochs: over all of them, and over the quiet ones (no CPU time stolen during it). */
export function epochValues(run: SteadyRun, value: (report: EpochReport) => number): Split {
  const all = run.epochs.map(value);
  return { all, quiet: all.filter((_, r) => run.stolen[r] === 0) };
}

/** A table cell: the median over all rounds (or epochs) / over the quiet ones (how many of all), formatted by `show`. */
export function quietCell(split: Split, show: (value: number) => string): string {
  if (!split.all.length) return "–";
  return `${show(median(split.all))} / ${split.quiet.length ? show(median(split.quiet)) : "–"} (${split.quiet.length} of ${split.all.length})`;
}

/** A worker's time waiting at a step's barriers, as a percentage of its step time. */
export function barrierShare(phases: StepPhases): number {
  return (100 * phases.synchronisation) / (phases.compute + phases.synchronisation + phases.update);
}

/** A queue of values passed from one async function to another. */
class Mailbox<T> {
  private readonly values: T[] = [];
  private readonly takers: ((value: T) => void)[] = [];
  put(value: T): void {
    const taker = this.takers.shift();
    if (taker) taker(value);
    else this.values.push(value);
  }
  take(): Promise<T> {
    return this.values.length ? Promise.resolve(this.values.shift()!) : new Promise((resolve) => this.takers.push(resolve));
  }
}
