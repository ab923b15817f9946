import type { Dropout } from "./dropout.js";
import type { Architecture, Params } from "./layout.js";
import { share } from "./share.js";

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

/**
 * Working memory for one example, reused for the next. Worker threads keep one per example of a
 * mini-batch in shared memory, because other threads read its activations and δs (see addGradient).
 */
export interface Scratch {
  /** The input's non-zero entries: positions in xIndex[0 … xCount[0]), values in xValue. */
  readonly xIndex: Int32Array;
  readonly xValue: Float64Array;
  /** One value, an array so that a scratch can live in shared memory. */
  readonly xCount: Int32Array;
  readonly z: Float64Array[];
  readonly a: Float64Array[];
  readonly delta: Float64Array[];
  /** Target vector y of the current example, filled by the caller. */
  readonly y: Float64Array;
}

/** Working memory for networks with these layer sizes; in `memory` (exampleScratchBytes long) if given. */
export function createScratch(sizes: readonly number[], memory?: { buffer: ArrayBufferLike; offset: number }): Scratch {
  const buffer = memory?.buffer ?? new ArrayBuffer(exampleScratchBytes(sizes));
  let at = memory?.offset ?? 0;
  const f64 = (n: number): Float64Array => {
    const view = new Float64Array(buffer, at, n);
    at += n * 8;
    return view;
  };
  const layers = sizes.slice(1);
  const scratch = {
    xValue: f64(sizes[0]!),
    z: layers.map(f64),
    a: layers.map(f64),
    delta: layers.map(f64),
    y: f64(sizes[sizes.length - 1]!),
  };
  const xIndex = new Int32Array(buffer, at, sizes[0]!);
  const xCount = new Int32Array(buffer, at + 4 * sizes[0]!, 1);
  return { ...scratch, xIndex, xCount };
}

/** Bytes of one {@link Scratch} (a multiple of 8). */
export function exampleScratchBytes(sizes: readonly number[]): number {
  const neurons = sizes.slice(1).reduce((sum, n) => sum + n, 0);
  const int32s = sizes[0]! + 1;
  return 8 * (sizes[0]! + 3 * neurons + sizes[sizes.length - 1]!) + 8 * Math.ceil(int32s / 2);
}

/**
 * Forward pass: z^l = w^l a^(l−1) + b^l, a^l = σ(z^l), from the example at `inputs[offset …]`.
 * Returns the output activations a^L (a view into `scratch`, overwritten by the next call). With
 * `dropout` (training only), every hidden layer's a^l is then masked: a_j ← a_j · c_j.
 */
export function feedforward(
  arch: Architecture,
  params: Params,
  inputs: ArrayLike<number>,
  offset: number,
  scratch: Scratch,
  dropout?: Dropout,
): Float64Array {
  const { sizes, weightOffsets, biasOffsets } = arch.layout;
  const last = sizes.length - 2;

  const { xIndex, xValue } = scratch;
  const count = nonZeroInputs(inputs, offset, sizes[0]!, xIndex, xValue);
  scratch.xCount[0] = count;

  let prev: Float64Array | undefined;
  for (let l = 0; l <= last; l++) {
    const nIn = sizes[l]!;
    const w = weightOffsets[l]!;
    const b = biasOffsets[l]!;
    const z = scratch.z[l]!;
    // z^l = w^l a^(l−1) + b^l
    for (let j = 0; j < z.length; j++) {
      let sum = params[b + j]!;
      const row = w + j * nIn;
      if (prev === undefined) for (let t = 0; t < count; t++) sum += params[row + xIndex[t]!]! * xValue[t]!;
      else for (let k = 0; k < nIn; k++) sum += params[row + k]! * prev[k]!;
      z[j] = sum;
    }
    const a = scratch.a[l]!;
    (l === last ? arch.output : arch.hidden).apply(z, a); // a^l = σ(z^l)
    if (dropout && l < last) dropout.scale(l, a);
    prev = a;
  }
  return prev!;
}

/**
 * The non-zero values of inputs[offset … offset + n) and their positions, in order, into xValue and
 * xIndex; returns how many. Layer 1 visits only these: a zero input adds nothing to z (forward) nor
 * to ∂C/∂w (BP4), and about 80% of MNIST pixels are 0. Exact, not an approximation.
 */
export function nonZeroInputs(inputs: ArrayLike<number>, offset: number, n: number, xIndex: Int32Array, xValue: Float64Array): number {
  let count = 0;
  for (let k = 0; k < n; k++) {
    const v = inputs[offset + k]!;
    if (v !== 0) {
      xIndex[count] = k;
      xValue[count++] = v;
    }
  }
  return count;
}

/**
 * Forward and backward pass for one example with target `scratch.y`: adds ∂C/∂w and ∂C/∂b of this
 * example to `gradient` (same layout as `params`) and returns the example's cost C. With `dropout`,
 * under its current mini-batch's mask.
 */
export function backprop(
  arch: Architecture,
  params: Params,
  inputs: ArrayLike<number>,
  offset: number,
  gradient: Params,
  scratch: Scratch,
  dropout?: Dropout,
): number {
  const cost = forwardAndDeltas(arch, params, inputs, offset, scratch, dropout);
  addGradient(arch, scratch, gradient);
  return cost;
}

/**
 * Forward pass, then BP1 and BP2: leaves δ of every layer (and the activations) in `scratch` and
 * returns the example's cost C. addGradient turns them into ∂C/∂w and ∂C/∂b. With `dropout`, the
 * hidden activations in `scratch` are the masked ones (what the next layer and BP4 read), and BP2
 * is δ_j = ((w^T δ)_j ⊙ σ'(z_j)) · c_j, σ' taken at the neuron's unscaled activation: a dropped
 * neuron's δ is 0, so its weights and bias get no gradient.
 */
export function forwardAndDeltas(
  arch: Architecture,
  params: Params,
  inputs: ArrayLike<number>,
  offset: number,
  scratch: Scratch,
  dropout?: Dropout,
): number {
  const output = feedforward(arch, params, inputs, offset, scratch, dropout);
  const { sizes, weightOffsets } = arch.layout;
  const last = sizes.length - 2;

  // BP1: δ^L = ∇_a C ⊙ σ'(z^L)
  arch.cost.outputDelta(scratch.z[last]!, output, scratch.y, arch.output, scratch.delta[last]!);

  for (let l = last; l > 0; l--) {
    // BP2: δ^(l−1) = ((w^l)^T δ^l) ⊙ σ'(z^(l−1))
    const delta = scratch.delta[l]!;
    const below = scratch.delta[l - 1]!;
    const nIn = sizes[l]!;
    const w = weightOffsets[l]!;
    below.fill(0);
    for (let j = 0; j < delta.length; j++) {
      const d = delta[j]!;
      if (d === 0) continue;
      const row = w + j * nIn;
      for (let k = 0; k < nIn; k++) below[k]! += params[row + k]! * d;
    }
    if (dropout) {
      arch.hidden.scaleByDerivative(scratch.z[l - 1]!, dropout.unscaled[l - 1]!, below);
      dropout.scaleDelta(l - 1, below);
    } else arch.hidden.scaleByDerivative(scratch.z[l - 1]!, scratch.a[l - 1]!, below);
  }
  return arch.cost.value(output, scratch.y);
}

/**
 * BP3 and BP4 for the example whose δs are in `scratch`: ∂C/∂b_j = δ_j and ∂C/∂w_jk = a_k^(l−1) δ_j,
 * added to `gradient`. With `part`, only the neurons j of every layer that worker `part.index` of
 * `part.count` owns (a contiguous share, see {@link share}) are done: the threads of a run split a
 * mini-batch's gradient this way, each summing every example's contribution to its own neurons.
 */
export function addGradient(
  arch: Architecture,
  scratch: Scratch,
  gradient: Params,
  part: { readonly index: number; readonly count: number } = { index: 0, count: 1 },
): void {
  const { sizes, weightOffsets, biasOffsets } = arch.layout;
  const { xIndex, xValue } = scratch;
  const xCount = scratch.xCount[0]!;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const delta = scratch.delta[l]!;
    const prev = l === 0 ? undefined : scratch.a[l - 1]!;
    const nIn = sizes[l]!;
    const w = weightOffsets[l]!;
    const b = biasOffsets[l]!;
    const { from, to } = share(delta.length, part.index, part.count);
    for (let j = from; j < to; j++) {
      const d = delta[j]!;
      gradient[b + j]! += d; // BP3
      if (d === 0) continue; // a zero δ_j adds nothing to row j (common with relu)
      const row = w + j * nIn;
      // BP4 (layer 1: only the non-zero inputs)
      if (prev === undefined) for (let t = 0; t < xCount; t++) gradient[row + xIndex[t]!]! += d * xValue[t]!;
      else for (let k = 0; k < nIn; k++) gradient[row + k]! += d * prev[k]!;
    }
  }
}
