import { share } from "../core/sgd.js";
import { arrive, BAD_UPDATE, DIVERGED, endStep, LIMIT, STOP } from "./barrier.js";
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
  /** Waiting at the two barriers of each step. */
  readonly synchronisation: number;
  /** Summing the gradient regions over this worker's parameter slice and updating it. */
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
 * shares; worker k runs backprop on its share, accumulating into its own gradient region. At the
 * first barrier every gradient is complete; worker k then sums all regions over its own slice of
 * the parameters (in worker order, so the result is deterministic) and applies w ← w − (η/m)Σ to
 * that slice. At the second barrier every parameter is updated and the next step can start.
 * No message crosses threads during the epoch.
 */
export function runEpochShare(context: WorkerContext, task: EpochTask): EpochShareResult {
  const { run, views } = context;
  const { threads, miniBatchSize, eta, testFault } = run;
  const { test, order, control } = views;
  const k = task.worker;
  const kernel = (context.kernels[k] ??= stepKernel(run, views, k));
  const units = share(run.regions.paramCount / kernel.granularity, k, threads);
  const slice = { from: units.from * kernel.granularity, to: units.to * kernel.granularity };

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
    const part = share(m, k, threads);
    let stepCost = 0;
    for (let p = start + part.from; p < start + part.to; p++) stepCost += kernel.accumulate(order[p]!, k);
    if (!Number.isFinite(stepCost)) Atomics.store(control, DIVERGED, 1);
    costSum += stepCost;
    examples += part.to - part.from;
    const t1 = performance.now();
    arrive(control, threads); // every gradient of this batch is written
    // Divergence guard: a NaN or infinite cost anywhere in this batch means its gradient is no good;
    // every worker sees the flag after the barrier and stops before applying the step.
    if (Atomics.load(control, DIVERGED) !== 0) return result(false, step);
    const t2 = performance.now();
    if (!kernel.descend(slice.from, slice.to, eta / m)) Atomics.store(control, BAD_UPDATE, 1);
    const t3 = performance.now();
    arrive(control, threads, endStep); // every parameter is updated
    if (Atomics.load(control, BAD_UPDATE) !== 0) return result(false, step, true);
    const t4 = performance.now();
    compute += t1 - t0;
    synchronisation += t2 - t1 + (t4 - t3);
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
