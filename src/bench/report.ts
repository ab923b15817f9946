/**
 * `shoal bench`'s report of a scaling measurement: its rows (measured, and modelled beyond the
 * thread counts measured), as a table, as JSON, and as an efficiency plot.
 */
import type { DType } from "../core/network.js";
import type { KernelName } from "../parallel/shared-state.js";
import type { PlotSpec } from "./results.js";
import type { WorkloadResult } from "./scaling.js";
import { modelSpeedups } from "./speedup-model.js";
import { median, spread, table, times } from "./stats.js";

/**
 * The parallel strategies a report covers: the example split only, for now. This is the one place a
 * strategy list goes (issue 17 item 1 adds the neuron split); rows carry their strategy.
 */
export const strategies = ["examples"] as const;

/** One row of the report: a contender at a thread count, measured or modelled. */
export interface ReportRow {
  /** "measured" on this machine in this run; "model": predicted (speedup-model.ts), shoal only. */
  readonly kind: "measured" | "model";
  /** "shoal", "numpy" or "torch". */
  readonly contender: string;
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

const kernelOf = (dtype: DType): KernelName => (dtype === "float32" ? "wasm" : "js");
const workloadName = (r: Pick<ReportRow, "network" | "batch" | "dtype">): string => `${r.network.join("-")} batch ${r.batch} ${r.dtype}`;

/** The report's rows: per workload, each contender's measured rows, then shoal's model at 1 … modelThreads. */
export function reportRows(results: readonly WorkloadResult[], settings: ModelSettings): ReportRow[] {
  return results.flatMap(({ workload, measured }) => {
    const where = { network: [...workload.sizes], batch: workload.miniBatchSize, dtype: workload.dtype };
    const work = { sizes: workload.sizes, miniBatchSize: workload.miniBatchSize, kernel: kernelOf(workload.dtype), inputDensity: settings.inputDensity };
    const oneThread = measured.find((m) => m.name === "shoal" && m.threads === 1);
    const most = Math.max(settings.modelThreads, ...measured.map((m) => m.threads));
    const model = oneThread ? modelSpeedups(work, median(oneThread.samples.map((s) => s.examplesPerSecond)), Array.from({ length: most }, (_, i) => i + 1)) : [];
    const rows: ReportRow[] = measured.map((m) => {
      const rates = m.samples.map((s) => s.examplesPerSecond);
      const speedup = m.threads === 1 ? 1 : m.speedup.all.length ? median(m.speedup.all) : null;
      const modelled = m.name === "shoal" ? model.find((p) => p.threads === m.threads) : undefined;
      return {
        kind: "measured", contender: m.name, strategy: m.name === "shoal" ? strategies[0] : null, ...where, threads: m.threads,
        examplesPerSecond: median(rates), min: Math.min(...rates), max: Math.max(...rates), samples: rates,
        speedup, efficiency: speedup === null ? null : speedup / m.threads, ...(modelled ? { modelSpeedup: modelled.speedup } : {}),
      };
    });
    for (const p of model) {
      rows.push({ kind: "model", contender: "shoal", strategy: strategies[0], ...where, threads: p.threads, examplesPerSecond: p.examplesPerSecond, speedup: p.speedup, efficiency: p.speedup / p.threads });
    }
    return rows;
  });
}

const count = (x: number): string => Math.round(x).toLocaleString("en-US");

/**
 * A markdown table of the rows: every measured row (with the model's speedup beside shoal's), and
 * the model's rows at the thread counts that were not measured, marked "model".
 */
export function reportTable(rows: readonly ReportRow[]): string {
  const measuredAt = new Set(rows.filter((r) => r.kind === "measured" && r.contender === "shoal").map((r) => `${workloadName(r)} ${r.threads}`));
  const shown = rows.filter((r) => r.kind === "measured" || !measuredAt.has(`${workloadName(r)} ${r.threads}`));
  const header = ["network", "batch", "dtype", "contender", "threads", "kind", "examples/s median (min–max)", "speedup vs 1 thread", "efficiency", "model speedup"];
  return table(header, shown.map((r) => [
    r.network.join("-"), String(r.batch), r.dtype, r.contender, String(r.threads), r.kind,
    r.kind === "measured" ? spread(r.samples!) : `≈${count(r.examplesPerSecond)}`,
    r.speedup === null ? "–" : times(r.speedup), r.efficiency === null ? "–" : `${(100 * r.efficiency).toFixed(0)}%`,
    r.kind === "model" ? times(r.speedup!) : r.modelSpeedup === undefined ? "–" : times(r.modelSpeedup),
  ]));
}

/**
 * The efficiency plot (vega-lite): shoal's speedup vs threads, one solid line per workload as
 * measured, the model dashed in the same colour, and the ideal speedup (= threads) in grey.
 */
export function efficiencyPlot(rows: readonly ReportRow[], title: string): PlotSpec {
  const shoal = rows.filter((r) => r.contender === "shoal" && r.speedup !== null);
  const points = shoal.map((r) => ({ workload: workloadName(r), kind: r.kind, threads: r.threads, speedup: r.speedup }));
  const most = Math.max(1, ...shoal.map((r) => r.threads));
  const x = { field: "threads", type: "quantitative", title: "worker threads", axis: { tickMinStep: 1, format: "d" } };
  const y = { field: "speedup", type: "quantitative", title: "speedup vs 1 thread" };
  const color = { field: "workload", type: "nominal", title: "workload (solid: measured, dashed: model)", scale: { scheme: "category10" }, legend: { labelLimit: 400 } };
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
        encoding: { x, y, color },
      },
      {
        data: { values: points.filter((p) => p.kind === "model") },
        mark: { type: "line", strokeDash: [6, 4], opacity: 0.7, description: "model" },
        encoding: { x, y, color },
      },
    ],
  };
}
