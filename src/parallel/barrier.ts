/**
 * A reusable barrier among the worker threads of a run, on Int32 words of the control buffer.
 * Workers may block (Atomics.wait is allowed off the main thread); the coordinator never waits on it.
 *
 * Control words (all accessed with Atomics only):
 *   COUNT       threads arrived at the current barrier
 *   GENERATION  bumped each time the barrier opens; waiters sleep on it
 *   ABORT       set to 1 by the coordinator when the AbortSignal fires
 *   STOP        set by the last thread to arrive at a step's end (a copy of ABORT taken at one
 *               instant, so every worker makes the same decision at the same step)
 *   FAILED      set to 1 when any thread failed; waiters then throw instead of waiting forever
 *   STEPS       mini-batch steps completed in the current epoch (reset by the coordinator before
 *               each epoch, counted at each step's end; read by the coordinator for progress)
 *   DIVERGED    set when a worker's examples gave a NaN or infinite cost in the current step
 *               (written before the step's first barrier, read after it, so all workers agree)
 *   BAD_UPDATE  set when a worker's update made a weight NaN or infinite (written before the
 *               step's second barrier, read after it). Two words, because one worker may write
 *               BAD_UPDATE while a slower one is still reading DIVERGED after the first barrier.
 *   LIMIT       steps to run this epoch, written by the coordinator before the epoch's tasks
 *               (fewer than the epoch's steps only when replaying up to the last good step)
 *   CLAIM       the next example of the current mini-batch (chunk) that no worker has taken yet;
 *               workers take examples with Atomics.add, the last to reach the barrier resets it
 */
export const COUNT = 0;
export const GENERATION = 1;
export const ABORT = 2;
export const STOP = 3;
export const FAILED = 4;
export const STEPS = 5;
export const DIVERGED = 6;
export const LIMIT = 7;
export const BAD_UPDATE = 8;
// On the second cache line of the control words: workers write it for every example they take,
// while workers already at the barrier keep reading COUNT and GENERATION.
export const CLAIM = 16;

// A short spin before sleeping: a step's barrier usually opens within microseconds, far sooner than
// a futex wake-up (~25 µs measured), but spinning long would steal the core from a busy main thread.
const SPIN = 2000;

/** Message of the error a worker throws when it stops because another thread failed. */
export const PEER_FAILED = "stopped because another training thread failed";

/**
 * Waits until `parties` threads have arrived. The last to arrive runs `whenAll` (if given) before
 * opening the barrier, so its effect is seen by all of them.
 */
export function arrive(control: Int32Array, parties: number, whenAll?: (control: Int32Array) => void): void {
  const generation = Atomics.load(control, GENERATION);
  if (Atomics.add(control, COUNT, 1) === parties - 1) {
    whenAll?.(control);
    Atomics.store(control, COUNT, 0);
    Atomics.add(control, GENERATION, 1);
    Atomics.notify(control, GENERATION);
  } else {
    for (let i = 0; i < SPIN && Atomics.load(control, GENERATION) === generation; i++);
    // FAILED is checked before sleeping: a failure marked before we read `generation` bumped it already
    while (Atomics.load(control, GENERATION) === generation && Atomics.load(control, FAILED) === 0) {
      Atomics.wait(control, GENERATION, generation);
    }
  }
  if (Atomics.load(control, FAILED) !== 0) throw new Error(PEER_FAILED);
}

/** Run by the last thread at a step's end: count the step, and stop if the coordinator asked to. */
export function endStep(control: Int32Array): void {
  Atomics.add(control, STEPS, 1);
  Atomics.store(control, STOP, Atomics.load(control, ABORT));
}

/** Marks the run failed and wakes every waiting thread (they then throw {@link PEER_FAILED}). */
export function markFailed(control: Int32Array): void {
  Atomics.store(control, FAILED, 1);
  Atomics.add(control, GENERATION, 1);
  Atomics.notify(control, GENERATION);
}
