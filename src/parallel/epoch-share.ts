import { share } from "../core/sgd.js";
import { arrive, DIVERGED, endStep, LIMIT, STOP } from "./barrier.js";
import { mapRun, type RunViews, type SharedRun, type TestFault } from "./shared-state.js";
import { stepKernel, type StepKernel } from "./step-kernel.js";

/** One worker's task: play the part of worker `worker` for one epoch. */
export interface EpochTask {
  readonly worker: number;
  readonly epoch: number;
}

/** What a worker reports for its part of an epoch. */
export interface EpochShareResult {
  readonly costSum: number;
  readonly examples: number;
  readonly trainSeconds: number;
  readonly correct: number;
  /** Stopped early by an abort. */
  readonly stopped: boolean;
  /** 0-based mini-batch at which the cost or a weight became NaN or infinite, or −1. */
  readonly divergedAt: number;
  /** True when that mini-batch's update was applied (a weight went bad), false when it was not (the cost did). */
  readonly divergedAfterUpdate: boolean;
  readonly phases: StepPhases;
}

/** Where a worker's step time went, in seconds summed over the epoch. */
export interface StepPhases {
  /** Forward and backward passes (the kernel). */
  readonly compute: number;
  /** Waiting at each step's barrier. */
  readonly synchronisation: number;
  /** Summing every worker's gradient region and updating this worker's parameter copy. */
  readonly reduction: number;
}

/** A worker thread's view of the run: mapped once, reused for every epoch. */
export interface WorkerContext {
  readonly run: SharedRun;
  readonly views: RunViews;
  /** One kernel per worker index (each has its own scratch); made on first use. */
  readonly kernels: StepKernel[];
}

/** Maps the run's shared memory (once per thread). */
export function workerContext(run: SharedRun): WorkerContext {
  return { run, views: mapRun(run), kernels: [] };
}

/**
 * Worker k's part of one epoch. Each mini-batch of m examples is cut into `threads` contiguous
 * shares; worker k runs backprop on its share, accumulating into its own gradient region (of the
 * step's parity). At the step's one barrier every gradient is complete; each worker then sums all
 * regions (in worker order, so every worker gets the same sum) and applies w ← w − (η/m)Σ to its
 * own copy of the parameters, which therefore stay identical. No message crosses threads during
 * the epoch. (shared-state.ts explains why two parities make one barrier per step enough.)
 */
export function runEpochShare(context: WorkerContext, task: EpochTask): EpochShareResult {
  const { run, views } = context;
  const { threads, miniBatchSize, eta, testFault } = run;
  const { test, order, control } = views;
  const k = task.worker;
  const kernel = (context.kernels[k] ??= stepKernel(run, views, k));

  const started = performance.now();
  let costSum = 0;
  let examples = 0;
  let step = 0;
  let compute = 0;
  let synchronisation = 0;
  let reduction = 0;
  const phases = (): StepPhases => ({ compute: compute / 1000, synchronisation: synchronisation / 1000, reduction: reduction / 1000 });
  const result = (stopped: boolean, divergedAt = -1, divergedAfterUpdate = false): EpochShareResult => ({
    costSum, examples, trainSeconds: (performance.now() - started) / 1000, correct: 0, stopped, divergedAt, divergedAfterUpdate, phases: phases(),
  });
  const limit = Atomics.load(control, LIMIT);
  for (let start = 0; start < order.length; start += miniBatchSize, step++) {
    if (step >= limit) return result(true);
    const m = Math.min(miniBatchSize, order.length - start);
    if (testFault && testFault.worker === k && testFault.step === step && task.epoch === 1) injectFault(testFault);
    const t0 = performance.now();
    const parity = step & 1;
    kernel.clear(parity);
    const part = share(m, k, threads);
    let stepCost = 0;
    for (let p = start + part.from; p < start + part.to; p++) stepCost += kernel.accumulate(order[p]!, parity);
    if (!Number.isFinite(stepCost)) Atomics.store(control, DIVERGED + parity, 1);
    costSum += stepCost;
    examples += part.to - part.from;
    const t1 = performance.now();
    arrive(control, threads, endStep); // every gradient of this batch is written
    // Divergence guard: a NaN or infinite cost anywhere in this batch means its gradient is no good;
    // every worker sees the flag after the barrier and stops before applying the step.
    if (Atomics.load(control, DIVERGED + parity) !== 0) return result(false, step);
    const t2 = performance.now();
    // every copy gets the same update, so every worker sees the same bad value at the same step
    if (!kernel.descend(parity, eta / m)) return result(false, step, true);
    const t3 = performance.now();
    compute += t1 - t0;
    synchronisation += t2 - t1;
    reduction += t3 - t2;
    if (Atomics.load(control, STOP) !== 0) return result(true);
  }
  const trained = result(false);
  if (!test) return trained;
  const part = share(test.count, k, threads);
  return { ...trained, correct: kernel.countCorrect(part.from, part.to) };
}

function injectFault(fault: TestFault): never {
  if (fault.exit) process.exit(1);
  throw new Error(fault.message);
}
