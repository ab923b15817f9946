import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { percent } from "./format.js";
import type { EpochRecord } from "./output.js";

const colors = { test: "#1f77b4", validation: "#ff7f0e", training: "#9467bd", cost: "#2ca02c" } as const;

/**
 * The learning curve of a training run as an SVG document: accuracy per epoch (test, and
 * validation when there is one) above the mean training cost per epoch, sharing the epoch axis.
 * Rendered by vega-lite → vega → vega's SVG string renderer, in Node: no browser, no canvas, no
 * network (the data is inline and text is plain SVG text in a generic font family).
 */
export async function learningCurveSvg(records: readonly EpochRecord[], title: string): Promise<string> {
  const rows = records.flatMap((r) => [
    { panel: "cost", epoch: r.epoch, series: "training cost", value: r.cost },
    ...(r.testAccuracy === null ? [] : [{ panel: "accuracy", epoch: r.epoch, series: "test", value: r.testAccuracy * 100 }]),
    ...(r.validationAccuracy === undefined
      ? []
      : [{ panel: "accuracy", epoch: r.epoch, series: "validation", value: r.validationAccuracy * 100 }]),
    ...(r.trainingAccuracy === undefined ? [] : [{ panel: "accuracy", epoch: r.epoch, series: "training", value: r.trainingAccuracy * 100 }]),
    ...(r.eta === undefined ? [] : [{ panel: "eta", epoch: r.epoch, series: "η", value: r.eta }]),
  ]);
  // η gets a panel of its own when a schedule changed it
  const hasEta = new Set(records.map((r) => r.eta)).size > 1;
  const last = Math.max(1, ...records.map((r) => r.epoch));
  const x = {
    field: "epoch",
    type: "quantitative",
    title: "epoch",
    // at least 1…2 so a one-epoch run still has an axis; integer ticks only
    scale: { domain: [1, Math.max(2, last)], nice: false, padding: 12 },
    axis: { tickMinStep: 1, format: "d" },
  } as const;
  const panel = (name: string): { filter: string } => ({ filter: `datum.panel === '${name}'` });
  const series = (["test", "validation", "training"] as const).filter((name) => rows.some((r) => r.series === name));
  const hasAccuracy = series.length > 0;

  const accuracy = {
    width: 520,
    height: 220,
    transform: [panel("accuracy")],
    mark: { type: "line", point: true, strokeWidth: 2 },
    encoding: {
      x: { ...x, title: null },
      y: { field: "value", type: "quantitative", title: "accuracy (%)", scale: { zero: false }, axis: { format: "~g" } },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        scale: { domain: series, range: series.map((name) => colors[name]) },
        // above the panel, so it never hides a point
        legend: { orient: "top", direction: "horizontal", labelFontSize: 12, symbolType: "stroke", symbolStrokeWidth: 3 },
      },
    },
  } as const;
  const cost = {
    width: 520,
    height: 160,
    transform: [panel("cost")],
    mark: { type: "line", point: { color: colors.cost }, strokeWidth: 2, color: colors.cost },
    encoding: {
      x,
      y: { field: "value", type: "quantitative", title: "training cost", scale: { zero: false }, axis: { format: "~g" } },
    },
  } as const;
  const eta = {
    width: 520,
    height: 100,
    transform: [panel("eta")],
    mark: { type: "line", point: { color: colors.cost }, strokeWidth: 2, color: colors.cost, interpolate: "step-after" },
    encoding: {
      x,
      y: { field: "value", type: "quantitative", title: "η", scale: { type: "log" }, axis: { format: "~g" } },
    },
  } as const;
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle: finalLine(records), anchor: "start", fontSize: 14, subtitleFontSize: 12 },
    data: { values: rows },
    vconcat: [...(hasAccuracy ? [accuracy] : []), cost, ...(hasEta ? [eta] : [])],
    spacing: 12,
    config: { font: "sans-serif", axis: { labelFontSize: 11, titleFontSize: 12 }, background: "white" },
  } as unknown as TopLevelSpec;

  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** "after 8 epochs: test 83.10%, validation 83.40%, cost 0.0691" */
function finalLine(records: readonly EpochRecord[]): string {
  const last = records[records.length - 1];
  if (last === undefined) return "no finished epoch";
  const parts = [
    ...(last.testAccuracy === null ? [] : [`test ${percent(last.testAccuracy)}`]),
    ...(last.validationAccuracy === undefined ? [] : [`validation ${percent(last.validationAccuracy)}`]),
    `cost ${last.cost.toFixed(4)}`,
  ];
  return `after ${last.epoch} epoch${last.epoch === 1 ? "" : "s"}: ${parts.join(", ")}`;
}
