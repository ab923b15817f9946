import { hostname } from "node:os";
import { UnrecoverableError, WaitingError, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { AbortError, check, checkInteger, ShoalError, show, TrainingThreadError } from "../core/errors.js";
import type { Progress } from "../train/options.js";
import { settlesWithin, within } from "../service/closing.js";
import { checkRedis, redisOptions } from "./connection.js";
import { cancelChannel, cancelKey, defaultMaxModelBytes, defaultQueue, encodeFailure, type JobProgress, type JobResult, type QueuedJob, type WorkerIdentity } from "./protocol.js";
import { PoolSet } from "../train/pool-set.js";
import { trainSpec } from "./run-job.js";

/** Options of {@link startWorker}. */
export interface ShoalWorkerOptions {
  /** `redis://host:port`. */
  redis: string;
  /** Queue name (default "shoal"). */
  queue?: string;
  /** Jobs this process trains at the same time (default 1: each gets the threads its spec or --threads asks for). */
  concurrency?: number;
  /** Threads for jobs whose spec names none (default "auto": the count train() predicts is fastest for the job). */
  threads?: number | "auto";
  /** How this worker is named in job records (default `<hostname>:<pid>`). */
  name?: string;
  /** BullMQ lock of a running job, ms (default 30,000): a killed worker's job is taken again after about this long. */
  lockDuration?: number;
  /** How often this worker looks for stalled jobs of dead workers, ms (default 30,000). */
  stalledInterval?: number;
  /** Largest model JSON returned as a job result, bytes (default 16 MiB). */
  maxModelBytes?: number;
  /** How long close() lets running jobs finish before it stops them and hands them back to the queue, ms (default 3,000). */
  closeGrace?: number;
  /** Where lines about taken and finished jobs go (default: nowhere). */
  log?: (line: string) => void;
}

/** A running worker. */
export interface ShoalWorker {
  readonly identity: WorkerIdentity;
  /** Jobs finished (done or failed) by this process. */
  readonly finished: number;
  /**
   * Stops taking jobs and closes every connection, in a bounded time whatever the state of Redis.
   * Running jobs get `closeGrace` ms to finish (none with `force`); then they are stopped within a
   * mini-batch and handed back to the queue, not counted as an attempt, for another worker to train
   * from the start. With Redis unreachable they cannot be handed back: their lock expires and
   * BullMQ's stall check gives them to another worker. Resolves within about closeGrace + 4 s;
   * then BullMQ may still hold a timer of up to 6 s (its wait for a job, raced against one), which
   * keeps the process alive that long unless it exits.
   */
  close(force?: boolean): Promise<void>;
}

/** Minimum time between two progress updates of a job within an epoch, ms. */
const PROGRESS_EVERY_MS = 200;
/** Bound on each step of closing that waits for Redis (handing jobs back, writing outcomes, BullMQ's close). */
const CLOSE_STEP_MS = 1000;

/**
 * Takes training jobs from the BullMQ queue and trains each with train() on this machine's cores.
 * Progress goes to `job.updateProgress` ({@link JobProgress}); the result is the model JSON
 * ({@link JobResult}). A job is cancelled through a Redis flag and channel (see protocol.ts): the
 * run stops within one mini-batch. A job that fails by its own fault (bad spec or data, divergence,
 * cancelled, model too large) fails with BullMQ's UnrecoverableError: no retry. Anything else (a
 * training thread that died) is retried per the job's `attempts`.
 */
export async function startWorker(options: ShoalWorkerOptions): Promise<ShoalWorker> {
  const { redis, queue = defaultQueue, concurrency = 1, threads = "auto", lockDuration = 30_000, stalledInterval = 30_000, maxModelBytes = defaultMaxModelBytes, closeGrace = 3000, log = () => {} } = options;
  checkInteger("concurrency", concurrency);
  checkInteger("closeGrace", closeGrace, 0);
  checkInteger("lockDuration", lockDuration);
  checkInteger("stalledInterval", stalledInterval);
  checkInteger("maxModelBytes", maxModelBytes);
  check(typeof queue === "string" && queue !== "", `queue must be a name, got ${show(queue)}`);
  await checkRedis(redis);
  const identity: WorkerIdentity = { name: options.name ?? `${hostname()}:${process.pid}`, host: hostname(), pid: process.pid };
  const connection = redisOptions(redis);

  // Cancellation: a flag (checked when a job is taken) and a channel (a running job is aborted).
  const running = new Map<string, AbortController>();
  const client = new Redis(connection);
  const subscriber = new Redis(connection);
  client.on("error", () => {});
  subscriber.on("error", () => {});
  await subscriber.subscribe(cancelChannel(queue));
  subscriber.on("message", (_channel, id: string) => running.get(id)?.abort(new AbortError("cancelled while running")));

  // Jobs taken whose outcome BullMQ has not yet written to Redis: closing waits (bounded) for them.
  const unsettled = new Set<string>();
  let onSettled: (() => void) | undefined;
  const settle = (id: string | undefined): void => {
    if (id === undefined || !unsettled.delete(id) || unsettled.size > 0) return;
    onSettled?.();
  };
  const allSettled = (): Promise<void> => (unsettled.size === 0 ? Promise.resolve() : new Promise((resolve) => (onSettled = resolve)));
  // Worker threads stay warm from job to job (one pool per thread count, another for concurrent jobs).
  const pools = new PoolSet();
  // Set by close(): jobs taken from then on, and running jobs stopped with `stopping`, go back to the queue.
  let closing = false;
  const stopping = new AbortError("the worker is stopping");
  const handBack = async (job: Job<QueuedJob, JobResult>, token: string | undefined): Promise<never> => {
    if (await within(job.moveToWait(token).then(() => true, () => false), CLOSE_STEP_MS, false)) {
      log(`job ${job.id} handed back to the queue`);
      settle(job.id);
      throw new WaitingError();
    }
    // Redis is away: the job keeps its lock until it expires, then the stall check re-queues it.
    throw new Error(encodeFailure("AbortError", "the worker stopped while training it"));
  };

  let finished = 0;
  const processor = async (job: Job<QueuedJob, JobResult>, token?: string): Promise<JobResult> => {
    const id = job.id!;
    unsettled.add(id);
    if (closing) return handBack(job, token);
    const attempt = job.attemptsMade + 1;
    if ((await client.exists(cancelKey(queue, id))) === 1) throw new UnrecoverableError(encodeFailure("AbortError", "cancelled while queued"));
    const controller = new AbortController();
    running.set(id, controller);
    const startedAt = new Date().toISOString();
    const started = performance.now();
    log(`took job ${id} (attempt ${attempt})`);
    const state: JobProgress = { kind: "started", worker: identity, startedAt, reports: [], attempt };
    // Progress is sent without waiting for Redis; a lost update is superseded by the next one.
    const send = (): void => void job.updateProgress({ ...state }).catch(() => {});
    send();
    let lastSent = 0;
    let gaveBack = false;
    try {
      const trained = await trainSpec(job.data.spec, {
        threads,
        pools,
        signal: controller.signal,
        onProgress: (progress: Progress) => {
          const now = performance.now();
          if (now - lastSent < PROGRESS_EVERY_MS) return;
          lastSent = now;
          Object.assign(state, { kind: "progress", progress });
          send();
        },
        onEpoch: (report) => {
          state.reports = [...state.reports, report];
          Object.assign(state, { kind: "epoch", progress: undefined });
          send();
        },
      }, { job: { id, worker: identity } });
      const result: JobResult = {
        model: trained.model,
        worker: identity,
        threads: trained.result.threads,
        threadsReason: trained.result.threadsReason,
        parallelism: trained.result.parallelism,
        ...(trained.result.stopped && { stopped: trained.result.stopped }),
        ...(trained.result.bestEpoch !== undefined && { bestEpoch: trained.result.bestEpoch }),
        reports: trained.result.epochs,
        startedAt,
        finishedAt: new Date().toISOString(),
        seconds: (performance.now() - started) / 1000,
      };
      const bytes = Buffer.byteLength(JSON.stringify(result));
      if (bytes > maxModelBytes) {
        throw new UnrecoverableError(encodeFailure("ModelTooLargeError", `the trained model is ${bytes} bytes of JSON, more than this worker's limit of ${maxModelBytes} (--max-model-bytes)`));
      }
      log(`finished job ${id}`);
      return result;
    } catch (error) {
      if (error instanceof UnrecoverableError) throw error;
      if (controller.signal.reason === stopping) {
        gaveBack = true; // neither done nor failed here: not counted in `finished`
        return await handBack(job, token);
      }
      const name = error instanceof Error ? error.name : "Error";
      const message = error instanceof Error ? error.message : String(error);
      log(`job ${id} failed: ${name}: ${message}`);
      if (error instanceof AbortError && controller.signal.aborted) throw new UnrecoverableError(encodeFailure("AbortError", "cancelled while running"));
      // The job's own fault: the same spec would fail the same way on any worker.
      if (error instanceof ShoalError && !(error instanceof TrainingThreadError)) throw new UnrecoverableError(encodeFailure(name, message));
      throw new Error(encodeFailure(name, message));
    } finally {
      running.delete(id);
      if (!gaveBack) finished++;
    }
  };

  const worker = new Worker<QueuedJob, JobResult>(queue, processor, { connection, concurrency, lockDuration, stalledInterval, maxStalledCount: 2 });
  worker.on("error", (error) => log(`redis: ${error.message}`));
  worker.on("completed", (job) => settle(job.id));
  worker.on("failed", (job) => settle(job?.id));
  await worker.waitUntilReady();

  let closed: Promise<void> | undefined;
  return {
    identity,
    get finished() {
      return finished;
    },
    close: (force = false) =>
      (closed ??= (async () => {
        closing = true;
        void worker.pause(true); // no more jobs; makes no Redis call
        try {
          if (!force && !(await settlesWithin(allSettled(), closeGrace))) log(`stopping ${unsettled.size} running job(s) to hand back to the queue`);
          for (const controller of running.values()) controller.abort(stopping);
          // a mini-batch to stop, then the job handed back (or its outcome written)
          await settlesWithin(allSettled(), 2 * CLOSE_STEP_MS);
          // Forced: BullMQ's graceful close would wait for Redis (taskforcesh/bullmq#4656); every
          // outcome it could write is written by now.
          await settlesWithin(worker.close(true), CLOSE_STEP_MS);
        } finally {
          await settlesWithin(pools.close(), CLOSE_STEP_MS); // every job has stopped: the warm threads end
          // disconnect() stops ioredis' reconnecting at once; what it returns waits for an 'end'
          // event that a client with no socket never emits.
          void worker.disconnect().catch(() => {});
          subscriber.disconnect();
          client.disconnect();
        }
      })()),
  };
}
