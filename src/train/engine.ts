/**
 * The seam between the coordinator (train.ts: epochs, shuffling, reports, abort) and the code that
 * runs an epoch's mini-batches — in process (serial.ts) or on worker threads (parallel.ts).
 */
export interface Engine {
  /** Runs one epoch's mini-batches over the examples in `order`, then evaluates the test data if any. */
  runEpoch(order: Int32Array): Promise<EpochOutcome>;
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
}
