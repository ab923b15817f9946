import type { Activation } from "./activations.js";
import type { Cost } from "./costs.js";

/*
 * The shapes every part of the maths shares — the parameter vector and where each layer lives in
 * it — with no dependency on the network class, the kernels or the data, so that each of them can
 * import these without importing the others (src/core has no import cycle).
 */

/** Element type of the parameter vector. */
export type DType = "float32" | "float64";
export const dtypes: readonly DType[] = ["float32", "float64"];

/** The flat parameter vector: every layer's weights and biases, back to back. */
export type Params = Float32Array | Float64Array;

/**
 * Where each layer lives in the flat parameter vector. Layer l (0-based, l = 0 … L−1 for
 * L = sizes.length − 1 weight layers) maps sizes[l] inputs to sizes[l+1] neurons: its weights are a
 * sizes[l+1] × sizes[l] row-major matrix (w_jk: row j = neuron, column k = input, as in the notes),
 * followed by its sizes[l+1] biases.
 */
export interface Layout {
  readonly sizes: readonly number[];
  readonly weightOffsets: readonly number[];
  readonly biasOffsets: readonly number[];
  readonly paramCount: number;
}

/** The layout of a network with these layer sizes. */
export function layoutOf(sizes: readonly number[]): Layout {
  const weightOffsets: number[] = [];
  const biasOffsets: number[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    weightOffsets.push(offset);
    offset += sizes[l]! * sizes[l + 1]!;
    biasOffsets.push(offset);
    offset += sizes[l + 1]!;
  }
  return { sizes, weightOffsets, biasOffsets, paramCount: offset };
}

/** What the kernel needs to run a network: its layout and its functions. */
export interface Architecture {
  readonly layout: Layout;
  readonly hidden: Activation;
  readonly output: Activation;
  readonly cost: Cost;
}

/** A parameter vector of the given type: fresh, or a view of `buffer` from `byteOffset`. */
export function allocateParams(dtype: DType, length: number, buffer?: ArrayBufferLike, byteOffset = 0): Params {
  if (buffer) {
    return dtype === "float32" ? new Float32Array(buffer, byteOffset, length) : new Float64Array(buffer, byteOffset, length);
  }
  return dtype === "float32" ? new Float32Array(length) : new Float64Array(length);
}
