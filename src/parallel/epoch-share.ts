import { share } from "../core/sgd.js";
import { arrive, BAD_UPDATE, CLAIM, DIVERGED, endStep, LIMIT, STOP } from "./barrier.js";
import { COST_STRIDE, mapRun, type RunViews, type SharedRun, type TestFault } from "./shared-state.js";
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
  /** Forward pass, BP1 and BP2 of the examples it took. */
  readonly compute: number;
  /** Waiting at the two barriers of each step. */
  readonly synchronisation: number;
  /** Its rows' share of the batch: BP3 and BP4 summed over the batch's examples, and the SGD step w ← w − (η/m)Σ. */
  readonly update: number;
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
 * Worker k's part of one epoch. Threads exchange each example's δs and activations, not gradients:
 *
 * 1. Workers take the mini-batch's examples one at a time from a shared counter (a faster or less
 *    busy core simply takes more) and run the forward pass, BP1 and BP2 of each, leaving where the
 *    example's non-zero inputs are, its activations, δs and cost in slot s for the batch's example s.
 * 2. Barrier: every slot is written.
 * 3. Worker k owns a fixed part of the parameters (its rows: a share of every layer's weights and
 *    biases). It adds BP3 and BP4 of every example of the batch to its rows, in example order, then
 *    applies w ← w − (η/m)Σ to them (kernel.step: the wasm kernel does both in one pass per row).
 * 4. Barrier: every parameter is updated and the next mini-batch can start.
 *
 * The sum for each parameter is made by one thread in example order, so the result does not depend
 * on the number of threads at all: 1, 2 or 16 threads give the same bits. What crosses cores per
 * step is a few kilobytes of δs and activations and the rows that changed, instead of a gradient
 * buffer per thread. A mini-batch larger than the run's slots goes through steps 1–3 in chunks
 * (each ending at a barrier), the update applied after the last chunk. No message crosses threads.
 */
export function runEpochShare(context: WorkerContext, task: EpochTask): EpochShareResult {
  const { run, views } = context;
  const { threads, miniBatchSize, testFault } = run;
  const { test, order, control } = views;
  const k = task.worker;
  const kernel = (context.kernels[k] ??= stepKernel(run, views, k));
  // Benchmark-only (TrainOptions.privateWeights): worker k > 0 computes on its own copy of the weights.
  if (run.privateWeights && k > 0) views.gradients[k]!.set(views.params);
  else views.gradients[k]!.fill(0); // a previous epoch may have stopped between a batch's chunks

  const started = performance.now();
  const tally: Tally = { costSum: 0, examples: 0, compute: 0, synchronisation: 0, update: 0 };
  const result = (stopped: boolean, divergedAt = -1, divergedAfterUpdate = false): EpochShareResult => ({
    costSum: tally.costSum, examples: tally.examples, trainSeconds: (performance.now() - started) / 1000, correct: 0,
    stopped, divergedAt, divergedAfterUpdate,
    phases: { compute: tally.compute / 1000, synchronisation: tally.synchronisation / 1000, update: tally.update / 1000 },
  });
  const limit = Atomics.load(control, LIMIT);
  for (let start = 0, step = 0; start < order.length; start += miniBatchSize, step++) {
    if (step >= limit) return result(true);
    if (testFault && testFault.worker === k && testFault.step === step && task.epoch === 1) injectFault(testFault);
    if (!trainStep(run, views, kernel, k, start, Math.min(miniBatchSize, order.length - start), tally)) return result(false, step);
    if (Atomics.load(control, BAD_UPDATE) !== 0) return result(false, step, true);
    if (Atomics.load(control, STOP) !== 0) return result(true);
  }
  const trained = result(false);
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
function trainStep(run: SharedRun, views: RunViews, kernel: StepKernel, k: number, start: number, m: number, tally: Tally): boolean {
  const { threads, eta } = run;
  const { order, control, costs } = views;
  const chunk = run.regions.slotCount;
  let stepCost = 0; // summed as the in-process path does: the batch's costs in order, then into the epoch's
  for (let first = 0; first < m; first += chunk) {
    const count = Math.min(chunk, m - first);
    const last = first + count === m;
    const t0 = performance.now();
    for (let s = Atomics.add(control, CLAIM, 1); s < count; s = Atomics.add(control, CLAIM, 1)) {
      const cost = kernel.backpropagate(order[start + first + s]!, s);
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
    if (first === 0 && last) finite = kernel.step(count, eta / m); // the whole batch is in the slots
    else {
      kernel.accumulate(count);
      if (last) finite = kernel.update(eta / m);
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

function injectFault(fault: TestFault): never {
  if (fault.exit) process.exit(1);
  throw new Error(fault.message);
}
