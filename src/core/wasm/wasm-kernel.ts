import { readFileSync } from "node:fs";
import type { Architecture, Layout, Params } from "../network.js";

/**
 * The float32 WebAssembly SIMD kernel (kernel.wat) and its JavaScript side. The maths is the same
 * as backprop.ts — BP1–BP4, one example at a time — but the parameters live in shared wasm memory
 * in the "kernel layout": every layer's weights transposed to n_in rows of `np` floats (np = n_out
 * rounded up to a multiple of 4, pads zero), then its np biases. Gradients use the same layout, and
 * the SGD step is elementwise, so it does not care about the layout; only copying parameters in
 * and out of a run converts (pack/unpack).
 */

/** Where each layer lives in the kernel layout, in floats. */
export interface KernelLayout {
  readonly sizes: readonly number[];
  /** n_out rounded up to a multiple of 4, per layer. */
  readonly padded: readonly number[];
  readonly weightOffsets: readonly number[];
  readonly biasOffsets: readonly number[];
  /** Total floats (a multiple of 4). */
  readonly paramCount: number;
}

/** The kernel layout of a network with these layer sizes. */
export function kernelLayoutOf(sizes: readonly number[]): KernelLayout {
  const padded: number[] = [];
  const weightOffsets: number[] = [];
  const biasOffsets: number[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const np = Math.ceil(sizes[l + 1]! / 4) * 4;
    padded.push(np);
    weightOffsets.push(offset);
    offset += sizes[l]! * np;
    biasOffsets.push(offset);
    offset += np;
  }
  return { sizes, padded, weightOffsets, biasOffsets, paramCount: offset };
}

/** Copies canonical parameters (row-major w_jk, then b) into kernel layout. */
export function pack(layout: Layout, params: Params, kernel: KernelLayout, out: Float32Array): void {
  out.fill(0);
  for (let l = 0; l < kernel.padded.length; l++) {
    const nIn = layout.sizes[l]!;
    const nOut = layout.sizes[l + 1]!;
    const np = kernel.padded[l]!;
    const w = layout.weightOffsets[l]!;
    const wt = kernel.weightOffsets[l]!;
    for (let j = 0; j < nOut; j++) for (let k = 0; k < nIn; k++) out[wt + k * np + j] = params[w + j * nIn + k]!;
    out.set(params.subarray(layout.biasOffsets[l]!, layout.biasOffsets[l]! + nOut), kernel.biasOffsets[l]!);
  }
}

/** Copies kernel-layout parameters back into the canonical layout. */
export function unpack(kernel: KernelLayout, from: Float32Array, layout: Layout, params: Params): void {
  for (let l = 0; l < kernel.padded.length; l++) {
    const nIn = layout.sizes[l]!;
    const nOut = layout.sizes[l + 1]!;
    const np = kernel.padded[l]!;
    const w = layout.weightOffsets[l]!;
    const wt = kernel.weightOffsets[l]!;
    for (let j = 0; j < nOut; j++) for (let k = 0; k < nIn; k++) params[w + j * nIn + k] = from[wt + k * np + j]!;
    params.set(from.subarray(kernel.biasOffsets[l]!, kernel.biasOffsets[l]! + nOut), layout.biasOffsets[l]!);
  }
}

interface Exports {
  gather(x: number, n: number, idx: number, val: number): number;
  forward(wt: number, b: number, idx: number, val: number, count: number, z: number, np: number): void;
  accumulate(gt: number, gb: number, idx: number, val: number, count: number, delta: number, np: number): void;
  backward(wt: number, n: number, delta: number, out: number, np: number): void;
  descend(params: number, grads: number, regions: number, stride: number, from: number, to: number, scale: number): number;
}

let compiled: WebAssembly.Module | undefined;

/** The compiled kernel module (built from kernel.wat by `npm run build:wasm`). */
export function kernelModule(): WebAssembly.Module {
  if (compiled === undefined) {
    const file = new URL("./kernel.wasm", import.meta.url);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw new Error(`the WebAssembly kernel ${file.pathname} is missing: run \`npm run build:wasm\``, { cause: error });
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** Bytes of per-thread working memory the kernel needs for these layer sizes. */
export function scratchBytes(kernel: KernelLayout): number {
  const n0 = kernel.sizes[0]!;
  const widest = Math.max(...kernel.sizes);
  return 4 * (2 * n0 + widest + 3 * kernel.padded.reduce((sum, np) => sum + np, 0)) + 16 * (3 * kernel.padded.length + 3);
}

/** Writes 0, 1, … into the identity index vector that dense layers use as their "non-zero" list. */
function fillIdentity(view: Int32Array): void {
  for (let k = 0; k < view.length; k++) view[k] = k;
}

/**
 * One thread's instance of the kernel over a shared memory: its own scratch at `scratch` (bytes,
 * {@link scratchBytes} long), the parameters at `params`, gradient regions `stride` bytes apart
 * from `gradients` (all byte offsets, 16-aligned).
 */
export class WasmKernel {
  private readonly wasm: Exports;
  private readonly idx: number;
  private readonly val: number;
  /** Non-zero inputs of the example last run forward (their positions and values are in idx, val). */
  private count = 0;
  private readonly identity: number;
  private readonly z: number[] = [];
  private readonly a: number[] = [];
  private readonly delta: number[] = [];
  private readonly zView: Float32Array[] = [];
  private readonly aView: Float32Array[] = [];
  private readonly deltaView: Float32Array[] = [];

  constructor(
    memory: WebAssembly.Memory,
    private readonly arch: Architecture,
    private readonly kernel: KernelLayout,
    private readonly params: number,
    private readonly gradients: number,
    private readonly stride: number,
    private readonly regions: number,
    scratch: number,
  ) {
    this.wasm = new WebAssembly.Instance(kernelModule(), { env: { memory } }).exports as unknown as Exports;
    const buffer = memory.buffer;
    const n0 = kernel.sizes[0]!;
    const widest = Math.max(...kernel.sizes);
    let at = scratch;
    const take = (floats: number): number => {
      const start = at;
      at += Math.ceil((floats * 4) / 16) * 16;
      return start;
    };
    this.idx = take(n0);
    this.val = take(n0);
    this.identity = take(widest);
    fillIdentity(new Int32Array(buffer, this.identity, widest));
    kernel.padded.forEach((np, l) => {
      const n = kernel.sizes[l + 1]!;
      this.z.push(take(np));
      this.a.push(take(np));
      this.delta.push(take(np));
      this.zView.push(new Float32Array(buffer, this.z[l]!, n));
      this.aView.push(new Float32Array(buffer, this.a[l]!, n));
      this.deltaView.push(new Float32Array(buffer, this.delta[l]!, n));
      new Float32Array(buffer, this.delta[l]!, np).fill(0); // pads of δ stay 0, so pads of ∂C/∂w stay 0
    });
  }

  /** Forward pass of the example at byte offset `x`; returns a view of the output activations a^L. */
  forward(x: number): Float32Array {
    const { wasm, kernel, arch } = this;
    const last = kernel.padded.length - 1;
    this.count = wasm.gather(x, kernel.sizes[0]!, this.idx, this.val);
    let count = this.count;
    let idx = this.idx;
    let val = this.val;
    for (let l = 0; l <= last; l++) {
      const p = this.params;
      // z^l = w^l a^(l−1) + b^l, then a^l = σ(z^l)
      wasm.forward(p + 4 * kernel.weightOffsets[l]!, p + 4 * kernel.biasOffsets[l]!, idx, val, count, this.z[l]!, kernel.padded[l]!);
      (l === last ? arch.output : arch.hidden).apply(this.zView[l]!, this.aView[l]!);
      idx = this.identity;
      val = this.a[l]!;
      count = kernel.sizes[l + 1]!;
    }
    return this.aView[last]!;
  }

  /**
   * Forward and backward pass for the example at byte offset `x` with target y: adds its ∂C/∂w and
   * ∂C/∂b to gradient region `region` and returns its cost.
   */
  backprop(x: number, y: Float64Array, region: number): number {
    const { wasm, kernel, arch } = this;
    const output = this.forward(x);
    const last = kernel.padded.length - 1;
    const g = this.gradients + region * this.stride;
    // BP1: δ^L = ∇_a C ⊙ σ'(z^L)
    arch.cost.outputDelta(this.zView[last]!, output, y, arch.output, this.deltaView[last]!);
    for (let l = last; l >= 0; l--) {
      const np = kernel.padded[l]!;
      const first = l === 0;
      const count = first ? this.count : kernel.sizes[l]!;
      // BP3 and BP4 (layer 1 over its non-zero inputs only)
      wasm.accumulate(
        g + 4 * kernel.weightOffsets[l]!, g + 4 * kernel.biasOffsets[l]!,
        first ? this.idx : this.identity, first ? this.val : this.a[l - 1]!, count, this.delta[l]!, np,
      );
      if (first) break;
      // BP2: δ^(l−1) = ((w^l)^T δ^l) ⊙ σ'(z^(l−1))
      wasm.backward(this.params + 4 * kernel.weightOffsets[l]!, kernel.sizes[l]!, this.delta[l]!, this.delta[l - 1]!, np);
      arch.hidden.scaleByDerivative(this.zView[l - 1]!, this.aView[l - 1]!, this.deltaView[l - 1]!);
    }
    return arch.cost.value(output, y);
  }

  /**
   * The SGD step over kernel-layout floats [from, to) (multiples of 4), summing every region.
   * Returns false if a new weight is NaN or infinite.
   */
  descend(from: number, to: number, scale: number): boolean {
    return this.wasm.descend(this.params, this.gradients, this.regions, this.stride, from, to, scale) === 0;
  }
}
