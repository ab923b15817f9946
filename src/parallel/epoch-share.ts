import { share } from "../core/share.js";
import { arrive, BAD_UPDATE, CLAIM, DIVERGED, endStep, LIMIT, STOP } from "./barrier.js";
import { COST_STRIDE, mapRun, type RunViews, type SharedRun } from "./shared-state.js";
import { stepKernel, type StepKernel } from "./step-kernel.js";

/** One worker's task: play the part of worker `worker` for one epoch. */
export interface EpochTask {
  readonly worker: number;
  /** 1-based count of this run's epoch tasks (a replay is a new task; the pool sends the run with task 1). */
  readonly epoch: number;
  /**
   * The epoch's number counted from the training run's start (a resumed run continues its
   * checkpoint's count; a replay repeats its epoch's): dropout's masks are drawn from it.
   */
  readonly trainingEpoch: number;
  /** The epoch's learning rate (a schedule may change it from epoch to epoch). */
  readonly eta: number;
  /** L2's weight decay for the epoch's steps, 1 − ηλ/n (1: no L2). */
  readonly decay: number;
}

/** What a worker reports for its part of an epoch. */
export interface EpochShareResult {
  readonly costSum: number;
  readonly examples: number;
  readonly trainSeconds: number;
  readonly correct: number;
  /** How the worker's part ended (see {@link EpochEnd}). */
  readonly end: EpochEnd;
  /** 0-based mini-batch at which the cost or a weight became NaN or infinite, or −1. */
  readonly divergedAt: number;
  /** True when that mini-batch's update was applied (a weight went bad), false when it was not (the cost did). */
  readonly divergedAfterUpdate: boolean;
  readonly phases: StepPhases;
}

/**
 * How a worker's part of an epoch ended: every step `done`; `aborted` after the step at which the
 * coordinator's abort was seen; `limit`, the last step the coordinator allowed (a replay up to the
 * last good step); `diverged` at step `divergedAt`; or `peer-failed`, stopped because another
 * thread failed (that thread's own error is what the caller sees).
 */
export type EpochEnd = "done" | "aborted" | "limit" | "diverged" | "peer-failed";

/** Where a worker's step time went, in seconds summed over the epoch. */
export interface StepPhases {
  /** Forward pass, BP1 and BP2 of the examples it took. */
  readonly compute: number;
  /** Waiting at the two barriers of each step. */
  readonly synchronisation: number;
  /** Its rows' share of the batch: BP3 and BP4 summed over the batch's examples, and the SGD step w ← w − (η/m)Σ. */
  readonly update: number;
}

/** Called by worker `worker` before each mini-batch `step` (0-based) of `epoch`: the tests' fault-injection seam. */
export type StepHook = (worker: number, step: number, epoch: number) => void;

/** A worker thread's view of the run: mapped once, reused for every epoch. */
export interface WorkerContext {
  readonly run: SharedRun;
  readonly views: RunViews;
  /** One kernel per worker index (each has its own scratch); made on first use. */
  readonly kernels: StepKernel[];
  readonly beforeStep: StepHook | undefined;
}

/** Maps the run's shared memory (once per thread). */
export function workerContext(run: SharedRun, beforeStep?: StepHook): WorkerContext {
  return { run, views: mapRun(run), kernels: [], beforeStep };
}

/**
 * Worker k's part of one epoch: for each mini-batch, its share of the examples' passes, a barrier,
 * BP3/BP4 and the SGD step for its own rows, a barrier. The protocol, and why it gives the same
 * bits for any thread count, is in CONTRACT.md.
 */
export function runEpochShare(context: WorkerContext, task: EpochTask): EpochShareResult {
  const { run, views, beforeStep } = context;
  const { threads, miniBatchSize } = run;
  const { test, order, control } = views;
  const k = task.worker;
  const kernel = (context.kernels[k] ??= stepKernel(run, views, k));
  // Benchmark-only (SharedRun.privateWeights): worker k > 0 computes on its own copy of the weights.
  if (run.privateWeights && k > 0) views.gradients[k]!.set(views.params);
  else views.gradients[k]!.fill(0); // a previous epoch may have stopped between a batch's chunks

  const started = performance.now();
  const tally: Tally = { costSum: 0, examples: 0, compute: 0, synchronisation: 0, update: 0 };
  const result = (end: EpochEnd, divergedAt = -1, divergedAfterUpdate = false): EpochShareResult => ({
    costSum: tally.costSum, examples: tally.examples, trainSeconds: (performance.now() - started) / 1000, correct: 0,
    end, divergedAt, divergedAfterUpdate,
    phases: { compute: tally.compute / 1000, synchronisation: tally.synchronisation / 1000, update: tally.update / 1000 },
  });
  const limit = Atomics.load(control, LIMIT);
  for (let start = 0, step = 0; start < order.length; start += miniBatchSize, step++) {
    if (step >= limit) return result("limit");
    beforeStep?.(k, step, task.epoch);
    kernel.dropoutMask(task.trainingEpoch, step);
    if (!trainStep(run, views, kernel, k, start, Math.min(miniBatchSize, order.length - start), task.eta, task.decay, tally)) return result("diverged", step);
    if (Atomics.load(control, BAD_UPDATE) !== 0) return result("diverged", step, true);
    if (Atomics.load(control, STOP) !== 0) return result("aborted");
  }
  const trained = result("done");
  if (!test) return trained;
  const part = share(test.count, k, threads);
  return { ...trained, correct: kernel.countCorrect(part.from, part.to) };
}

/** A worker's running sums over an epoch; times in milliseconds. */
interface Tally {
  costSum: number;
  examples: number;
  compute: number;
  synchronisation: number;
  update: number;
}

/**
 * Worker k's part of one mini-batch, the m examples at order[start …]: steps 1–4 above, adding its
 * cost and phase times to `tally`. Returns false, without applying the step, if the batch's cost
 * was NaN or infinite. A function of its own, not a loop body inside runEpochShare, so that V8
 * optimises it within the first epoch: a long-running function is only compiled after several
 * calls (measured: in the fifth epoch, ~30–40 ms of compiling that stalled both threads).
 */
function trainStep(run: SharedRun, views: RunViews, kernel: StepKernel, k: number, start: number, m: number, eta: number, decay: number, tally: Tally): boolean {
  const { threads } = run;
  const { order, control, costs } = views;
  const chunk = run.regions.slotCount;
  let stepCost = 0; // summed as the in-process path does: the batch's costs in order, then into the epoch's
  for (let first = 0; first < m; first += chunk) {
    const count = Math.min(chunk, m - first);
    const last = first + count === m;
    const t0 = performance.now();
    for (let s = Atomics.add(control, CLAIM, 1); s < count; s = Atomics.add(control, CLAIM, 1)) {
      const cost = kernel.forwardAndDeltas(order[start + first + s]!, s);
      costs[s * COST_STRIDE] = cost;
      if (!Number.isFinite(cost)) Atomics.store(control, DIVERGED, 1);
    }
    const t1 = performance.now();
    tally.compute += t1 - t0;
    arrive(control, threads, resetClaims); // every slot of this chunk is written
    if (k === 0) {
      // worker 0 adds up the chunk's costs, in example order, so the reported cost is deterministic too
      for (let s = 0; s < count; s++) stepCost += costs[s * COST_STRIDE]!;
      tally.examples += count;
    }
    tally.synchronisation += performance.now() - t1;
    // Divergence guard: a NaN or infinite cost anywhere in this batch means its gradient is no good.
    // Every worker reads the flag here, between the batch's two barriers (after the second, a
    // faster worker may already have set it for the next batch), so all stop at the same batch,
    // before its update.
    if (Atomics.load(control, DIVERGED) !== 0) {
      tally.costSum += stepCost;
      return false;
    }
    const t2 = performance.now();
    let finite = true;
    if (first === 0 && last) finite = kernel.step(count, eta / m, decay); // the whole batch is in the slots
    else {
      kernel.accumulate(count);
      if (last) finite = kernel.update(eta / m, decay);
    }
    if (!finite) Atomics.store(control, BAD_UPDATE, 1);
    const t3 = performance.now();
    arrive(control, threads, last ? endStep : undefined); // every row is updated (or every slot read)
    tally.update += t3 - t2;
    tally.synchronisation += performance.now() - t3;
  }
  tally.costSum += stepCost;
  return true;
}

function resetClaims(control: Int32Array): void {
  Atomics.store(control, CLAIM, 0);
}

/** The result of a worker that stopped because another thread failed (it did no more work). */
export function peerFailedResult(): EpochShareResult {
  return {
    costSum: 0, examples: 0, trainSeconds: 0, correct: 0, end: "peer-failed", divergedAt: -1, divergedAfterUpdate: false,
    phases: { compute: 0, synchronisation: 0, update: 0 },
  };
}
