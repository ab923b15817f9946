/**
 * The run's control words and the barrier the worker threads meet at: Int32 words of the shared
 * memory, accessed with Atomics only. What each word means, who writes it and when is part of the
 * parallel contract: see CONTRACT.md beside this file. Workers may block (Atomics.wait is allowed
 * off the main thread); the coordinator never waits on it, and writes the words only through the
 * named functions at the end of this file.
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

/**
 * Thrown in a worker by {@link arrive} when another thread failed. It never leaves the worker: the
 * worker entry turns it into an epoch result, so the coordinator can tell the thread that failed
 * from the ones it stopped (an error's class does not survive the message to the coordinator).
 */
export class PeerFailedError extends Error {
  constructor() {
    super("stopped because another training thread failed");
    this.name = "PeerFailedError";
  }
}

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
  if (Atomics.load(control, FAILED) !== 0) throw new PeerFailedError();
}

/** Run by the last thread at a step's end: count the step, and stop if the coordinator asked to. */
export function endStep(control: Int32Array): void {
  Atomics.add(control, STEPS, 1);
  Atomics.store(control, STOP, Atomics.load(control, ABORT));
}

/** Marks the run failed and wakes every waiting thread (they then throw {@link PeerFailedError}). */
export function markFailed(control: Int32Array): void {
  Atomics.store(control, FAILED, 1);
  Atomics.add(control, GENERATION, 1);
  Atomics.notify(control, GENERATION);
}

// The coordinator's side: it writes control words only through these.

/** Before an epoch's tasks start: no step done, no flag from the last epoch, run steps [0, limit). */
export function beginEpoch(control: Int32Array, limit: number): void {
  Atomics.store(control, STEPS, 0);
  Atomics.store(control, DIVERGED, 0);
  Atomics.store(control, BAD_UPDATE, 0);
  Atomics.store(control, LIMIT, limit);
  Atomics.store(control, CLAIM, 0);
}

/** Asks the workers to stop after the current step (they all stop after the same one: see STOP). */
export function requestAbort(control: Int32Array): void {
  Atomics.store(control, ABORT, 1);
}

/** Steps completed so far in the current epoch. */
export function stepsDone(control: Int32Array): number {
  return Atomics.load(control, STEPS);
}
