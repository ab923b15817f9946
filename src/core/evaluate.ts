import { createScratch, feedforward, type Scratch } from "./backprop.js";
import { predictedClass } from "./classes.js";
import { targetClass, type Dataset } from "./dataset.js";
import type { Architecture, Params } from "./layout.js";

/** Classification result on a dataset: the network's answer is the {@link predictedClass} of its output. */
export interface Evaluation {
  readonly correct: number;
  readonly total: number;
  /** correct / total (0 for an empty dataset). */
  readonly accuracy: number;
}

/** How many of examples [from, to) the network classifies correctly. */
export function countCorrect(
  arch: Architecture,
  params: Params,
  data: Dataset,
  from = 0,
  to = data.count,
  scratch: Scratch = createScratch(arch.layout.sizes),
): number {
  let correct = 0;
  for (let i = from; i < to; i++) {
    const output = feedforward(arch, params, data.inputs, i * data.inputSize, scratch);
    if (predictedClass(output) === targetClass(data, i)) correct++;
  }
  return correct;
}

/** Wraps a count of correct answers as an {@link Evaluation}. */
export function evaluation(correct: number, total: number): Evaluation {
  return { correct, total, accuracy: total === 0 ? 0 : correct / total };
}
