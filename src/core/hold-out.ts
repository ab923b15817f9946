import { pickExamples, sliceDataset, type Dataset } from "./dataset.js";
import { check } from "./errors.js";
import { Rng } from "./rng.js";

/**
 * Which training examples a validation set holds out: `random`, n drawn with the run's seed (safe on
 * a file sorted by class), or `last`, the last n (Nielsen's 50,000 / 10,000 split of MNIST's 60,000).
 */
export type ValidationSplit = "random" | "last";

/** The ways to split, for validation messages. */
export const validationSplits: readonly ValidationSplit[] = ["random", "last"];

/**
 * Splits `n` training examples off as a validation set, as `split` says. Both parts keep the data's
 * order; a random split depends only on `seed`, so a resumed run (or the same job again) gets the
 * same one. Used by `shoal train --validation` and by job specs' `validation`.
 */
export function holdOut(train: Dataset, n: number, split: ValidationSplit, seed: number): { train: Dataset; validation: Dataset } {
  check(n < train.count, `validation ${n} leaves no training examples: the training set has ${train.count}`);
  if (split === "last") return { train: sliceDataset(train, 0, train.count - n), validation: sliceDataset(train, train.count - n) };
  // a partial Fisher–Yates shuffle: its first n places are a uniform sample of n examples
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++) {
    const j = i + rng.below(train.count - i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const held = order.subarray(0, n).sort();
  const kept = order.subarray(n).sort();
  return { train: pickExamples(train, kept), validation: pickExamples(train, held) };
}
