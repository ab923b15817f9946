import { createDataset, withCommonClasses, type Dataset } from "../core/dataset.js";
import type { DType } from "../core/layout.js";
import { loadSource, type SourceData } from "../data/source.js";
import type { FlatExamples, PreparedSpec } from "./spec.js";

/** A job's training data and, when the source has one, its test set. */
export type JobData = SourceData;

/**
 * Loads what a prepared spec's `data` names (in the trainer thread): files and named sets through
 * the data resolver the command line uses too (src/data/source.ts), inline data from its flattened
 * arrays. Bad files and values throw the loaders' errors.
 */
export async function loadJobData(data: PreparedSpec["data"], dtype: DType = "float32"): Promise<JobData> {
  if (!("inline" in data)) {
    const { train, test, classNames } = await loadSource({ ...data, dtype });
    // Both sets need the same number of classes, or the network's output size fits only one of them.
    if (test === undefined || !("csv" in data)) return { train, test, ...(classNames && { classNames }) };
    return { ...withCommonClasses({ train, test }), ...(classNames && { classNames }) };
  }
  const train = inline(data.inline.train, "training data");
  const test = data.inline.test && inline(data.inline.test, "test data");
  if (test === undefined) return { train };
  return withCommonClasses({ train, test });
}

function inline(flat: FlatExamples, name: string): Dataset {
  try {
    return flat.labels
      ? createDataset({ inputs: flat.inputs, inputSize: flat.inputSize, labels: flat.labels, classes: flat.classes })
      : createDataset({ inputs: flat.inputs, inputSize: flat.inputSize, targets: flat.targets!, targetSize: flat.targetSize });
  } catch (error) {
    // createDataset's messages say "dataset: …"; say which set it was.
    if (error instanceof Error) error.message = error.message.replace(/^dataset:/, `${name}:`);
    throw error;
  }
}
