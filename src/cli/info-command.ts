import { loadModel } from "../io/model-file.js";
import { exitCodes } from "./errors.js";
import { count, percent } from "./format.js";

/** `shoal info`'s flags, parsed. */
export interface InfoFlags {
  model: string;
  json?: boolean;
}

/** Prints a model's architecture and the metadata saved with it (how `shoal train` trained it). */
export async function infoCommand(flags: InfoFlags): Promise<number> {
  const { network, metadata } = await loadModel(flags.model);
  const { sizes, activation, outputActivation, cost, dtype } = network.spec;
  const weights = sizes.slice(1).reduce((n, s, l) => n + s * sizes[l]!, 0);
  const biases = sizes.slice(1).reduce((n, s) => n + s, 0);
  if (flags.json) {
    const info = { model: flags.model, sizes, parameters: weights + biases, weights, biases, activation, outputActivation, cost, dtype, metadata: metadata ?? null };
    process.stdout.write(`${JSON.stringify(info)}\n`);
    return exitCodes.ok;
  }
  const rows: [string, string][] = [
    ["model", flags.model],
    ["layers", `${sizes.join("-")} (${sizes.length - 2} hidden)`],
    ["parameters", `${count(weights + biases)} (${count(weights)} weights, ${count(biases)} biases)`],
    ["activation", `${activation === outputActivation ? activation : `${activation}, output ${outputActivation}`}${outputActivation === "softmax" ? " (outputs are class probabilities)" : ""}`],
    ["cost", cost],
    ["dtype", dtype],
  ];
  const lines = leftTable(rows);
  const entries = Object.entries(metadata ?? {});
  const trained = entries.length === 0 ? "training metadata: none" : `training metadata:\n${metadataLines(entries, "  ").join("\n")}`;
  process.stdout.write(`${lines}\n${trained}\n`);
  return exitCodes.ok;
}

/** Two columns, both left-aligned. */
function leftTable(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join("\n");
}

/**
 * Metadata as indented `key  value` lines: a nested object (a job trainer's `job` record, its
 * `spec`) as its own block under its key, one level deeper; a list of objects (the epoch reports)
 * by its length (`--json` shows it whole).
 */
function metadataLines(entries: readonly [string, unknown][], indent: string): string[] {
  const width = Math.max(...entries.map(([key]) => key.length));
  return entries.flatMap(([key, value]) => {
    if (isPlainObject(value)) {
      const inner = Object.entries(value);
      return inner.length === 0 ? [`${indent}${key}`] : [`${indent}${key}`, ...metadataLines(inner, `${indent}  `)];
    }
    if (Array.isArray(value) && value.some((v) => typeof v === "object" && v !== null)) {
      return [`${indent}${key.padEnd(width)}  ${value.length} ${value.length === 1 ? "entry" : "entries"} (--json shows them)`];
    }
    return [`${indent}${key.padEnd(width)}  ${show(key, value)}`];
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A metadata value for people: accuracies as percentages, lists joined, other values as JSON. */
function show(key: string, value: unknown): string {
  if (typeof value === "number" && /accuracy/i.test(key) && value >= 0 && value <= 1) return percent(value);
  if (typeof value === "number" && key === "seconds") return `${value.toFixed(1)} s`;
  if (typeof value === "number" && key === "trainingCost") return value.toFixed(4);
  if (Array.isArray(value) && value.every((v) => typeof v !== "object")) return value.join(", ");
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}
