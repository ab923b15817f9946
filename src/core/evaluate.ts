import { createScratch, feedforward, type Scratch } from "./backprop.js";
import { predictedClass } from "./classes.js";
import { fillTarget, targetClass, type Dataset } from "./dataset.js";
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

/**
 * The mean cost C of the network over `data`'s examples, summed in example order (without the L2
 * term network2.py adds to its monitored costs; 0 for an empty dataset).
 */
export function meanCost(arch: Architecture, params: Params, data: Dataset, scratch: Scratch = createScratch(arch.layout.sizes)): number {
  let sum = 0;
  for (let i = 0; i < data.count; i++) {
    const output = feedforward(arch, params, data.inputs, i * data.inputSize, scratch);
    fillTarget(data, i, scratch.y);
    sum += arch.cost.value(output, scratch.y);
  }
  return data.count === 0 ? 0 : sum / data.count;
}

/** Wraps a count of correct answers as an {@link Evaluation}. */
export function evaluation(correct: number, total: number): Evaluation {
  return { correct, total, accuracy: total === 0 ? 0 : correct / total };
}
