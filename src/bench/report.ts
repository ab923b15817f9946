/**
 * `shoal bench`'s report of a scaling measurement: its rows (measured, and modelled beyond the
 * thread counts measured), as a table, as JSON, and as an efficiency plot.
 */
import type { DType } from "../core/network.js";
import type { Parallelism } from "../parallel/shared-state.js";
import type { Workload } from "../train/auto-threads.js";
import type { PlotSpec } from "./results.js";
import type { WorkloadResult } from "./scaling.js";
import { modelRefusal, modelSpeedups, type ModelPoint } from "./speedup-model.js";
import { median, spread, table, times } from "./stats.js";

/**
 * The parallel strategies a report covers, in the order they are measured and shown: the example
 * split and the neuron split (parallelism "examples" and "neurons"). Rows carry their strategy.
 */
export const strategies = ["examples", "neurons"] as const satisfies readonly Parallelism[];

/** One row of the report: a contender at a thread count, measured or modelled. */
export interface ReportRow {
  /** "measured" on this machine in this run; "model": predicted (speedup-model.ts), shoal only. */
  readonly kind: "measured" | "model";
  /** "shoal", "numpy" or "torch". */
  readonly contender: string;
  /** shoal's: how its threads shared each step (the 1-thread row, "examples", is both strategies' base); null for a peer. */
  readonly strategy: (typeof strategies)[number] | null;
  readonly network: readonly number[];
  readonly batch: number;
  readonly dtype: DType;
  readonly threads: number;
  /** Median over the measured epochs (model: predicted). */
  readonly examplesPerSecond: number;
  /** Measured rows: the least and most of the measured epochs, and each of them. */
  readonly min?: number;
  readonly max?: number;
  readonly samples?: number[];
  /** ÷ the same contender at 1 thread: the median of the rounds' paired ratios (model: predicted); null without a 1-thread measurement. */
  readonly speedup: number | null;
  /** speedup ÷ threads. */
  readonly efficiency: number | null;
  /** Measured shoal rows: the model's speedup at this count, to set beside the measured one. */
  readonly modelSpeedup?: number;
}

/** What the model needs besides the measurements. */
export interface ModelSettings {
  /** Model thread counts 1 … this (and every count measured). */
  readonly modelThreads: number;
  /** Share of non-zero inputs of the training data (layer 1 skips zeros). */
  readonly inputDensity: number;
}

const workloadName = (r: Pick<ReportRow, "network" | "batch" | "dtype">): string => `${r.network.join("-")} batch ${r.batch} ${r.dtype}`;

const workOf = ({ workload }: WorkloadResult, settings: ModelSettings): Workload =>
  ({ sizes: workload.sizes, miniBatchSize: workload.miniBatchSize, kernel: "wasm", dtype: workload.dtype, inputDensity: settings.inputDensity });

/**
 * The report's rows: per workload, each contender's measured rows, then shoal's model at 1 …
 * modelThreads, for each strategy measured that the model can predict (see {@link strategyNotes}).
 */
export function reportRows(results: readonly WorkloadResult[], settings: ModelSettings): ReportRow[] {
  return results.flatMap((result) => {
    const { workload, measured } = result;
    const where = { network: [...workload.sizes], batch: workload.miniBatchSize, dtype: workload.dtype };
    const work = workOf(result, settings);
    const oneThread = measured.find((m) => m.name === "shoal" && m.threads === 1);
    const most = Math.max(settings.modelThreads, ...measured.map((m) => m.threads));
    const counts = Array.from({ length: most }, (_, i) => i + 1);
    const models = new Map<Parallelism, ModelPoint[]>();
    for (const strategy of result.strategies) {
      if (oneThread && modelRefusal(work, strategy) === undefined) models.set(strategy, modelSpeedups(work, median(oneThread.samples.map((s) => s.examplesPerSecond)), counts, strategy));
    }
    const rows: ReportRow[] = measured.map((m) => {
      const rates = m.samples.map((s) => s.examplesPerSecond);
      const speedup = m.threads === 1 ? 1 : m.speedup.all.length ? median(m.speedup.all) : null;
      // 1 thread is both strategies' base, so any strategy's model gives its point
      const model = m.strategy === null ? undefined : (models.get(m.strategy) ?? (m.threads === 1 ? [...models.values()][0] : undefined));
      const modelled = model?.find((p) => p.threads === m.threads);
      return {
        kind: "measured", contender: m.name, strategy: m.strategy, ...where, threads: m.threads,
        examplesPerSecond: median(rates), min: Math.min(...rates), max: Math.max(...rates), samples: rates,
        speedup, efficiency: speedup === null ? null : speedup / m.threads, ...(modelled ? { modelSpeedup: modelled.speedup } : {}),
      };
    });
    for (const [strategy, model] of models) {
      for (const p of model) {
        rows.push({ kind: "model", contender: "shoal", strategy, ...where, threads: p.threads, examplesPerSecond: p.examplesPerSecond, speedup: p.speedup, efficiency: p.speedup / p.threads });
      }
    }
    return rows;
  });
}

/**
 * What the report leaves out and why, once each (workloads with the same reason share a line): the
 * neuron split asked for but unable to run a workload (its refusal), and a strategy measured that
 * the model cannot predict.
 */
export function strategyNotes(results: readonly WorkloadResult[], settings: ModelSettings): string[] {
  const byReason = new Map<string, string[]>();
  const add = (reason: string, result: WorkloadResult): void => void byReason.set(reason, [...(byReason.get(reason) ?? []), workloadName(whereOf(result))]);
  for (const result of results) {
    if (result.neuronSplitRefusal !== undefined) add(`the example split only (the neuron split cannot run it: ${result.neuronSplitRefusal})`, result);
    const work = workOf(result, settings);
    for (const strategy of result.strategies) {
      const refusal = modelRefusal(work, strategy);
      if (refusal !== undefined) add(`no model rows for the ${strategy === "neurons" ? "neuron" : "example"} split (${refusal}): measured only`, result);
    }
  }
  return [...byReason].map(([reason, names]) => `${names.join(", ")}: ${reason}.`);
}

const whereOf = ({ workload }: WorkloadResult): Pick<ReportRow, "network" | "batch" | "dtype"> => ({ network: workload.sizes, batch: workload.miniBatchSize, dtype: workload.dtype });

const count = (x: number): string => Math.round(x).toLocaleString("en-US");

/**
 * A markdown table of the rows: every measured row (with the model's speedup beside shoal's), and
 * the model's rows at the thread counts that were not measured for their strategy, marked "model"
 * (1 thread was measured for both: it is the same work).
 */
export function reportTable(rows: readonly ReportRow[]): string {
  const key = (r: ReportRow): string => `${workloadName(r)} ${r.strategy} ${r.threads}`;
  const measuredAt = new Set(rows.filter((r) => r.kind === "measured" && r.contender === "shoal").map(key));
  const shown = rows.filter((r) => r.kind === "measured" || (r.threads > 1 && !measuredAt.has(key(r))));
  const header = ["network", "batch", "dtype", "contender", "strategy", "threads", "kind", "examples/s median (min–max)", "speedup vs 1 thread", "efficiency", "model speedup"];
  return table(header, shown.map((r) => [
    r.network.join("-"), String(r.batch), r.dtype, r.contender, r.strategy ?? "–", String(r.threads), r.kind,
    r.kind === "measured" ? spread(r.samples!) : `≈${count(r.examplesPerSecond)}`,
    r.speedup === null ? "–" : times(r.speedup), r.efficiency === null ? "–" : `${(100 * r.efficiency).toFixed(0)}%`,
    r.kind === "model" ? times(r.speedup!) : r.modelSpeedup === undefined ? "–" : times(r.modelSpeedup),
  ]));
}

/** The plot's line styles: a measured line and a model line per strategy, in the legend's order. */
const lineStyles = [
  { kind: "measured", strategy: "examples", dash: [1, 0] },
  { kind: "measured", strategy: "neurons", dash: [9, 4] },
  { kind: "model", strategy: "examples", dash: [1, 3] },
  { kind: "model", strategy: "neurons", dash: [9, 3, 1, 3] },
] as const;

/**
 * The efficiency plot (vega-lite): shoal's speedup vs threads, one line per workload (its colour)
 * and strategy as measured (examples solid, neurons dashed, with points), the model's the same
 * colour, faint, dotted (examples) or dash-dotted (neurons), and the ideal speedup (= threads) in
 * grey. A strategy's measured line starts at the shared 1-thread measurement.
 */
export function efficiencyPlot(rows: readonly ReportRow[], title: string): PlotSpec {
  const shoal = rows.filter((r) => r.contender === "shoal" && r.speedup !== null);
  const line = (kind: string, strategy: string | null): string => `${kind}, ${strategy ?? "examples"} split`;
  const points = shoal.flatMap((r) => {
    const point = { workload: workloadName(r), kind: r.kind, threads: r.threads, speedup: r.speedup };
    // the 1-thread row is the base of both strategies: it starts each measured line of its workload
    const others = shoal.filter((o) => o.kind === "measured" && o.threads > 1 && workloadName(o) === workloadName(r)).map((o) => o.strategy);
    const sharing = r.kind === "measured" && r.threads === 1 && others.length ? [...new Set(others)] : [r.strategy];
    return sharing.map((strategy) => ({ ...point, line: line(r.kind, strategy) }));
  });
  const used = new Set(points.map((p) => p.line));
  const styles = lineStyles.filter((s) => used.has(line(s.kind, s.strategy)));
  const most = Math.max(1, ...shoal.map((r) => r.threads));
  const x = { field: "threads", type: "quantitative", title: "worker threads", axis: { tickMinStep: 1, format: "d" } };
  const y = { field: "speedup", type: "quantitative", title: "speedup vs 1 thread" };
  const color = { field: "workload", type: "nominal", title: "workload", scale: { scheme: "category10" }, legend: { labelLimit: 400 } };
  const strokeDash = {
    field: "line", type: "nominal", title: "line",
    scale: { domain: styles.map((s) => line(s.kind, s.strategy)), range: styles.map((s) => s.dash) },
    legend: { symbolType: "stroke", symbolStrokeWidth: 2, symbolSize: 600, labelLimit: 400, encode: { symbols: { update: { stroke: { value: "#444" } } } } },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    width: 560,
    height: 340,
    layer: [
      {
        data: { values: [{ threads: 1, speedup: 1 }, { threads: most, speedup: most }] },
        mark: { type: "line", color: "#999", strokeDash: [2, 2], description: "ideal" },
        encoding: { x, y },
      },
      {
        data: { values: points.filter((p) => p.kind === "measured") },
        mark: { type: "line", point: true, description: "measured" },
        encoding: { x, y, color, strokeDash },
      },
      {
        data: { values: points.filter((p) => p.kind === "model") },
        mark: { type: "line", opacity: 0.55, description: "model" },
        encoding: { x, y, color, strokeDash },
      },
    ],
  };
}
