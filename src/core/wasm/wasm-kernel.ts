import { readFileSync } from "node:fs";
import type { Dropout } from "../dropout.js";
import { allocateParams, type Architecture, type DType, type Layout, type Params } from "../network.js";
import { share, weightedShare } from "../share.js";
import { abi, abis, kernelFiles } from "./abi.js";

/**
 * The WebAssembly SIMD kernels (kernel.wat: float32 and float64) and their JavaScript side. The
 * maths is the same as backprop.ts — BP1–BP4, one example at a time — but the parameters live in
 * shared wasm memory in the "kernel layout": every layer's weights transposed to n_in rows of `np`
 * floats (np = n_out rounded up to a multiple of 4, pads zero), then its np biases. Gradients use
 * the same layout, and the SGD step is elementwise, so it does not care about the layout; only
 * copying parameters in and out of a run converts (pack/unpack). The float64 kernel leaves every
 * O(neurons) step to the TypeScript kernel's own functions and makes its O(weights) sums in
 * backprop.ts's order, so its runs have the TypeScript kernel's bits.
 */

/** Where each layer lives in the kernel layout, in floats. */
export interface KernelLayout {
  readonly sizes: readonly number[];
  /** The element type, and its bytes. */
  readonly dtype: DType;
  readonly bytes: 4 | 8;
  /** n_out rounded up to a multiple of 4, per layer. */
  readonly padded: readonly number[];
  readonly weightOffsets: readonly number[];
  readonly biasOffsets: readonly number[];
  /** Total floats (a multiple of 4). */
  readonly paramCount: number;
}

/** The kernel layout of a network with these layer sizes, of float32 or float64 elements. */
export function kernelLayoutOf(sizes: readonly number[], dtype: DType = "float32"): KernelLayout {
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
  return { sizes, dtype, bytes: dtype === "float32" ? 4 : 8, padded, weightOffsets, biasOffsets, paramCount: offset };
}

/** Copies canonical parameters (row-major w_jk, then b) into kernel layout. */
export function pack(layout: Layout, params: Params, kernel: KernelLayout, out: Params): void {
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
export function unpack(kernel: KernelLayout, from: Params, layout: Layout, params: Params): void {
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

/** The kernel module's functions (kernel.wat), all addresses byte offsets into the shared memory. */
export interface KernelExports {
  gather(x: number, n: number, idx: number, val: number): number;
  forward(wt: number, b: number, idx: number, val: number, count: number, z: number, np: number): void;
  accumulateBatch(
    g: number, gb: number, slots: number, stride: number, count: number,
    delta: number, prev: number, from: number, end: number, identity: number, np: number, bias: number,
  ): void;
  backward(wt: number, n: number, delta: number, out: number, np: number, a: number): void;
  quadraticSigmoidOutput(a: number, y: number, delta: number, n: number): number;
  update(params: number, grads: number, rows: number, np: number, scale: number, decay: number, vgap: number, mu: number): number;
  sigmoid(z: number, a: number, n: number): void;
  stepLayer(
    wt: number, wb: number, slots: number, stride: number, count: number, delta: number, prev: number,
    from: number, end: number, np: number, bias: number, scale: number, decay: number, list: number, heads: number,
    vgap: number, mu: number,
  ): number;
}

const compiled: Partial<Record<DType, WebAssembly.Module>> = {};

/**
 * Uses `module`, compiled by another thread of this process, as this thread's `dtype` kernel module
 * (a compiled module crosses threads without being compiled again, and V8 shares its optimised code).
 */
export function adoptKernelModule(module: WebAssembly.Module, dtype: DType = "float32"): void {
  compiled[dtype] ??= module;
}

/** The compiled float32 or float64 kernel module (built from kernel.wat by `npm run build:wasm`). */
export function kernelModule(dtype: DType = "float32"): WebAssembly.Module {
  let module = compiled[dtype];
  if (module === undefined) {
    const file = new URL(`./${kernelFiles[dtype]}`, import.meta.url);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw new Error(`the WebAssembly kernel ${file.pathname} is missing: run \`npm run build:wasm\``, { cause: error });
    }
    module = compiled[dtype] = new WebAssembly.Module(bytes);
  }
  return module;
}

/**
 * An instance of the `dtype` kernel over `memory`, for code that drives its functions directly (the
 * neuron split). The float64 kernel has no `sigmoid` nor `quadraticSigmoidOutput`, and its
 * `backward` takes no activations (a = 0).
 */
export function instantiateKernel(memory: WebAssembly.Memory, dtype: DType = "float32"): KernelExports {
  return new WebAssembly.Instance(kernelModule(dtype), { env: { memory } }).exports as unknown as KernelExports;
}

const aligned = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * Inputs stored by their non-zero entries (compressed sparse rows): example i's are entries
 * [offsets[i], offsets[i + 1]), at positions `indices` (int32) with `values` (the kernel's floats).
 * Byte offsets.
 */
export interface SparseInputs {
  /** How many examples (rows). */
  readonly count: number;
  /** The most non-zero entries of any one example. */
  readonly most: number;
  readonly offsets: number;
  readonly indices: number;
  readonly values: number;
}

/**
 * Bytes of one example slot: where the example's non-zero inputs are (positions, values, count) and
 * the activations and δ of every layer. The slots of a mini-batch are shared: the thread that ran an
 * example writes its slot, and after a barrier every thread reads all of them.
 */
export function slotBytes(kernel: KernelLayout): number {
  return abis[kernel.dtype].slotHeaderBytes + kernel.padded.reduce((sum, np) => sum + 2 * aligned(kernel.bytes * np), 0);
}

/**
 * Bytes of per-thread private memory the kernel needs: z of every layer, index vectors, the target
 * (float64), one slot, and step's lists: a head per input, and an entry per non-zero input of every slot
 * (`mostInputs`: the most non-zero inputs of one training example).
 */
export function threadScratchBytes(kernel: KernelLayout, slotCount: number, mostInputs: number): number {
  const widest = Math.max(...kernel.sizes);
  const n0 = kernel.sizes[0]!;
  const e = kernel.bytes;
  return kernel.padded.reduce((sum, np) => sum + aligned(e * np), 0) + aligned(4 * widest) + 2 * aligned(4 * n0) + aligned(e * n0) + aligned(8 * kernel.sizes.at(-1)!) + slotBytes(kernel) +
    aligned(abis[kernel.dtype].entryBytes * slotCount * Math.max(1, mostInputs));
}

/** One example's slot: byte offsets into the memory, and views for the activation functions. */
interface Slot {
  /** Three int32s: byte offsets of the example's non-zero positions and values, and their count. */
  readonly inputs: number;
  readonly a: number[];
  readonly delta: number[];
  readonly aView: Params[];
  readonly deltaView: Params[];
}

/** The slot at byte offset `at`. Its memory must start zeroed (as fresh memory is): nothing writes the
 * pads of a and δ (past n), so the pads of z, ∂C/∂w and w stay 0 too. */
function slotAt(buffer: ArrayBufferLike, kernel: KernelLayout, at: number): Slot {
  const slot: Slot = { inputs: at, a: [], delta: [], aView: [], deltaView: [] };
  at += abis[kernel.dtype].slotHeaderBytes;
  kernel.padded.forEach((np, l) => {
    const n = kernel.sizes[l + 1]!;
    const bytes = aligned(kernel.bytes * np);
    slot.a.push(at);
    slot.delta.push(at + bytes);
    at += 2 * bytes;
    slot.aView.push(allocateParams(kernel.dtype, n, buffer, slot.a[l]!));
    slot.deltaView.push(allocateParams(kernel.dtype, n, buffer, slot.delta[l]!));
  });
  return slot;
}

/**
 * One layer's part for one thread, as accumulateBatch and stepLayer take it: the layer's weights
 * and biases (bytes into the parameters or a gradient), its padded width, the thread's weight rows
 * [from, end) and whether it owns the biases (1) or not (0), and where δ^l and a^(l−1) are in a
 * slot (bytes from its start; layer 1 reads the slot's non-zero inputs instead: −1).
 */
interface LayerPart {
  readonly weights: number;
  readonly biases: number;
  readonly np: number;
  readonly from: number;
  readonly end: number;
  readonly bias: number;
  readonly delta: number;
  readonly prev: number;
}

/** Where one thread's data, parameters and example slots are (byte offsets, 16-aligned). */
export interface KernelMemory {
  readonly memory: WebAssembly.Memory;
  /** The training inputs, by their non-zero entries. */
  readonly inputs: SparseInputs;
  readonly params: number;
  /**
   * With momentum: the velocities, one per parameter in the same kernel layout (this thread's rows
   * are the only ones it reads or writes), and μ.
   */
  readonly momentum?: { readonly velocities: number; readonly mu: number };
  /** This thread's own gradient buffer (kernel layout); only its rows are used. */
  readonly gradient: number;
  /** Slot 0 of the mini-batch's example slots, each slotBytes long. */
  readonly slots: number;
  readonly slotCount: number;
  /** This thread's private memory, threadScratchBytes(kernel, slotCount, inputs.most) long. */
  readonly scratch: number;
}

/**
 * One thread's instance of the kernel over a shared memory. Each layer's parameters are n_in + 1
 * rows in the kernel layout (n_in weight rows, then the biases); thread `part.index` of
 * `part.count` owns a contiguous share of each layer's rows (for layer 1, a share of the work its
 * rows cost over the training set), sums the gradient of every example of
 * the mini-batch into those rows (accumulate) and applies the SGD step to them (update).
 */
export class WasmKernel {
  private readonly wasm: KernelExports;
  private readonly identity: number;
  private readonly z: number[] = [];
  private readonly zView: Params[] = [];
  private readonly slots: Slot[] = [];
  /** The private slot and non-zero lists that forward() uses for a dense example. */
  private readonly own: Slot;
  private readonly ownIdx: number;
  private readonly ownVal: number;
  /** step's private lists: layer 1's list heads (one per input, 0 between steps), and the entries (the rest of the scratch). */
  private readonly heads: number;
  private readonly list: number;
  private readonly int32: Int32Array;
  /** The example's target y (float64), where quadraticSigmoidOutput reads it. */
  private readonly y: number;
  private readonly yView: Float64Array;
  /** Bytes of a float (4 or 8). */
  private readonly e: number;
  /** Sigmoid output and quadratic cost (Nielsen's) on float32: BP1 and the cost in wasm, else in TypeScript. */
  private readonly wasmOutput: boolean;
  /** Sigmoid hidden layers on float32: BP2's σ'(z) applied in wasm, else in TypeScript. */
  private readonly wasmHidden: boolean;
  /** Sigmoid in wasm (float32; the float64 kernel uses the TypeScript kernel's, for its bits). */
  private readonly wasmSigmoid: boolean;
  private readonly slotStride: number;
  /** This thread's rows [from, to) of each layer (row n_in is the biases). */
  private readonly rows: { from: number; to: number }[];
  /** Per layer, what accumulate and step pass the kernel for this thread's rows (byte offsets). */
  private readonly parts: LayerPart[];
  /** What the kernel's steps take for momentum: the bytes from a parameter to its velocity (0: no momentum), and μ. */
  private readonly vgap: number;
  private readonly mu: number;

  constructor(
    private readonly arch: Architecture,
    private readonly kernel: KernelLayout,
    private readonly at: KernelMemory,
    part: { readonly index: number; readonly count: number } = { index: 0, count: 1 },
  ) {
    const { memory } = at;
    this.wasm = instantiateKernel(memory, kernel.dtype);
    const e = (this.e = kernel.bytes);
    const buffer = memory.buffer;
    this.int32 = new Int32Array(buffer);
    const widest = Math.max(...kernel.sizes);
    let scratch = at.scratch;
    const take = (bytes: number): number => {
      const start = scratch;
      scratch += aligned(bytes);
      return start;
    };
    kernel.padded.forEach((np, l) => {
      this.z.push(take(e * np));
      this.zView.push(allocateParams(kernel.dtype, kernel.sizes[l + 1]!, buffer, this.z[l]!));
    });
    this.identity = take(4 * widest);
    const identity = new Int32Array(buffer, this.identity, widest);
    for (let k = 0; k < widest; k++) identity[k] = k;
    this.ownIdx = take(4 * kernel.sizes[0]!);
    this.ownVal = take(e * kernel.sizes[0]!);
    this.heads = take(4 * kernel.sizes[0]!);
    const outputs = kernel.sizes.at(-1)!;
    this.y = take(8 * outputs);
    this.yView = new Float64Array(buffer, this.y, outputs);
    this.wasmSigmoid = kernel.dtype === "float32";
    this.wasmOutput = this.wasmSigmoid && arch.output.name === "sigmoid" && arch.cost.name === "quadratic";
    this.wasmHidden = this.wasmSigmoid && arch.hidden.name === "sigmoid";
    this.own = slotAt(buffer, kernel, take(slotBytes(kernel)));
    this.list = scratch; // last: its size depends on the data
    this.slotStride = slotBytes(kernel);
    for (let s = 0; s < at.slotCount; s++) this.slots.push(slotAt(buffer, kernel, at.slots + s * this.slotStride));
    this.rows = kernel.padded.map((_, l) =>
      l === 0 ? weightedShare(this.inputRowWork(), part.index, part.count) : share(kernel.sizes[l]! + 1, part.index, part.count),
    );
    const own = this.own; // every slot has the same layout
    this.vgap = at.momentum ? at.momentum.velocities - at.params : 0;
    this.mu = at.momentum?.mu ?? 0;
    this.parts = this.rows.map(({ from, to }, l) => {
      const nIn = kernel.sizes[l]!;
      return {
        weights: e * kernel.weightOffsets[l]!, biases: e * kernel.biasOffsets[l]!, np: kernel.padded[l]!,
        from, end: Math.min(to, nIn), bias: from <= nIn && nIn < to ? 1 : 0,
        delta: own.delta[l]! - own.inputs,
        prev: l === 0 ? -1 : own.a[l - 1]! - own.inputs,
      };
    });
  }

  /**
   * The work of each row of layer 1 in accumulate: row k is visited once per example whose input k
   * is not zero (on MNIST the middle pixels, rarely the border), the bias row once per example.
   */
  private inputRowWork(): Int32Array {
    const { offsets, indices, count } = this.at.inputs;
    const n0 = this.kernel.sizes[0]!;
    const work = new Int32Array(n0 + 1);
    const entries = this.int32[(offsets >> 2) + count]!;
    for (let t = indices >> 2, end = t + entries; t < end; t++) work[this.int32[t]!]!++;
    work[n0] = count;
    return work;
  }

  /** Forward pass of the dense example at byte offset `x`; returns a view of the output activations a^L. */
  forward(x: number): Params {
    const count = this.wasm.gather(x, this.kernel.sizes[0]!, this.ownIdx, this.ownVal);
    return this.feedforward(this.ownIdx, this.ownVal, count, this.own);
  }

  /**
   * Forward pass, BP1 and BP2 for training example i with target y: leaves where its non-zero
   * inputs are, its activations and its δs in example slot `s`, and returns its cost. With
   * `dropout`, under its current mask, as backprop.ts's forwardAndDeltas: the slot holds the masked
   * hidden activations (rounded to float32), and BP2's δ_j is ((w^T δ)_j ⊙ σ'(z_j)) · c_j with σ' at
   * the unscaled activation, in TypeScript over views of the slot.
   */
  forwardAndDeltas(i: number, y: Float64Array, s: number, dropout?: Dropout): number {
    const { wasm, kernel, arch, int32 } = this;
    const slot = this.slots[s]!;
    const { offsets, indices, values } = this.at.inputs;
    const first = int32[(offsets >> 2) + i]!;
    const count = int32[(offsets >> 2) + i + 1]! - first;
    const output = this.feedforward(indices + 4 * first, values + this.e * first, count, slot, dropout);
    const last = kernel.padded.length - 1;
    // BP1: δ^L = ∇_a C ⊙ σ'(z^L), and the cost
    let cost: number;
    if (this.wasmOutput) {
      this.yView.set(y);
      cost = wasm.quadraticSigmoidOutput(slot.a[last]!, this.y, slot.delta[last]!, kernel.sizes[last + 1]!);
    } else {
      arch.cost.outputDelta(this.zView[last]!, output, y, arch.output, slot.deltaView[last]!);
      cost = arch.cost.value(output, y);
    }
    for (let l = last; l > 0; l--) {
      // BP2: δ^(l−1) = ((w^l)^T δ^l) ⊙ σ'(z^(l−1))
      // backward applies σ' = a(1 − a); 0: done below, in TypeScript (with dropout, from the unscaled a)
      const activations = this.wasmHidden && !dropout ? slot.a[l - 1]! : 0;
      const weights = this.at.params + this.e * kernel.weightOffsets[l]!;
      wasm.backward(weights, kernel.sizes[l]!, slot.delta[l]!, slot.delta[l - 1]!, kernel.padded[l]!, activations);
      if (dropout) {
        arch.hidden.scaleByDerivative(this.zView[l - 1]!, dropout.unscaled[l - 1]!, slot.deltaView[l - 1]!);
        dropout.scaleDelta(l - 1, slot.deltaView[l - 1]!); // · c_j: a dropped neuron's δ is 0
      } else if (!this.wasmHidden) arch.hidden.scaleByDerivative(this.zView[l - 1]!, slot.aView[l - 1]!, slot.deltaView[l - 1]!);
    }
    return cost;
  }

  /**
   * z^l = w^l a^(l−1) + b^l, a^l = σ(z^l) from the non-zero inputs (idx, val, count), into `slot`;
   * with `dropout`, each hidden a^l masked (a_j ← a_j · c_j) before the next layer reads it.
   */
  private feedforward(idx: number, val: number, count: number, slot: Slot, dropout?: Dropout): Params {
    const { wasm, kernel, arch, int32 } = this;
    int32[(slot.inputs + abi.slotPositions) >> 2] = idx;
    int32[(slot.inputs + abi.slotValues) >> 2] = val;
    int32[(slot.inputs + abi.slotCount) >> 2] = count;
    const last = kernel.padded.length - 1;
    const { e } = this;
    const p = this.at.params;
    for (let l = 0; l <= last; l++) {
      wasm.forward(p + e * kernel.weightOffsets[l]!, p + e * kernel.biasOffsets[l]!, idx, val, count, this.z[l]!, kernel.padded[l]!);
      const activation = l === last ? arch.output : arch.hidden;
      // float32's sigmoid, the default, in wasm (the same values as its TypeScript apply, without a Math.exp call per neuron)
      if (this.wasmSigmoid && activation.name === "sigmoid") wasm.sigmoid(this.z[l]!, slot.a[l]!, kernel.sizes[l + 1]!);
      else activation.apply(this.zView[l]!, slot.aView[l]!);
      if (dropout && l < last) dropout.scale(l, slot.aView[l]!);
      idx = this.identity;
      val = slot.a[l]!;
      count = kernel.sizes[l + 1]!;
    }
    return slot.aView[last]!;
  }

  /**
   * BP3 and BP4 of the examples in slots [0, count), added in slot order to this thread's rows of
   * its gradient buffer: row k of layer l gets a_k^(l−1) · δ^l (layer 1: non-zero inputs only), the
   * bias row gets δ^l.
   */
  accumulate(count: number): void {
    const { wasm, at } = this;
    if (count === 0) return;
    for (const p of this.parts) {
      wasm.accumulateBatch(
        at.gradient + p.weights, at.gradient + p.biases, at.slots, this.slotStride, count,
        p.delta, p.prev, p.from, p.end, this.identity, p.np, p.bias,
      );
    }
  }

  /**
   * BP3, BP4 and the SGD step of the whole mini-batch in slots [0, count) on this thread's rows, in
   * one pass over them that writes no gradient: each row's sum is made in registers, in slot order,
   * and applied at once. The new weights have the same bits as accumulate(count) then update(scale,
   * decay) (from a zero gradient); the gradient buffer is neither read nor written. `decay` is L2's
   * 1 − ηλ/n for the weights (1: none; biases never decay). With momentum the step is
   * v ← μ · v − scale · g, w ← decay · w + v. False if a new weight is not finite.
   */
  step(count: number, scale: number, decay = 1): boolean {
    const { wasm, at } = this;
    const { vgap, mu } = this;
    let bad = 0;
    for (const p of this.parts) {
      bad |= wasm.stepLayer(
        at.params + p.weights, at.params + p.biases, at.slots, this.slotStride, count,
        p.delta, p.prev, p.from, p.end, p.np, p.bias, scale, decay, this.list, this.heads, vgap, mu,
      );
    }
    return bad === 0;
  }

  /**
   * The SGD step on this thread's rows: w ← decay · w − scale · gradient (biases: decay 1), zeroing
   * the gradient. False if a new weight is not finite.
   */
  update(scale: number, decay = 1): boolean {
    const { wasm, kernel, at, vgap, mu } = this;
    let bad = 0;
    for (let l = 0; l < kernel.padded.length; l++) {
      const { from, to } = this.rows[l]!;
      const np = kernel.padded[l]!;
      const nIn = kernel.sizes[l]!;
      const offset = (row: number): number => this.e * (kernel.weightOffsets[l]! + row * np);
      // weight rows [from, min(to, nIn)) decay; row nIn, the biases, does not
      const weightRows = Math.max(0, Math.min(to, nIn) - from);
      if (weightRows > 0) bad |= wasm.update(at.params + offset(from), at.gradient + offset(from), weightRows, np, scale, decay, vgap, mu);
      if (from <= nIn && nIn < to) bad |= wasm.update(at.params + offset(nIn), at.gradient + offset(nIn), 1, np, scale, 1, vgap, mu);
    }
    return bad === 0;
  }
}
