/**
 * A speedup model for thread counts beyond those measured, per parallel strategy: the cost model of
 * `threads: "auto"` and `parallelism: "auto"` (src/train/auto-threads.ts, reused, not copied),
 * with its compute rescaled so that its 1-thread step is the one measured on this machine. Its
 * synchronisation (barriers, weights crossing cores) keeps the reference machine's constants:
 *   k = T(1) measured ÷ T(1) of the cost model      (T(1) = miniBatchSize ÷ examples/s at 1 thread)
 *   examples: T(n) = k · T(1)_model / (min(n, m) · efficiency) + sync(n)     (stepMicros)
 *   neurons:  T(n) = k · T(1)_model · (share / split + 1 − share) + barrier  (neuronStepMicros)
 * So it agrees with the machine at 1 thread by construction (both strategies' 1-thread step is the
 * same work), and beyond that it is a model: its constants were fitted on the reference machine
 * (see referenceCosts).
 */
import type { Parallelism } from "../parallel/shared-state.js";
import { costedKernel, neuronStepMicros, referenceCosts, stepMicros, type CostModel, type CostedKernel, type Workload } from "../train/auto-threads.js";

/** A modelled point: examples/s and speedup against the measured 1 thread. */
export interface ModelPoint {
  readonly threads: number;
  readonly examplesPerSecond: number;
  readonly speedup: number;
}

/**
 * Why the model cannot predict `strategy` for `work`, or undefined when it can. The cost model's
 * neuron split was fitted on the float32 wasm kernel's (bench:parallelism); another kernel's is only
 * measured.
 */
export function modelRefusal(work: Workload, strategy: Parallelism): string | undefined {
  const kernel = costedKernel(work);
  if (strategy === "neurons" && kernel === "wasm64") return "the cost model's neuron split is the float32 wasm kernel's, and a float64 network splits by neurons on the js kernel";
  if (strategy === "neurons" && kernel !== "wasm") return `the cost model's neuron split is the float32 wasm kernel's, and this workload runs on the ${kernel} kernel`;
  return undefined;
}

/** The model's points at `threads` for `work` split by `strategy`, from its measured 1-thread examples/s. */
export function modelSpeedups(work: Workload, oneThread: number, threads: readonly number[], strategy: Parallelism = "examples", costs: CostModel = referenceCosts): ModelPoint[] {
  if (!(oneThread > 0)) throw new Error(`the 1-thread examples/s must be positive, got ${oneThread}`);
  const refusal = modelRefusal(work, strategy);
  if (refusal !== undefined) throw new Error(`no model of parallelism ${strategy}: ${refusal}`);
  const measuredStep = (1e6 * work.miniBatchSize) / oneThread; // µs
  const local = scaledCompute(costs, measuredStep / stepMicros(work, 1, costs));
  return threads.map((n) => {
    if (n === 1) return { threads: 1, examplesPerSecond: oneThread, speedup: 1 };
    const step = strategy === "neurons" ? neuronStepMicros(work, n, local) : stepMicros(work, n, local);
    return { threads: n, examplesPerSecond: (1e6 * work.miniBatchSize) / step, speedup: measuredStep / step };
  });
}

/** `costs` with every thread's compute k times as long (its per-example and per-multiply-add costs), the synchronisation as it was. */
function scaledCompute(costs: CostModel, k: number): CostModel {
  const scale = (perKernel: Readonly<Record<CostedKernel, number>>): Record<CostedKernel, number> => ({ wasm: k * perKernel.wasm, wasm64: k * perKernel.wasm64, js: k * perKernel.js });
  return { ...costs, perExample: scale(costs.perExample), perMultiplyAdd: scale(costs.perMultiplyAdd) };
}
