import type { Architecture, Params } from "./network.js";

/**
 * The kernel: one example's forward pass and backward pass (BP1–BP4), as pure functions over typed
 * arrays. The in-process trainer and every worker thread call these same functions.
 *
 * Shapes, for a network with layer sizes n_0 … n_L:
 *   input  x       n_0 values of `inputs` starting at `offset`
 *   z[l], a[l]     n_(l+1) values: weighted input and activation of layer l+1 (l = 0 … L−1)
 *   delta[l]       n_(l+1) values: δ = ∂C/∂z of that layer
 *   gradient       same layout as the parameters: ∂C/∂w and ∂C/∂b, accumulated (+=)
 */

/** Per-thread working memory for the kernel; reused for every example. */
export interface Scratch {
  readonly x: Float64Array;
  readonly z: Float64Array[];
  readonly a: Float64Array[];
  readonly delta: Float64Array[];
  /** Target vector y of the current example, filled by the caller. */
  readonly y: Float64Array;
}

/** Working memory for networks with these layer sizes. */
export function createScratch(sizes: readonly number[]): Scratch {
  const layers = sizes.slice(1).map((n) => n);
  return {
    x: new Float64Array(sizes[0]!),
    z: layers.map((n) => new Float64Array(n)),
    a: layers.map((n) => new Float64Array(n)),
    delta: layers.map((n) => new Float64Array(n)),
    y: new Float64Array(sizes[sizes.length - 1]!),
  };
}

/**
 * Forward pass: z^l = w^l a^(l−1) + b^l, a^l = σ(z^l), from the example at `inputs[offset …]`.
 * Returns the output activations a^L (a view into `scratch`, overwritten by the next call).
 */
export function feedforward(
  arch: Architecture,
  params: Params,
  inputs: ArrayLike<number>,
  offset: number,
  scratch: Scratch,
): Float64Array {
  const { sizes, weightOffsets, biasOffsets } = arch.layout;
  const last = sizes.length - 2;
  const x = scratch.x;
  for (let k = 0; k < x.length; k++) x[k] = inputs[offset + k]!;

  let prev = x;
  for (let l = 0; l <= last; l++) {
    const nIn = sizes[l]!;
    const w = weightOffsets[l]!;
    const b = biasOffsets[l]!;
    const z = scratch.z[l]!;
    for (let j = 0; j < z.length; j++) {
      let sum = params[b + j]!;
      const row = w + j * nIn;
      for (let k = 0; k < nIn; k++) sum += params[row + k]! * prev[k]!;
      z[j] = sum;
    }
    const a = scratch.a[l]!;
    (l === last ? arch.output : arch.hidden).apply(z, a);
    prev = a;
  }
  return prev;
}

/**
 * Forward and backward pass for one example with target `scratch.y`: adds ∂C/∂w and ∂C/∂b of this
 * example to `gradient` (same layout as `params`) and returns the example's cost C.
 */
export function backprop(
  arch: Architecture,
  params: Params,
  inputs: ArrayLike<number>,
  offset: number,
  gradient: Params,
  scratch: Scratch,
): number {
  const output = feedforward(arch, params, inputs, offset, scratch);
  const { sizes, weightOffsets, biasOffsets } = arch.layout;
  const last = sizes.length - 2;

  // BP1: δ^L = ∇_a C ⊙ σ'(z^L)
  arch.cost.outputDelta(scratch.z[last]!, output, scratch.y, arch.output, scratch.delta[last]!);

  for (let l = last; l >= 0; l--) {
    const delta = scratch.delta[l]!;
    const prev = l === 0 ? scratch.x : scratch.a[l - 1]!;
    const nIn = sizes[l]!;
    const w = weightOffsets[l]!;
    const b = biasOffsets[l]!;
    for (let j = 0; j < delta.length; j++) {
      const d = delta[j]!;
      gradient[b + j]! += d; // BP3: ∂C/∂b_j = δ_j
      if (d === 0) continue; // a zero δ_j adds nothing to row j (common with relu)
      const row = w + j * nIn;
      for (let k = 0; k < nIn; k++) gradient[row + k]! += d * prev[k]!; // BP4: ∂C/∂w_jk = a_k^(l−1) δ_j
    }
    if (l === 0) break;

    // BP2: δ^(l−1) = ((w^l)^T δ^l) ⊙ σ'(z^(l−1)), with the weights as they were in the forward pass
    const below = scratch.delta[l - 1]!;
    below.fill(0);
    for (let j = 0; j < delta.length; j++) {
      const d = delta[j]!;
      if (d === 0) continue;
      const row = w + j * nIn;
      for (let k = 0; k < nIn; k++) below[k]! += params[row + k]! * d;
    }
    arch.hidden.scaleByDerivative(scratch.z[l - 1]!, scratch.a[l - 1]!, below);
  }
  return arch.cost.value(output, scratch.y);
}

/** Index of the largest value (the first, on ties): the predicted class. */
export function argmax(values: ArrayLike<number>, offset = 0, length = values.length - offset): number {
  let best = 0;
  for (let j = 1; j < length; j++) if (values[offset + j]! > values[offset + best]!) best = j;
  return best;
}
