import type { Params } from "./layout.js";

/**
 * The gradient-descent step of mini-batch SGD over parameters [from, to):
 *   w ← w − (η/m) Σ_x ∂C_x/∂w,  b ← b − (η/m) Σ_x ∂C_x/∂b
 * where `gradient` holds the mini-batch's per-example gradients already summed and `scale` is η/m.
 * The consumed gradient entries are reset to zero, ready for the next mini-batch.
 * Returns false if any new parameter is NaN or infinite (for the divergence guard).
 */
export function descend(params: Params, gradient: Params, from: number, to: number, scale: number): boolean {
  let finite = true;
  for (let i = from; i < to; i++) {
    params[i]! -= scale * gradient[i]!;
    gradient[i] = 0;
    if (!Number.isFinite(params[i]!)) finite = false; // read back: a float32 store can overflow to ∞
  }
  return finite;
}

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
