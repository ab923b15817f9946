/* Which class an output (or target) vector stands for: no dependency, so the data, the kernels and
 * the network all use these without importing each other. */

/** Index of the largest value (the first, on ties). */
export function argmax(values: ArrayLike<number>, offset = 0, length = values.length - offset): number {
  let best = 0;
  for (let j = 1; j < length; j++) if (values[offset + j]! > values[offset + best]!) best = j;
  return best;
}

/**
 * The class an output (or target) vector stands for: the index of its largest value, except that a
 * single value is a binary classifier's, class 1 when ≥ 0.5 and class 0 below (Keras' binary
 * accuracy). The argmax of one value would always be 0. Every prediction and accuracy goes through here.
 */
export function predictedClass(values: ArrayLike<number>, offset = 0, length = values.length - offset): number {
  if (length === 1) return values[offset]! >= 0.5 ? 1 : 0;
  return argmax(values, offset, length);
}

/** How many classes a network with `outputs` output neurons tells apart: one output is a binary classifier. */
export function classCount(outputs: number): number {
  return outputs === 1 ? 2 : outputs;
}
