import { createDataset, sliceDataset, type Dataset } from "../core/dataset.js";
import { loadCsv } from "../data/csv.js";
import { fashionMnistClasses, loadFashionMnist, loadIdxFolder } from "../data/fashion-mnist.js";
import { loadMnistDigits } from "../data/mnist.js";
import type { FlatExamples, PreparedSpec } from "./spec.js";

/** A job's training data and, when the source has one, its test set. */
export interface JobData {
  train: Dataset;
  test?: Dataset;
  /** The classes' names, when the source has them (Fashion-MNIST, CSV text labels). */
  classNames?: readonly string[];
}

/** Loads what a prepared spec's `data` names (in the trainer thread). Bad files and values throw the loaders' errors. */
export async function loadJobData(data: PreparedSpec["data"]): Promise<JobData> {
  if ("name" in data) {
    const { train, test } = data.name === "mnist" ? await loadMnistDigits() : await loadFashionMnist({ limit: data.limit, testLimit: data.testLimit });
    const named = { train: head(train, data.limit), test: emptyToNone(head(test, data.testLimit)) };
    return data.name === "fashion-mnist" ? { ...named, classNames: fashionMnistClasses } : named;
  }
  if ("idx" in data) {
    const { train, test } = await loadIdxFolder(data.idx, { limit: data.limit, testLimit: data.testLimit, classes: data.classes });
    return { train, test: emptyToNone(test) };
  }
  if ("csv" in data) {
    const options = { labelColumn: data.labelColumn, scale: data.scale, separator: data.separator, classes: data.classes, header: data.header };
    const full = await loadCsv(data.csv, options);
    const names = full.classNames && { classNames: full.classNames };
    const train = head(full, data.limit);
    if (data.test === undefined) return { train, ...names };
    // Both sets need the same number of classes, or the network's output size fits only one of them;
    // the test file's text labels are numbered as the training file's.
    const test = head(await loadCsv(data.test, { ...options, ...names }), data.testLimit);
    const classes = Math.max(classesOf(train), classesOf(test));
    return { train: withClasses(train, classes), test: emptyToNone(withClasses(test, classes)), ...names };
  }
  const train = inline(data.inline.train, "training data");
  const test = data.inline.test && inline(data.inline.test, "test data");
  if (test === undefined) return { train };
  const classes = Math.max(classesOf(train), classesOf(test));
  return { train: withClasses(train, classes), test: withClasses(test, classes) };
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

function head(data: Dataset, limit: number | undefined): Dataset {
  return limit === undefined || limit >= data.count ? data : sliceDataset(data, 0, limit);
}

function emptyToNone(data: Dataset): Dataset | undefined {
  return data.count === 0 ? undefined : data;
}

function classesOf(data: Dataset): number {
  return data.targets.kind === "labels" ? data.targets.classes : data.targets.size;
}

function withClasses(data: Dataset, classes: number): Dataset {
  if (data.targets.kind !== "labels" || data.targets.classes === classes) return data;
  return { ...data, targets: { ...data.targets, classes } };
}
