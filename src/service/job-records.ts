import { UnknownJobError } from "./errors.js";
import { finalStatuses, type JobEvent, type JobInfo, type JobStatus } from "./job.js";

type Listener = (event: JobEvent) => void;

/** Whether a job in this status has ended (done, failed or cancelled). */
export function isFinal(status: JobStatus): boolean {
  return finalStatuses.includes(status);
}

/**
 * The job records a job source keeps in the caller's thread, and who listens to them: shared by
 * the BackgroundTrainer (records mirrored from its thread's events) and the RedisJobQueue (records
 * mirrored from the queue's events). Events for one job must be dispatched in order; a record is
 * kept only if it is newer (`seq`) than the one held, since events and call results may arrive by
 * different paths.
 */
export class JobRecords<I extends JobInfo = JobInfo> {
  private readonly records = new Map<string, I>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly allListeners = new Set<Listener>();
  private readonly waiters = new Map<string, Set<(info: I) => void>>();

  /** A job's latest record, or undefined. */
  get(id: string): I | undefined {
    return this.records.get(id);
  }

  /** A job's latest record; an unknown id is an UnknownJobError. */
  known(id: string): I {
    const info = typeof id === "string" ? this.records.get(id) : undefined;
    if (info === undefined) throw new UnknownJobError(String(id));
    return info;
  }

  /** Every record, in the order jobs became known. */
  all(): I[] {
    return [...this.records.values()];
  }

  counts(): Record<JobStatus, number> {
    const counts: Record<JobStatus, number> = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
    for (const info of this.records.values()) counts[info.status]++;
    return counts;
  }

  /** Keeps `info` unless the record held is as new; resolves the job's waiters when it has ended. Returns the record held. */
  store(info: I): I {
    const current = this.records.get(info.id);
    if (current !== undefined && current.seq >= info.seq) return current;
    this.records.set(info.id, info);
    if (isFinal(info.status)) {
      const waiters = this.waiters.get(info.id);
      this.waiters.delete(info.id);
      waiters?.forEach((resolve) => resolve(info));
    }
    return info;
  }

  /** Drops a record that never became a job (its submission failed). */
  forget(id: string): void {
    this.records.delete(id);
  }

  /** One event, in order: keep its record, then tell the job's listeners and everyone's. */
  dispatch(event: JobEvent): void {
    this.store(event.job as I);
    const id = event.job.id;
    for (const listener of [...(this.listeners.get(id) ?? []), ...this.allListeners]) {
      try {
        listener(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error; // a listener's bug is the listener's: report it as uncaught, do not stop the others
        });
      }
    }
    if (isFinal(event.job.status)) this.listeners.delete(id);
  }

  /** Calls `listener` with every event of every job; returns the function that stops it. */
  onEvent(listener: Listener): () => void {
    this.allListeners.add(listener);
    return () => void this.allListeners.delete(listener);
  }

  /** Calls `listener` with each event of job `id` (known or not yet) until its last; returns the function that stops it. */
  subscribe(id: string, listener: Listener): () => void {
    let set = this.listeners.get(id);
    if (set === undefined) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }

  /** {@link subscribe} for a known job. */
  watch(id: string, listener: Listener): () => void {
    this.known(id);
    return this.subscribe(id, listener);
  }

  /** Resolves with the job's record once it has ended; rejects with an UnknownJobError for an unknown id. */
  wait(id: string): Promise<I> {
    const info = this.records.get(id);
    if (info === undefined) return Promise.reject(new UnknownJobError(id));
    if (isFinal(info.status)) return Promise.resolve(info);
    return new Promise((resolve) => {
      let set = this.waiters.get(id);
      if (set === undefined) this.waiters.set(id, (set = new Set()));
      set.add(resolve);
    });
  }

  /**
   * The job's events from now on, ending with its last (done, failed or cancelled). For a job that
   * has already ended, just that last event. Breaking out of the loop stops listening.
   */
  events(id: string): AsyncIterableIterator<JobEvent> {
    const snapshot = this.known(id);
    const buffer: JobEvent[] = [];
    let pending: ((result: IteratorResult<JobEvent>) => void) | undefined;
    let finished = false;
    let unsubscribe = (): void => {};
    const finish = (): void => {
      finished = true;
      unsubscribe();
      pending?.({ value: undefined, done: true });
      pending = undefined;
    };
    const deliver = (event: JobEvent): void => {
      if (pending) {
        pending({ value: event, done: false });
        pending = undefined;
      } else {
        buffer.push(event);
      }
    };
    if (isFinal(snapshot.status)) {
      buffer.push({ type: snapshot.status as "done", job: snapshot });
    } else {
      unsubscribe = this.subscribe(id, (event) => {
        if (event.job.seq <= snapshot.seq) return; // older than the record the caller started from
        deliver(event);
        if (isFinal(event.job.status)) unsubscribe();
      });
    }
    const iterator: AsyncIterableIterator<JobEvent> = {
      next: () => {
        const event = buffer.shift();
        if (event !== undefined) {
          if (isFinal(event.job.status)) finished = true; // the last one: the next call ends the loop
          return Promise.resolve({ value: event, done: false });
        }
        if (finished) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          pending = (result) => {
            if (!result.done && isFinal(result.value.job.status)) finished = true;
            resolve(result);
          };
        });
      },
      return: () => {
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}

/**
 * The record-keeping half of a {@link JobSource}, answered from the records kept in this thread:
 * what the BackgroundTrainer and the RedisJobQueue share. Each keeps `records` up to date from its
 * own events.
 */
export abstract class MirroredJobs<I extends JobInfo = JobInfo> {
  protected readonly records = new JobRecords<I>();

  /** A job's latest record, or undefined for an unknown id. */
  job(id: string): I | undefined {
    return this.records.get(id);
  }

  /** Every job's latest record, oldest first. */
  jobs(): I[] {
    return this.records.all();
  }

  /** How many jobs are in each status. */
  counts(): Record<JobStatus, number> {
    return this.records.counts();
  }

  /**
   * Calls `listener` with each event of job `id` from now on, in order, until its last (done,
   * failed or cancelled); returns the function that stops it sooner.
   */
  watch(id: string, listener: Listener): () => void {
    return this.records.watch(id, listener);
  }

  /** Calls `listener` with every event of every job from now on, in order per job; returns the function that stops it. */
  onEvent(listener: Listener): () => void {
    return this.records.onEvent(listener);
  }

  /** Resolves with the job's record once it has ended (done, failed or cancelled); never rejects for a failed job. */
  wait(id: string): Promise<I> {
    return this.records.wait(id);
  }
}
