import type { Dataset, Targets } from "../core/dataset.js";
import { allocateParams, layoutOf, type NetworkSpec, type Params } from "../core/network.js";

/**
 * The shared-memory contract of a parallel training run. Every buffer below is a
 * SharedArrayBuffer created once by the coordinator and mapped once by each worker.
 *
 * | buffer      | written by                              | when                                          |
 * | ----------- | --------------------------------------- | --------------------------------------------- |
 * | train, test | coordinator                             | once, before the pool starts; read-only after |
 * | order       | coordinator                             | before each epoch's tasks; read-only during   |
 * | params      | worker k, its parameter share only      | between the two barriers of a step            |
 * | gradients   | region k by worker k (accumulate), then | compute phase; reduce phase (read + zeroed)   |
 * |             | every region's share s by worker s      |                                               |
 * | control     | Atomics only (see barrier.ts)           | any time                                      |
 *
 * The coordinator reads params only when no epoch is running (between epochs or after the run).
 */
export interface SharedRun {
  readonly spec: NetworkSpec;
  readonly threads: number;
  readonly miniBatchSize: number;
  readonly eta: number;
  readonly params: SharedArrayBuffer;
  /** threads × paramCount, worker k's region at offset k·paramCount. */
  readonly gradients: SharedArrayBuffer;
  readonly train: SharedDataset;
  readonly test: SharedDataset | undefined;
  /** Int32 × train.count: the epoch's example order. */
  readonly order: SharedArrayBuffer;
  /** Int32 control words (barrier.ts). */
  readonly control: SharedArrayBuffer;
  /** @internal Test-only fault injection. */
  readonly testFault: { worker: number; step: number; message: string } | undefined;
}

/** A dataset whose arrays live in SharedArrayBuffers. */
export interface SharedDataset {
  readonly count: number;
  readonly inputSize: number;
  readonly inputs: SharedArrayBuffer;
  readonly targets:
    | { readonly kind: "labels"; readonly labels: SharedArrayBuffer; readonly classes: number }
    | { readonly kind: "vectors"; readonly vectors: SharedArrayBuffer; readonly size: number };
}

/** The run's typed views, as each thread maps them once. */
export interface RunViews {
  readonly params: Params;
  readonly gradients: Params[];
  readonly train: Dataset;
  readonly test: Dataset | undefined;
  readonly order: Int32Array;
  readonly control: Int32Array;
}

/** Number of Int32 control words (see barrier.ts for their meaning). */
export const CONTROL_WORDS = 8;

function sharedCopy<T extends Float32Array | Int32Array>(array: T): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(array.byteLength);
  new Uint8Array(buffer).set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return buffer;
}

/** Copies a dataset into shared memory (once per run). */
export function shareDataset(data: Dataset): SharedDataset {
  const t = data.targets;
  return {
    count: data.count,
    inputSize: data.inputSize,
    inputs: sharedCopy(data.inputs),
    targets:
      t.kind === "labels"
        ? { kind: "labels", labels: sharedCopy(t.labels), classes: t.classes }
        : { kind: "vectors", vectors: sharedCopy(t.vectors), size: t.size },
  };
}

/** Views of a shared dataset, as a plain {@link Dataset}. */
export function mapDataset(shared: SharedDataset): Dataset {
  const t = shared.targets;
  const targets: Targets =
    t.kind === "labels"
      ? { kind: "labels", labels: new Int32Array(t.labels), classes: t.classes }
      : { kind: "vectors", vectors: new Float32Array(t.vectors), size: t.size };
  return { count: shared.count, inputSize: shared.inputSize, inputs: new Float32Array(shared.inputs), targets };
}

/** Allocates every shared buffer of a run and copies the starting parameters and the data in. */
export function createSharedRun(
  spec: NetworkSpec,
  params: Params,
  train: Dataset,
  test: Dataset | undefined,
  settings: Pick<SharedRun, "threads" | "miniBatchSize" | "eta" | "testFault">,
): SharedRun {
  const bytes = params.BYTES_PER_ELEMENT;
  const run: SharedRun = {
    spec,
    ...settings,
    params: new SharedArrayBuffer(params.length * bytes),
    gradients: new SharedArrayBuffer(settings.threads * params.length * bytes),
    train: shareDataset(train),
    test: test && shareDataset(test),
    order: new SharedArrayBuffer(train.count * Int32Array.BYTES_PER_ELEMENT),
    control: new SharedArrayBuffer(CONTROL_WORDS * Int32Array.BYTES_PER_ELEMENT),
  };
  mapRun(run).params.set(params);
  return run;
}

/** Maps a run's buffers as typed views. */
export function mapRun(run: SharedRun): RunViews {
  const paramCount = layoutOf(run.spec.sizes).paramCount;
  const bytes = run.spec.dtype === "float32" ? 4 : 8;
  const gradients: Params[] = [];
  for (let k = 0; k < run.threads; k++) {
    gradients.push(allocateParams(run.spec.dtype, paramCount, run.gradients, k * paramCount * bytes));
  }
  return {
    params: allocateParams(run.spec.dtype, paramCount, run.params),
    gradients,
    train: mapDataset(run.train),
    test: run.test && mapDataset(run.test),
    order: new Int32Array(run.order),
    control: new Int32Array(run.control),
  };
}
