/** Recording a suite's table: sections of a results file (bench/RESULTS.md), and plots beside it. */
import { readFile, writeFile } from "node:fs/promises";

/**
 * A --section value, checked before a suite runs: it names an HTML comment marker in the results
 * file and, for a plot, a file next to it.
 */
export function sectionName(value: string): string {
  if (!/^[a-z0-9-]+$/.test(value)) throw new Error(`--section must be lowercase letters, digits and dashes, got ${JSON.stringify(value)}`);
  return value;
}

const header = "# Benchmark results\n\nEvery table below was written by the command above it; rerun it to refresh.\n";

/** Replaces (or appends) the section `name` of the results file, between marker comments; other sections stay as they are. */
export async function recordSection(file: URL | string, name: string, markdown: string): Promise<void> {
  const start = `<!-- ${sectionName(name)}:start -->`;
  const end = `<!-- ${name}:end -->`;
  let text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return header;
    throw error;
  });
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  text = from >= 0 && to > from ? text.slice(0, from) + block + text.slice(to + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  await writeFile(file, text);
}

/** A vega-lite spec (kept loose here so the harness loads vega only when a suite draws a plot). */
export type PlotSpec = Record<string, unknown>;

/** Renders a vega-lite spec to an SVG string, in Node, without a browser. */
export async function renderSvg(spec: PlotSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]);
  const view = new vega.View(vega.parse(compiled.spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
