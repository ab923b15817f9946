import { availableParallelism } from "node:os";
import type { Dataset } from "../core/dataset.js";
import type { DType } from "../core/network.js";
import { MAX_THREADS } from "../parallel/pool.js";
import type { KernelName, Parallelism } from "../parallel/shared-state.js";

/**
 * What `threads: "auto"` means: the thread count at which a cost model predicts this network's
 * steps run fastest on this machine. The thread count never changes the bits (CONTRACT.md), so
 * the choice is free to depend on the machine.
 *
 * The model, per mini-batch step of m examples on n threads:
 *   T(1) = m · (perExample + perMultiplyAdd · U)     U = multiply-adds of one example's passes and
 *                                                    gradient: 2·d·n0·n1 for layer 1 (it skips the
 *                                                    d share of zero inputs, and sends no δ back to
 *                                                    the inputs), 3·n_in·n_out for every later layer
 *   T(n) = T(1) / (min(n, m) · efficiency) + barriers · barrier(n) + crossing · P · (n − 1)/n
 * barriers: two per step (per slot-full of examples: see epoch-share.ts); P: the parameters, whose
 * rows each thread updates and every other thread then reads in the next forward pass (they cross
 * cores every step); efficiency: two busy cores do not each run as fast as one alone (shared
 * cache, clock). Fewer threads win unless more are at least {@link referenceCosts}.minGain faster.
 */
export interface CostModel {
  /** µs per example of a step on one thread, besides its multiply-adds (dispatch, activations, claiming it), per kernel. */
  readonly perExample: Readonly<Record<CostedKernel, number>>;
  /** ns per multiply-add of an example's passes and gradient, on one thread, per kernel. */
  readonly perMultiplyAdd: Readonly<Record<CostedKernel, number>>;
  /** Speed of each of ≥ 2 busy threads ÷ one thread's alone. */
  readonly efficiency: number;
  /** µs of one barrier of 2 threads. */
  readonly barrier: number;
  /** µs more per barrier for each thread beyond 2 (modelled: one more contended arrival each). */
  readonly barrierPerExtraThread: number;
  /** ns per float32 parameter that reaches another core each step (a float64 one counts twice: twice the bytes). */
  readonly crossing: number;
  /** How much faster (×) more threads must be predicted to be to take them. */
  readonly minGain: number;
  /**
   * The neuron split (parallelism "neurons"): the share of a one-thread step that its threads
   * divide among themselves (the hidden layer's passes and most of its update); the rest (the output
   * layer, which every thread computes, and walking each example's inputs) each thread does whole.
   * Its step on n threads: T(1) · (neuronShare / n + 1 − neuronShare) + one barrier; no weight crosses cores.
   */
  readonly neuronShare: number;
}

/**
 * Fitted on 2026-12-02 on the 2-core AMD EPYC machine the tests and CI run on, by a first
 * `npm run bench:auto -- --no-record`: one-thread µs per example by least squares, the rest by
 * least squares on the log of the two ÷ one thread ratios of 784-30-10, 784-100-10 and
 * 784-256-128-10 at batch 10 and 100 (measured 0.76×, 1.26×, 0.78×, 1.28×, 0.88×, 1.50×; predicted
 * 0.76×, 1.32×, 0.74×, 1.32×, 0.92×, 1.36×). With these constants, the recorded
 * `npm run bench:auto -- --runs 5` (bench/RESULTS.md, section auto-threads) measured auto at
 * 1.00–1.02× the best fixed count on all six points; its own refit (barrier 4 µs, crossing 1.0 ns)
 * makes the same choices. A first fit to issue 17's quiet Intel table (barrier 4 µs, efficiency
 * 0.83, crossing 0.275 ns) predicted 2 threads for 784-256-128-10 at batch 10, which ran at 0.92×
 * of 1 thread here: the constants belong to a machine, and `npm run bench:auto` prints them
 * refitted to the one it runs on. The float64 wasm kernel's ("wasm64") are the one-thread fit of
 * `npm run bench:auto -- --dtype float64` (bench/RESULTS.md, section auto-threads-float64,
 * 2026-12-02: 4.8–75 µs per example); with a float64 parameter's crossing counted twice, the
 * shared constants then predict its 2 ÷ 1 thread ratios as 0.86×, 1.35×, 0.85×, 1.35×, 1.04×,
 * 1.39× where it measured 0.84×, 1.15×, 0.77×, 1.38×, 1.08×, 1.76×. The TypeScript kernel's are this machine's float64 scaling table
 * in bench/RESULTS.md (2026-12-01): its steps are long enough that every core pays off.
 */
export const referenceCosts: CostModel = {
  perExample: { wasm: 1.68, wasm64: 2.1, js: 22.6 },
  perMultiplyAdd: { wasm: 0.13, wasm64: 0.366, js: 5.4 },
  efficiency: 0.72,
  barrier: 4.75,
  barrierPerExtraThread: 0.5,
  crossing: 0.74,
  minGain: 1.1,
  // fitted to `npm run bench:parallelism` (bench/RESULTS.md, section parallelism, 2026-12-02): the
  // neuron split on 2 threads ran 1.22×, 1.27×, 1.45×, 1.51× one thread's example split for
  // 784-30-10 and 784-100-10 at batch 10 and 100; this share predicts 1.19×, 1.44×, 1.34×, 1.47×
  neuronShare: 0.65,
};

/** The kernels the model has costs for: "wasm" is the float32 wasm kernel, "wasm64" the float64 one. */
export type CostedKernel = KernelName | "wasm64";

/** The costs that apply to a workload's kernel and dtype. */
export function costedKernel(work: Pick<Workload, "kernel" | "dtype">): CostedKernel {
  return work.kernel === "wasm" && work.dtype === "float64" ? "wasm64" : work.kernel;
}

/** What the thread count's payoff depends on. */
export interface Workload {
  /** Layer sizes, input layer first. */
  readonly sizes: readonly number[];
  readonly miniBatchSize: number;
  /** The worker threads' kernel. */
  readonly kernel: KernelName;
  /** The network's dtype (default float32): the wasm kernel has one of each. */
  readonly dtype?: DType;
  /** Share of the training inputs that are not zero (layer 1 skips zeros), 0 … 1. */
  readonly inputDensity: number;
  /** Whether the neuron split can run it (wasm kernel, one hidden layer, sigmoid, quadratic cost, a batch it takes). */
  readonly neuronSplit?: boolean;
}

/** A thread count and how the threads share each step, and why, in a few words for people. */
export interface ThreadChoice {
  readonly threads: number;
  readonly parallelism: Parallelism;
  readonly reason: string;
}

/** Examples a step's passes run before its barriers (MAX_SLOTS in shared-state.ts): more means more barriers. */
const SLOTS = 256;

/** Predicted µs of one step of `work` on `threads` threads (≥ 1). */
export function stepMicros(work: Workload, threads: number, costs: CostModel = referenceCosts): number {
  const { compute, sync } = stepParts(work, threads, costs);
  return compute + sync;
}

/** Predicted µs of one step of `work` split by neurons on `threads` threads (≥ 2; see {@link CostModel.neuronShare}). */
export function neuronStepMicros(work: Workload, threads: number, costs: CostModel = referenceCosts): number {
  const one = stepMicros(work, 1, costs);
  const blocks = Math.ceil(work.sizes[1]! / 4); // the split's unit: 4 neurons, the kernel's SIMD width
  const split = Math.min(threads, blocks);
  const barrier = costs.barrier + costs.barrierPerExtraThread * (threads - 2);
  return one * (costs.neuronShare / split + 1 - costs.neuronShare) + barrier;
}

/**
 * How `threads` threads share `work`'s steps when the caller leaves it to shoal: by neurons where
 * the neuron split can run it and is predicted faster, else by examples. The two give the same
 * bits, so the model may choose.
 */
export function chooseParallelism(work: Workload, threads: number, costs: CostModel = referenceCosts): Parallelism {
  if (!work.neuronSplit || threads < 2) return "examples";
  return neuronStepMicros(work, threads, costs) < stepMicros(work, threads, costs) ? "neurons" : "examples";
}

/** One example's multiply-adds (U in {@link CostModel}'s formula), and the network's parameters. */
export function exampleWork(work: Pick<Workload, "sizes" | "inputDensity">): { multiplyAdds: number; params: number } {
  const { sizes, inputDensity } = work;
  let multiplyAdds = 0;
  let params = 0;
  for (let l = 1; l < sizes.length; l++) {
    const weights = sizes[l - 1]! * sizes[l]!;
    multiplyAdds += l === 1 ? 2 * inputDensity * weights : 3 * weights;
    params += weights + sizes[l]!;
  }
  return { multiplyAdds, params };
}

/** A step's predicted µs of work (each thread's share) and of synchronisation (barriers, weights crossing cores). */
function stepParts(work: Workload, threads: number, costs: CostModel): { compute: number; sync: number } {
  const { miniBatchSize: m } = work;
  const kernel = costedKernel(work);
  const { multiplyAdds, params } = exampleWork(work);
  const one = m * (costs.perExample[kernel] + (costs.perMultiplyAdd[kernel] * multiplyAdds) / 1000);
  if (threads === 1) return { compute: one, sync: 0 };
  const barriers = 2 * Math.ceil(m / SLOTS);
  const barrier = costs.barrier + costs.barrierPerExtraThread * (threads - 2);
  return {
    compute: one / (Math.min(threads, m) * costs.efficiency),
    // a float64 parameter is two float32s' bytes to move between cores
    sync: barriers * barrier + (costs.crossing * (work.dtype === "float64" ? 2 : 1) * params * (threads - 1)) / threads / 1000,
  };
}

/**
 * The thread count `threads: "auto"` runs `work` on, on a machine of `cores` cores: the fewest
 * threads predicted to be within {@link CostModel.minGain} of the fastest count.
 */
export function chooseThreads(work: Workload, cores: number = availableParallelism(), costs: CostModel = referenceCosts): ThreadChoice {
  const most = Math.min(cores, MAX_THREADS);
  if (most <= 1) return { threads: 1, parallelism: "examples", reason: "1 thread: this machine has 1 core" };
  const times = Array.from({ length: most }, (_, i) => stepMicros(work, i + 1, costs));
  // the neuron split's times, where it can run (1 thread: the example split's)
  const neuronTimes = times.map((t, i) => (work.neuronSplit && i > 0 ? neuronStepMicros(work, i + 1, costs) : Infinity));
  const fastest = Math.min(...times, ...neuronTimes);
  const kernel = costedKernel(work) === "wasm64" ? "float64 wasm" : work.kernel;
  const step = `a ${work.sizes.join("-")} step at batch ${work.miniBatchSize} (${kernel} kernel) is ~${micros(times[0]!)} on 1 thread`;
  const modelled = most > 2 ? ` (modelled beyond 2 threads: fitted on 2 cores, extrapolated to this machine's ${most})` : "";
  // the fewest threads within minGain of the fastest, by examples or, if faster there, by neurons
  const threads = times.findIndex((t, i) => Math.min(t, neuronTimes[i]!) <= fastest * costs.minGain) + 1;
  if (threads > 1 && neuronTimes[threads - 1]! < times[threads - 1]!) {
    return {
      threads, parallelism: "neurons",
      reason: `${threads} threads sharing the hidden layer's neurons: ${step}, ~${(times[0]! / neuronTimes[threads - 1]!).toFixed(2)}× faster split by neurons on ${threads} (one barrier a step, no weight crossing cores)${modelled}`,
    };
  }
  if (threads > 1) return { threads, parallelism: "examples", reason: `${threads} threads: ${step}, ~${(times[0]! / times[threads - 1]!).toFixed(2)}× faster on ${threads}${modelled}` };
  const other = times.indexOf(Math.min(...times.slice(1))) + 1; // the best of more threads
  const sync = stepParts(work, other, costs).sync;
  return {
    threads,
    parallelism: "examples",
    reason:
      `1 thread: ${step}, too short for ${other} threads to pay for their barriers and weight exchange ` +
      `(~${micros(sync)} a step): ${other} would run at ~${(times[0]! / times[other - 1]!).toFixed(2)}× the speed of 1${modelled}`,
  };
}

/** "24 µs", "2.2 ms". */
function micros(us: number): string {
  return us < 1000 ? `${Math.round(us)} µs` : `${(us / 1000).toFixed(1)} ms`;
}

/** The share of non-zero values among the inputs of up to 512 evenly spread examples of `data` (at most ~256k values: well under a millisecond). */
export function inputDensity(data: Dataset): number {
  // called before train() checks the data: anything malformed counts as dense (train() then refuses it)
  if (typeof data !== "object" || data === null || !(data.inputs instanceof Float32Array)) return 1;
  const { count, inputSize, inputs } = data;
  const sampled = Math.min(count, 512, Math.max(1, Math.floor(2 ** 18 / inputSize)));
  if (!(Number.isInteger(sampled) && sampled > 0 && Number.isInteger(inputSize) && inputSize > 0)) return 1;
  let nonZero = 0;
  for (let s = 0; s < sampled; s++) {
    const from = Math.floor((s * count) / sampled) * inputSize;
    for (let i = from; i < from + inputSize; i++) if (inputs[i] !== 0) nonZero++;
  }
  return nonZero / (sampled * inputSize);
}
