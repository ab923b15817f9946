/**
 * A speedup model for thread counts beyond those measured: the measured 1-thread step, split over
 * n threads as the cost model of `threads: "auto"` splits it (src/train/auto-threads.ts, reused,
 * not copied), plus that model's synchronisation per step (barriers, weights crossing cores).
 *   T(1) = measured: miniBatchSize ÷ examples/s at 1 thread
 *   T(n) = T(1) / (min(n, m) · efficiency) + sync(n)          n ≥ 2
 *   sync(n) = stepMicros(n) − stepMicros(1) / (min(n, m) · efficiency)
 * So it agrees with the machine at 1 thread by construction, and beyond that it is a model: its
 * constants were fitted on the reference machine (see referenceCosts).
 */
import { referenceCosts, stepMicros, type CostModel, type Workload } from "../train/auto-threads.js";

/** A modelled point: examples/s and speedup against the measured 1 thread. */
export interface ModelPoint {
  readonly threads: number;
  readonly examplesPerSecond: number;
  readonly speedup: number;
}

/** The model's points at `threads` for `work`, from its measured 1-thread examples/s. */
export function modelSpeedups(work: Workload, oneThread: number, threads: readonly number[], costs: CostModel = referenceCosts): ModelPoint[] {
  if (!(oneThread > 0)) throw new Error(`the 1-thread examples/s must be positive, got ${oneThread}`);
  const measuredStep = (1e6 * work.miniBatchSize) / oneThread; // µs
  const modelOne = stepMicros(work, 1, costs);
  return threads.map((n) => {
    if (n === 1) return { threads: 1, examplesPerSecond: oneThread, speedup: 1 };
    const parallel = Math.min(n, work.miniBatchSize) * costs.efficiency;
    const sync = stepMicros(work, n, costs) - modelOne / parallel;
    const step = measuredStep / parallel + sync;
    return { threads: n, examplesPerSecond: (1e6 * work.miniBatchSize) / step, speedup: measuredStep / step };
  });
}
