import type { Params } from "../core/network.js";
import type { StepPhases } from "../parallel/epoch-share.js";

/**
 * The seam between the coordinator (train.ts: epochs, shuffling, reports, abort) and the code that
 * runs an epoch's mini-batches — in process (serial.ts) or on worker threads (parallel.ts).
 */
export interface Engine {
  /**
   * Runs one epoch's mini-batches over the examples in `order` with learning rate `eta`, then
   * evaluates the test data if any. `epoch` is its 1-based number from the training run's start (a
   * resumed run continues the count): dropout's masks depend on it. `progress(examplesDone)` is
   * called now and then (at most every PROGRESS_INTERVAL_MS) during the epoch. With `stopBefore`,
   * only mini-batches [0, stopBefore) run.
   */
  runEpoch(order: Int32Array, epoch: number, eta: number, progress?: (examplesDone: number) => void, stopBefore?: number): Promise<EpochOutcome>;
  /**
   * Replaces the parameters being trained, and with momentum their velocities (to replay an epoch
   * up to its last good step, or to resume a checkpoint).
   */
  load(params: Params, velocities?: Params): void;
  /** With momentum, a copy of the velocities in the network's layout (between epochs); else undefined. */
  velocities(): Params | undefined;
  /** Releases threads and memory. Safe to call more than once. */
  close(): Promise<void>;
}

export interface EpochOutcome {
  /** Sum of the per-example costs seen in the forward passes. */
  readonly costSum: number;
  /** Training examples processed (fewer than the epoch's when aborted). */
  readonly examples: number;
  /** Seconds spent in the training steps (without evaluation). */
  readonly trainSeconds: number;
  /** Correct test answers, or undefined without test data or when aborted. */
  readonly correct: number | undefined;
  /** True when the AbortSignal stopped the epoch early (after a completed step). */
  readonly aborted: boolean;
  /** 0-based mini-batch at which the cost or a weight became NaN or infinite (the epoch stopped there), or −1. */
  readonly divergedAt: number;
  /** True when that mini-batch's update was applied (the parameters are bad and must be restored). */
  readonly divergedAfterUpdate: boolean;
  /** Where the workers' step time went (threaded path only), averaged over workers. */
  readonly phases?: StepPhases;
}

/** How often, at most, an engine reports progress within an epoch. */
export const PROGRESS_INTERVAL_MS = 100;
