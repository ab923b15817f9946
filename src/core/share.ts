/*
 * How the threads of a run divide work: each owns a contiguous part of a range (each layer's neurons,
 * so its rows of the parameters and of the gradient; the test set's examples). Both kernels and the
 * workers cut with these, so they agree on who owns what; no dependency, so any of them may import it.
 */

/** The part [from, to) of `length` items that worker `index` of `count` owns: contiguous, sizes differ by at most one. */
export function share(length: number, index: number, count: number): { from: number; to: number } {
  return { from: Math.floor((index * length) / count), to: Math.floor(((index + 1) * length) / count) };
}

/**
 * The part [from, to) of items [0, weights.length) that worker `index` of `count` owns: contiguous,
 * cut where the running total of `weights` (the work each item costs) crosses index · total / count.
 */
export function weightedShare(weights: ArrayLike<number>, index: number, count: number): { from: number; to: number } {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i]!;
  if (total === 0) return share(weights.length, index, count);
  const cut = (k: number): number => {
    if (k === 0) return 0;
    if (k === count) return weights.length;
    let sum = 0;
    let i = 0;
    while (i < weights.length && sum + weights[i]! / 2 < (k * total) / count) sum += weights[i++]!;
    return i;
  };
  return { from: cut(index), to: cut(index + 1) };
}
