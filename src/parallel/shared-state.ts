import { exampleScratchBytes } from "../core/backprop.js";
import type { Dataset, Targets } from "../core/dataset.js";
import type { DropoutPlan } from "../core/dropout.js";
import { allocateParams, layoutOf, type DType, type Layout, type NetworkSpec, type Params } from "../core/network.js";
import { kernelLayoutOf, kernelModule, pack, slotBytes, threadScratchBytes, unpack, type KernelLayout, type SparseInputs } from "../core/wasm/wasm-kernel.js";
import { abi } from "../core/wasm/abi.js";

/**
 * A parallel training run's shared memory: ONE shared WebAssembly.Memory (a SharedArrayBuffer the
 * SIMD kernel can address too), allocated once by the coordinator with a fixed size (it never
 * grows) and mapped once by each worker. Which thread writes which region, and when, is the
 * parallel contract: CONTRACT.md beside this file.
 */
export interface SharedRun {
  readonly spec: NetworkSpec;
  readonly threads: number;
  readonly miniBatchSize: number;
  /** Which kernel the workers run: the TypeScript one, or the WebAssembly SIMD one of the network's dtype. */
  readonly kernel: KernelName;
  /** How the threads share a step: by examples (epoch-share.ts) or by the hidden layer's neurons (neuron-share.ts). */
  readonly parallelism: Parallelism;
  /** Momentum's μ (0: none). With momentum the run keeps a velocity per parameter (`regions.velocities`). */
  readonly momentum: number;
  /** With dropout: its rate and the run's seed, from which every worker draws the same masks (core/dropout.ts). */
  readonly dropout?: DropoutPlan;
  /** The neuron split's regions (parallelism "neurons" only). */
  readonly neurons?: NeuronRegions;
  readonly memory: WebAssembly.Memory;
  readonly regions: Regions;
  readonly train: SharedDataset;
  readonly test: SharedDataset | undefined;
  /** The wasm kernel of the network's dtype, compiled once by the coordinator for every thread (wasm runs only). */
  readonly module: WebAssembly.Module | undefined;
  /**
   * Benchmark-only (bench/ceiling.ts, through a pool made with this variant), and the trained
   * network is WRONG with it: every worker but worker 0 computes its passes from a private copy of
   * the weights (in its gradient region) that only its own rows' updates reach. The work and the
   * barriers are as in a real run, but no updated weight crosses between cores, which measures what
   * that crossing costs. wasm kernel only.
   */
  readonly privateWeights: boolean;
}

export type KernelName = "js" | "wasm";

/** How a run's threads share each mini-batch: its examples, or the hidden layer's neurons. */
export type Parallelism = "examples" | "neurons";

/**
 * The neuron split's regions (byte offsets): thread k's block of the hidden layer (its neurons'
 * weights as a transposed block of n_in rows × `width` floats, and their biases), its own copy of
 * the output layer, its example slots and scratch; and the exchange rows where each thread writes
 * its neurons' activations for every example of a step, double-buffered by step parity.
 */
export interface NeuronRegions {
  /** Bytes between example slots, in each thread's slots and in the exchange rows. */
  readonly stride: number;
  /** Slots per thread: a whole mini-batch. */
  readonly slotCount: number;
  readonly exchange: readonly [number, number];
  /** Each thread's regions (the wasm kernel; a TypeScript-kernel thread keeps its own in its own memory). */
  readonly parts: readonly NeuronPart[];
}

/** Thread k's part of a neuron split: hidden neurons [c0, c0 + width) of the padded layer, nk of them real. */
export interface NeuronPart {
  readonly c0: number;
  readonly width: number;
  readonly nk: number;
  readonly w1: number;
  readonly b1: number;
  readonly w2: number;
  readonly b2: number;
  /** With momentum: bytes from each of its parameters (w1, b1, w2, b2) to its own copy of that parameter's velocity; else 0. */
  readonly vgap: number;
  /** Its example slots: a slot header (abi), then δ¹ of its neurons at `delta1`, δ² at `delta2` (bytes from the slot). */
  readonly slots: number;
  readonly delta1: number;
  readonly delta2: number;
  readonly z1: number;
  readonly z2: number;
  readonly a2: number;
  /** The example's target (float64). */
  readonly y: number;
  /** stepLayer's list heads (one per input, zero between calls) and entries. */
  readonly heads: number;
  readonly list: number;
  /** Int32 0, 1, …: the positions of a dense layer's inputs. */
  readonly identity: number;
}

/** The largest mini-batch the neuron split takes (each thread keeps a slot per example of a batch). */
export const NEURON_MAX_BATCH = 1024;

/**
 * Byte offsets (all 16-aligned) of a run's regions in the shared memory. Whatever threads write at
 * the same time (control words, example slots, costs, each thread's gradient and scratch) starts
 * on a cache line of its own: two threads writing one line pass it between their cores on every write.
 */
export interface Regions {
  readonly control: number;
  readonly order: number;
  readonly params: number;
  /** Parameters in the run's layout (the kernel layout for wasm). */
  readonly paramCount: number;
  /** With momentum, one velocity per parameter, in the same layout (each owned like its parameter); else 0. */
  readonly velocities: number;
  /** Worker k's gradient region starts at gradients + k · gradientStride; a stride of 0: no gradient regions. */
  readonly gradients: number;
  readonly gradientStride: number;
  /** Example slot s (an example's activations and δs, see epoch-share.ts) starts at slots + s · slotStride. */
  readonly slots: number;
  readonly slotStride: number;
  /** How many examples of a mini-batch are in flight at once (larger batches go in chunks of this many). */
  readonly slotCount: number;
  /** The cost of the example in slot s is float64 number s · COST_STRIDE from here. */
  readonly costs: number;
  /** Worker k's scratch starts at scratch + k · scratchStride (wasm kernel only). */
  readonly scratch: number;
  readonly scratchStride: number;
}

/** A dataset's shape and where its arrays are in the shared memory. */
export interface SharedDataset {
  readonly count: number;
  readonly inputSize: number;
  /**
   * The type its inputs and target vectors are stored in: the network's (a float64 run keeps
   * float64 data exact and widens float32 data exactly; a float32 run's data is float32, see train()).
   */
  readonly dtype: DType;
  /**
   * Byte offset of count × inputSize inputs — or, for a wasm run's training data, its
   * non-zero entries only (layer 1 reads them directly: no pass over the zeros, ~40% of the bytes
   * for MNIST), and then no dense copy is made.
   */
  readonly inputs: number | SparseInputs;
  readonly targets:
    | { readonly kind: "labels"; readonly labels: number; readonly classes: number }
    | { readonly kind: "vectors"; readonly vectors: number; readonly size: number };
}

/** The run's typed views, as each thread maps them once. */
export interface RunViews {
  readonly params: Params;
  /** The velocities (empty without momentum). */
  readonly velocities: Params;
  readonly gradients: Params[];
  readonly train: Dataset;
  readonly test: Dataset | undefined;
  readonly order: Int32Array;
  readonly control: Int32Array;
  readonly costs: Float64Array;
}

/** Number of Int32 control words (see barrier.ts for their meaning): two cache lines. */
export const CONTROL_WORDS = 32;
/** Float64s from one example's cost to the next: one cache line. */
export const COST_STRIDE = 8;
const CACHE_LINE = 64;
/** At most this many example slots, and at most SLOT_MEMORY bytes of them (but one per thread at least). */
const MAX_SLOTS = 256;
const SLOT_MEMORY = 32 * 1024 * 1024;
const PAGE = 65536;

/** Hands out aligned byte ranges (16 bytes, or `align`), first to plan a layout, then to size the memory. */
class Arena {
  size = 0;
  take(bytes: number, align = 16): number {
    const start = Math.ceil(this.size / align) * align;
    this.size = start + Math.ceil(bytes / 16) * 16;
    return start;
  }
}

/** Plans a dataset's regions, its values stored as `dtype`: its inputs dense, or (`sparse`, for the wasm kernel) by their non-zeros. */
function planDataset(arena: Arena, data: Dataset, dtype: DType, sparse = false): SharedDataset {
  const t = data.targets;
  const bytes = bytesOf(dtype);
  return {
    count: data.count,
    inputSize: data.inputSize,
    dtype,
    inputs: sparse ? planSparse(arena, data, bytes) : arena.take(bytes * data.inputs.length),
    targets:
      t.kind === "labels"
        ? { kind: "labels", labels: arena.take(t.labels.byteLength), classes: t.classes }
        : { kind: "vectors", vectors: arena.take(bytes * t.vectors.length), size: t.size },
  };
}

const bytesOf = (dtype: DType): number => (dtype === "float32" ? 4 : 8);

function planSparse(arena: Arena, data: Dataset, valueBytes: number): SparseInputs {
  let nonZeros = 0;
  let most = 0;
  for (let i = 0; i < data.count; i++) {
    let row = 0;
    for (let k = i * data.inputSize, end = k + data.inputSize; k < end; k++) if (data.inputs[k] !== 0) row++;
    nonZeros += row;
    most = Math.max(most, row);
  }
  return { count: data.count, most, offsets: arena.take(4 * (data.count + 1)), indices: arena.take(4 * nonZeros), values: arena.take(valueBytes * nonZeros) };
}

/** Takes the same ranges of `arena` as planning `shared`'s dataset did (which took them from an arena at the same point). */
function replan(arena: Arena, buffer: ArrayBufferLike, shared: SharedDataset): SharedDataset {
  const n = shared.count;
  const t = shared.targets;
  const bytes = bytesOf(shared.dtype);
  const nonZeros = typeof shared.inputs === "number" ? 0 : new Int32Array(buffer, shared.inputs.offsets, n + 1)[n]!;
  const inputs = typeof shared.inputs === "number"
    ? arena.take(bytes * n * shared.inputSize)
    : { ...shared.inputs, offsets: arena.take(4 * (n + 1)), indices: arena.take(4 * nonZeros), values: arena.take(bytes * nonZeros) };
  const targets = t.kind === "labels" ? { ...t, labels: arena.take(4 * n) } : { ...t, vectors: arena.take(bytes * n * t.size) };
  return { ...shared, inputs, targets };
}

/**
 * Whether the shared dataset `shared` in `buffer` holds exactly `data` (shape, every input and
 * target) as `dtype`, stored dense or (`sparse`) by its non-zeros as asked: then a pool's next run
 * need not copy it again.
 */
function holds(buffer: ArrayBufferLike, shared: SharedDataset, data: Dataset, dtype: DType, sparse = false): boolean {
  const t = shared.targets;
  const d = data.targets;
  if (shared.count !== data.count || shared.inputSize !== data.inputSize || shared.dtype !== dtype || (typeof shared.inputs !== "number") !== sparse) return false;
  if (t.kind === "labels" ? d.kind !== "labels" || d.classes !== t.classes : d.kind !== "vectors" || d.size !== t.size) return false;
  if (t.kind === "labels" && d.kind === "labels" && !sameValues(new Int32Array(buffer, t.labels, d.labels.length), d.labels)) return false;
  if (t.kind === "vectors" && d.kind === "vectors" && !sameValues(allocateParams(dtype, d.vectors.length, buffer, t.vectors), d.vectors)) return false;
  if (typeof shared.inputs === "number") return sameValues(allocateParams(dtype, data.inputs.length, buffer, shared.inputs), data.inputs);
  // sparse: walk the dense rows beside the stored non-zeros
  const offsets = new Int32Array(buffer, shared.inputs.offsets, data.count + 1);
  const indices = new Int32Array(buffer, shared.inputs.indices, offsets[data.count]!);
  const values = allocateParams(dtype, offsets[data.count]!, buffer, shared.inputs.values);
  const round = dtype === "float32" ? Math.fround : (v: number): number => v;
  let at2 = 0;
  for (let i = 0; i < data.count; i++) {
    if (offsets[i] !== at2) return false;
    for (let k = 0, row = i * data.inputSize; k < data.inputSize; k++) {
      const v = data.inputs[row + k]!;
      if (v !== 0 && (indices[at2] !== k || values[at2++] !== round(v))) return false;
    }
  }
  return offsets[data.count] === at2;
}

/**
 * Whether `stored` holds `given`'s values as its type stores them: byte for byte when the types
 * are the same, else value by value (float32 values widened to float64 are exact).
 */
function sameValues(stored: Params | Int32Array, given: Params | Int32Array): boolean {
  const bytes = (view: ArrayBufferView): Buffer => Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  if (stored.constructor === given.constructor) return bytes(stored).equals(bytes(given));
  const round = stored instanceof Float32Array ? Math.fround : (v: number): number => v;
  for (let i = 0; i < given.length; i++) if (stored[i] !== round(given[i]!)) return false;
  return true;
}

function copySparse(buffer: ArrayBufferLike, into: SparseInputs, from: Dataset, dtype: DType): void {
  const offsets = new Int32Array(buffer, into.offsets, from.count + 1);
  const indices = new Int32Array(buffer, into.indices);
  const values = dtype === "float32" ? new Float32Array(buffer, into.values) : new Float64Array(buffer, into.values);
  let at = 0;
  for (let i = 0; i < from.count; i++) {
    offsets[i] = at;
    for (let k = 0, row = i * from.inputSize; k < from.inputSize; k++) {
      const v = from.inputs[row + k]!;
      if (v !== 0) {
        indices[at] = k;
        values[at++] = v;
      }
    }
  }
  offsets[from.count] = at;
}


/**
 * Views of a shared dataset, as a plain {@link Dataset}. Sparse inputs have no dense view: their
 * `inputs` is empty (only the wasm kernel, which reads the non-zeros, runs on them).
 */
function mapDataset(buffer: ArrayBufferLike, shared: SharedDataset): Dataset {
  const t = shared.targets;
  const n = shared.count;
  const targets: Targets =
    t.kind === "labels"
      ? { kind: "labels", labels: new Int32Array(buffer, t.labels, n), classes: t.classes }
      : { kind: "vectors", vectors: allocateParams(shared.dtype, n * t.size, buffer, t.vectors), size: t.size };
  const inputs = allocateParams(shared.dtype, typeof shared.inputs === "number" ? n * shared.inputSize : 0, buffer, typeof shared.inputs === "number" ? shared.inputs : 0);
  return { count: n, inputSize: shared.inputSize, inputs, targets };
}

function copyDataset(buffer: ArrayBufferLike, shared: SharedDataset, into: Dataset, from: Dataset): void {
  if (typeof shared.inputs === "number") into.inputs.set(from.inputs);
  else copySparse(buffer, shared.inputs, from, shared.dtype);
  if (into.targets.kind === "labels" && from.targets.kind === "labels") into.targets.labels.set(from.targets.labels);
  if (into.targets.kind === "vectors" && from.targets.kind === "vectors") into.targets.vectors.set(from.targets.vectors);
}

/** The kernel layout of a wasm run (undefined for the JS kernel). */
export function kernelLayoutOfRun(run: SharedRun): KernelLayout | undefined {
  return run.kernel === "wasm" ? kernelLayoutOf(run.spec.sizes, run.spec.dtype) : undefined;
}

/**
 * Lays out a run's shared memory and copies the starting parameters and the data in. The memory
 * of `previous` (the last run on the same pool, ended) is reused when it is large enough — new
 * memory costs a page fault per 64 KiB touched, and is freed only when V8 collects it — and its
 * datasets, which come first in the layout, are not copied again when they hold the same data.
 * Everything else is zeroed, so the run starts from the bytes fresh memory would have.
 */
export function createSharedRun(
  spec: NetworkSpec,
  params: Params,
  train: Dataset,
  test: Dataset | undefined,
  settings: Pick<SharedRun, "threads" | "miniBatchSize" | "kernel" | "privateWeights" | "parallelism" | "dropout"> & { readonly momentum?: number },
  previous?: SharedRun,
): SharedRun {
  const { threads, kernel } = settings;
  const wasmLayout = kernel === "wasm" ? kernelLayoutOf(spec.sizes, spec.dtype) : undefined;
  // the data is stored as the network's dtype; the wasm kernel reads the training inputs by their non-zeros
  const { dtype } = spec;
  const sparse = wasmLayout !== undefined;
  const paramCount = wasmLayout ? wasmLayout.paramCount : params.length;
  const paramBytes = paramCount * params.BYTES_PER_ELEMENT;
  const arena = new Arena();
  const control = arena.take(CONTROL_WORDS * 4, CACHE_LINE);
  // The datasets first: a pool's next run on the same data finds them at the same place.
  const old = previous?.memory.buffer;
  const keepTrain = old !== undefined && holds(old, previous!.train, train, dtype, sparse);
  const sharedTrain = keepTrain ? replan(arena, old, previous!.train) : planDataset(arena, train, dtype, sparse);
  const sharedTest = test && planDataset(arena, test, dtype);
  const keepTest = keepTrain && test !== undefined && previous!.test !== undefined && previous!.test.inputs === sharedTest!.inputs && holds(old, previous!.test, test, dtype);
  const dataEnd = arena.size;
  const order = arena.take(train.count * 4);
  const paramsAt = arena.take(paramBytes);
  const momentum = settings.momentum ?? 0;
  const velocities = momentum > 0 ? arena.take(paramBytes) : 0;
  const slotStride = Math.ceil((wasmLayout ? slotBytes(wasmLayout) : exampleScratchBytes(spec.sizes)) / CACHE_LINE) * CACHE_LINE;
  const budget = Math.max(threads, Math.min(MAX_SLOTS, Math.floor(SLOT_MEMORY / slotStride)));
  const slotCount = Math.max(1, Math.min(settings.miniBatchSize, train.count, budget));
  // The wasm kernel sums a batch that fits in the slots without a gradient buffer (WasmKernel.step).
  const batchInSlots = slotCount >= Math.min(settings.miniBatchSize, train.count);
  if (settings.privateWeights && !(wasmLayout && batchInSlots && momentum === 0)) {
    throw new Error("privateWeights needs the wasm kernel, no momentum, and every mini-batch to fit in the example slots");
  }
  // planRun refuses it first (neuronSplitRefusal): the neuron split's kernel has no masks
  const needsGradients = !wasmLayout || !batchInSlots || settings.privateWeights;
  const gradientStride = needsGradients ? Math.ceil(paramBytes / CACHE_LINE) * CACHE_LINE : 0;
  const gradients = arena.take(threads * gradientStride, CACHE_LINE);
  const slots = arena.take(slotCount * slotStride, CACHE_LINE);
  const costs = arena.take(slotCount * COST_STRIDE * 8, CACHE_LINE);
  const mostInputs = typeof sharedTrain.inputs === "number" ? train.inputSize : sharedTrain.inputs.most;
  const scratchStride = wasmLayout ? Math.ceil(threadScratchBytes(wasmLayout, slotCount, mostInputs) / CACHE_LINE) * CACHE_LINE : 0;
  const scratch = arena.take(threads * scratchStride, CACHE_LINE);
  const batch = Math.min(settings.miniBatchSize, train.count);
  if (settings.parallelism === "neurons") {
    if (settings.dropout) throw new Error("the neuron split does not take dropout");
    if (spec.sizes.length !== 3) throw new Error("the neuron split takes networks of one hidden layer");
    if (batch > NEURON_MAX_BATCH) throw new Error(`the neuron split takes mini-batches of at most ${NEURON_MAX_BATCH}`);
    if (wasmLayout && wasmLayout.dtype !== "float32") throw new Error("the wasm kernel's neuron split takes float32 networks");
  }
  const neurons = settings.parallelism !== "neurons" ? undefined
    : wasmLayout ? planNeurons(arena, spec.sizes, threads, batch, mostInputs, momentum > 0)
    : planJsNeurons(arena, spec.sizes, batch);
  const pages = Math.max(1, Math.ceil(arena.size / PAGE));
  // The wasm kernel reads address 0 as "none" (no activations to scale, the end of a list): byte 0
  // holds the control words, so no slot or list it points at can start there.
  if (control !== 0 || slots === 0 || scratch === 0) throw new Error("shared memory layout: the control words must take byte 0, which the kernel reads as none");

  const reuse = old !== undefined && old.byteLength >= arena.size;
  const run: SharedRun = {
    spec,
    ...settings,
    momentum,
    memory: reuse ? previous!.memory : new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }),
    regions: { control, order, params: paramsAt, paramCount, velocities, gradients, gradientStride, slots, slotStride, slotCount, costs, scratch, scratchStride },
    train: sharedTrain,
    test: sharedTest,
    module: wasmLayout ? kernelModule(wasmLayout.dtype) : undefined,
    ...(neurons && { neurons }),
  };
  const buffer = run.memory.buffer;
  const views = mapRun(run);
  if (reuse) {
    // Zero what fresh memory would hold as zeros: all but the data kept in place.
    const kept = keepTest ? dataEnd : keepTrain ? dataStart(sharedTest) ?? dataEnd : control + CONTROL_WORDS * 4;
    new Uint8Array(buffer, 0, control + CONTROL_WORDS * 4).fill(0);
    new Uint8Array(buffer, kept, arena.size - kept).fill(0);
  }
  if (!(reuse && keepTrain)) copyDataset(buffer, sharedTrain, views.train, train);
  if (test && sharedTest && views.test && !(reuse && keepTest)) copyDataset(buffer, sharedTest, views.test, test);
  writeParams(run, views, layoutOf(spec.sizes), params);
  for (const part of neurons?.parts ?? []) new Int32Array(buffer, part.identity, spec.sizes[1]!).forEach((_, i, a) => (a[i] = i));
  return run;
}

/**
 * The neuron split's regions for a wasm run of one hidden layer: thread k gets the k-th share of
 * the hidden layer's padded width, in blocks of 4 neurons (the kernel's SIMD width).
 */
function planNeurons(arena: Arena, sizes: readonly number[], threads: number, slotCount: number, mostInputs: number, momentum: boolean): NeuronRegions {
  const [n0, n1, n2] = sizes as [number, number, number];
  const kernel = kernelLayoutOf(sizes);
  const [np1, np2] = kernel.padded as [number, number];
  const blocks = np1 / 4;
  const widths = Array.from({ length: threads }, (_, k) => 4 * (Math.floor((blocks * (k + 1)) / threads) - Math.floor((blocks * k) / threads)));
  const widest = Math.max(...widths);
  const stride = Math.ceil(Math.max(abi.slotHeaderBytes + 4 * widest + 4 * np2, 4 * np1) / CACHE_LINE) * CACHE_LINE;
  const line = (bytes: number): number => arena.take(Math.max(bytes, 16), CACHE_LINE);
  let c0 = 0;
  const parts = widths.map((width): NeuronPart => {
    // the copy of layer 2 as the kernel layout has it: w² (n1 rows of np2), b² right after
    const w2 = line(4 * (n1 + 1) * np2);
    const w1 = line(4 * n0 * width);
    const b1 = line(4 * width);
    // with momentum, the same three regions again for their velocities: each then lies one gap after its parameter
    let vgap = 0;
    if (momentum) {
      const [v2, v1, vb1] = [line(4 * (n1 + 1) * np2), line(4 * n0 * width), line(4 * width)];
      vgap = v2 - w2;
      if (v1 - w1 !== vgap || vb1 - b1 !== vgap) throw new Error("neuron split layout: a velocity is not one gap after its parameter");
    }
    const part: NeuronPart = {
      c0, width, nk: Math.max(0, Math.min(width, n1 - c0)),
      w1, b1, w2, b2: w2 + 4 * n1 * np2, vgap,
      slots: line(slotCount * stride), delta1: abi.slotHeaderBytes, delta2: abi.slotHeaderBytes + 4 * widest,
      z1: line(4 * width), z2: line(4 * np2), a2: line(4 * np2), y: line(8 * n2), heads: line(4 * n0), identity: line(4 * n1),
      list: line(abi.entryBytes * (slotCount * Math.max(1, mostInputs) + slotCount) + 16),
    };
    c0 += width;
    return part;
  });
  // after every thread's slots, so a slot's offset to its exchange row (stepLayer's `prev`) is positive
  const exchange: [number, number] = [line(slotCount * stride), line(slotCount * stride)];
  return { stride, slotCount, exchange, parts };
}

/**
 * The neuron split's regions for a TypeScript-kernel run of one hidden layer: only the exchange
 * rows (a¹ of every example of a step, float64, double-buffered); each thread keeps its own
 * neurons' working values and its copy of the output layer in its own memory (neuron-split-js.ts).
 */
function planJsNeurons(arena: Arena, sizes: readonly number[], slotCount: number): NeuronRegions {
  const stride = Math.ceil((8 * sizes[1]!) / CACHE_LINE) * CACHE_LINE;
  const exchange: [number, number] = [arena.take(slotCount * stride, CACHE_LINE), arena.take(slotCount * stride, CACHE_LINE)];
  return { stride, slotCount, exchange, parts: [] };
}

/** Where a dense dataset's regions start (its inputs come first). */
function dataStart(shared: SharedDataset | undefined): number | undefined {
  return shared === undefined ? undefined : typeof shared.inputs === "number" ? shared.inputs : shared.inputs.offsets;
}

/** Maps a run's regions as typed views. */
export function mapRun(run: SharedRun): RunViews {
  const buffer = run.memory.buffer;
  const { regions, spec } = run;
  const { dtype } = spec;
  const gradients: Params[] = [];
  for (let k = 0; k < run.threads; k++) {
    const length = regions.gradientStride === 0 ? 0 : regions.paramCount;
    gradients.push(allocateParams(dtype, length, buffer, regions.gradients + k * regions.gradientStride));
  }
  return {
    params: allocateParams(dtype, regions.paramCount, buffer, regions.params),
    velocities: allocateParams(dtype, regions.velocities === 0 ? 0 : regions.paramCount, buffer, regions.velocities),
    gradients,
    train: mapDataset(buffer, run.train),
    test: run.test && mapDataset(buffer, run.test),
    order: new Int32Array(buffer, regions.order, run.train.count),
    control: new Int32Array(buffer, regions.control, CONTROL_WORDS),
    costs: new Float64Array(buffer, regions.costs, regions.slotCount * COST_STRIDE),
  };
}

/** What the coordinator copies in and out of a run: its parameters, or (with momentum) their velocities, each in the parameters' layout. */
export type RunValues = "params" | "velocities";

/** Copies a network's parameters (or velocities) into the run, converting to the kernel layout for wasm. */
export function writeParams(run: SharedRun, views: RunViews, layout: Layout, values: Params, into: RunValues = "params"): void {
  const kernel = kernelLayoutOfRun(run);
  if (kernel) pack(layout, values, kernel, views[into]);
  else views[into].set(values);
}

/** Copies the run's parameters (or velocities) back into a vector in the network's layout. */
export function readParams(run: SharedRun, views: RunViews, layout: Layout, values: Params, from: RunValues = "params"): void {
  const kernel = kernelLayoutOfRun(run);
  if (kernel) unpack(kernel, views[from], layout, values);
  else values.set(views[from]);
}
