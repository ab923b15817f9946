import { classCount, predictedClass } from "../core/classes.js";
import { sliceDataset, targetClass, type Dataset } from "../core/dataset.js";
import type { Network } from "../core/network.js";
import { loadModel } from "../io/model-file.js";
import { checkModelFits, loadData } from "./data-source.js";
import { exitCodes } from "./errors.js";
import { count, percent, table } from "./format.js";
import { classNamesOf, modelData } from "../io/model-metadata.js";

/** `shoal evaluate`'s flags, parsed. */
export interface EvaluateFlags {
  model: string;
  data?: string;
  limit?: number;
  labelColumn?: string;
  scale?: number;
  separator?: string;
  json?: boolean;
}

/** A model's results on a labelled dataset. */
export interface Confusion {
  /** matrix[t][p]: examples of true class t predicted as p (classes × outputs). */
  matrix: number[][];
  correct: number;
  total: number;
}

/**
 * Evaluates a model on the test set of `--data` (default: the data named in the model's metadata,
 * else mnist): overall accuracy, accuracy per class and the confusion matrix (rows: true class,
 * columns: predicted class).
 */
export async function evaluateCommand(flags: EvaluateFlags): Promise<number> {
  const { network, metadata } = await loadModel(flags.model);
  const defaults = modelData(metadata);
  // by default the data the model was trained on: its test set, or for CSV data the test file if there was one
  const source = flags.data ?? defaults.testData ?? defaults.data;
  const isCsv = source.toLowerCase().endsWith(".csv");
  const modelNames = classNamesOf(metadata);
  const loaded = await loadData({
    data: source,
    dtype: network.spec.dtype,
    labelColumn: flags.labelColumn ?? (isCsv ? defaults.labelColumn : undefined),
    scale: flags.scale ?? (isCsv ? defaults.scale : undefined),
    separator: flags.separator ?? (isCsv ? defaults.separator : undefined),
    // text labels are numbered as the model's classes, not by this file's own names
    ...(isCsv && modelNames && { classNames: modelNames }),
  });
  checkModelFits(network.sizes, loaded, flags.model);
  // the test set; a CSV source without one is evaluated whole
  const full = loaded.test ?? loaded.train;
  const data = flags.limit === undefined ? full : sliceDataset(full, 0, flags.limit);
  const result = confusion(network, data);
  const names = modelNames ?? loaded.classNames;
  const which = loaded.test ? `${loaded.name} test set` : loaded.name;

  if (flags.json) {
    const perClass = result.matrix.map((row, c) => ({
      class: c,
      ...(names?.[c] !== undefined && { name: names[c] }),
      total: sum(row),
      correct: row[c] ?? 0,
      accuracy: sum(row) === 0 ? null : (row[c] ?? 0) / sum(row),
    }));
    const accuracy = result.total === 0 ? 0 : result.correct / result.total;
    process.stdout.write(`${JSON.stringify({ model: flags.model, data: which, correct: result.correct, total: result.total, accuracy, perClass, confusion: result.matrix })}\n`);
    return exitCodes.ok;
  }
  process.stdout.write(report(flags.model, which, result, names));
  return exitCodes.ok;
}

/**
 * The confusion matrix of `net` on `data`: the prediction is the {@link predictedClass} of the output,
 * so a one-output model is a binary classifier with two rows and columns.
 */
export function confusion(net: Network, data: Dataset): Confusion {
  const outputs = classCount(net.sizes[net.sizes.length - 1]!);
  // a binary model's data may hold only one of its two classes: show both
  const classes = outputs === 2 ? 2 : data.targets.kind === "labels" ? data.targets.classes : data.targets.size;
  const matrix = Array.from({ length: classes }, () => new Array<number>(outputs).fill(0));
  let correct = 0;
  for (let i = 0; i < data.count; i++) {
    const predicted = predictedClass(net.feedforward(data.inputs.subarray(i * data.inputSize, (i + 1) * data.inputSize)));
    const actual = targetClass(data, i);
    matrix[actual]![predicted]!++;
    if (predicted === actual) correct++;
  }
  return { matrix, correct, total: data.count };
}

function report(model: string, which: string, result: Confusion, names: readonly string[] | undefined): string {
  const { matrix, correct, total } = result;
  const label = (c: number): string => (names?.[c] !== undefined ? `${c} ${names[c]}` : String(c));
  const lines = [
    `${model} on the ${which}: ${count(correct)} / ${count(total)} correct (${percent(total === 0 ? 0 : correct / total)})`,
    "",
    table([
      ["class", "examples", "correct", "accuracy"],
      ...matrix.map((row, c) => {
        const n = sum(row);
        return [label(c), count(n), count(row[c] ?? 0), n === 0 ? "-" : percent((row[c] ?? 0) / n)];
      }),
    ]),
    "",
    "confusion matrix (rows: true class, columns: predicted class)",
    table([["", ...matrix[0]!.map((_, p) => String(p))], ...matrix.map((row, c) => [label(c), ...row.map(String)])]),
  ];
  return `${lines.join("\n")}\n`;
}

function sum(row: readonly number[]): number {
  return row.reduce((a, b) => a + b, 0);
}
