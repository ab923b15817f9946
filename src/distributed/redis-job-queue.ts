import { randomUUID } from "node:crypto";
import { Job, Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { check, checkInteger, show } from "../core/errors.js";
import { fromModelJson, type ModelJson } from "../io/model-format.js";
import { JobStateError, QueueFullError } from "../service/errors.js";
import type { JobEvent, JobInfo, Prediction } from "../service/job.js";
import { isFinal, MirroredJobs } from "../service/job-records.js";
import type { JobSource } from "../service/job-source.js";
import { ModelCache } from "../service/model-cache.js";
import { predictRows } from "../service/predict.js";
import { defaultSpecLimits, prepareSpec, type JobSpec, type SpecLimits } from "../service/spec.js";
import { settlesWithin } from "../service/closing.js";
import { checkRedis, redisOptions } from "./connection.js";
import { cancelChannel, cancelKey, decodeFailure, defaultQueue, trainJobName, type JobProgress, type JobResult, type QueuedJob, type WorkerIdentity } from "./protocol.js";

/** A job's record as the Redis-backed server lists it: the usual record, plus which worker took it and which attempt this is. */
export interface DistributedJobInfo extends JobInfo {
  worker?: WorkerIdentity;
  attempt?: number;
}

/** Options of {@link createRedisJobQueue}. */
export interface RedisJobQueueOptions {
  redis: string;
  queue?: string;
  /** Tries per job when a worker dies or a training thread fails (default 3); a job's own fault is never retried. */
  attempts?: number;
  /** Jobs that may wait in the queue; one more is a QueueFullError (default 1000). */
  maxQueue?: number;
  /** Most inputs one predict call may ask about (default 10,000). */
  maxPredictInputs?: number;
  /** Bounds on specs (inline data, parameters); `maxThreads` bounds the spec's `threads` (default 1024: workers may have more cores than this machine). */
  limits?: Partial<SpecLimits>;
}

/**
 * Puts jobs on a BullMQ queue instead of training them: the job source behind `shoal serve --redis`
 * and the same interface as the BackgroundTrainer for the HTTP routes. Records are mirrored in this
 * process from the queue (read once at start) and BullMQ's QueueEvents (`waiting`, `active`,
 * `progress`, `completed`, `failed`, `removed`), so jobs added by other servers or `shoal sweep`
 * appear too. Models are read from the jobs' results in Redis.
 */
export async function createRedisJobQueue(options: RedisJobQueueOptions): Promise<RedisJobQueue> {
  const { redis, queue = defaultQueue, attempts = 3, maxQueue = 1000, maxPredictInputs = 10_000 } = options;
  checkInteger("attempts", attempts);
  checkInteger("maxQueue", maxQueue, 0);
  checkInteger("maxPredictInputs", maxPredictInputs);
  check(typeof queue === "string" && queue !== "", `queue must be a name, got ${show(queue)}`);
  await checkRedis(redis);
  const limits: SpecLimits = { ...defaultSpecLimits, maxThreads: 1024, ...options.limits };
  const jobs = new RedisJobQueue(redis, queue, { attempts, maxQueue, maxPredictInputs, limits });
  try {
    await jobs.start();
  } catch (error) {
    await jobs.close();
    throw error;
  }
  return jobs;
}

/** Bound on each step of closing that waits for Redis. */
const CLOSE_STEP_MS = 1000;

/** The job source whose jobs wait in Redis: it queues them and mirrors their records; `shoal worker` processes train them. */
export class RedisJobQueue extends MirroredJobs<DistributedJobInfo> implements JobSource<DistributedJobInfo> {
  readonly queue: Queue<QueuedJob, JobResult>;
  private readonly events: QueueEvents;
  private readonly client: Redis;
  /** Per job: the chain of record updates, so they apply in the order events came. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Models read from jobs' results, kept for the next predictions. */
  private readonly networks = new ModelCache();
  private closed?: Promise<void>;

  /** @internal Use {@link createRedisJobQueue}. */
  constructor(
    redis: string,
    readonly queueName: string,
    private readonly options: { attempts: number; maxQueue: number; maxPredictInputs: number; limits: SpecLimits },
  ) {
    super();
    const connection = redisOptions(redis);
    this.queue = new Queue<QueuedJob, JobResult>(queueName, { connection });
    this.events = new QueueEvents(queueName, { connection });
    this.client = new Redis(connection);
    // ioredis reconnects by itself; calls wait meanwhile.
    this.queue.on("error", () => {});
    this.events.on("error", () => {});
    this.client.on("error", () => {});
  }

  /** @internal Listens to the queue's events, then reads the jobs already in it. */
  async start(): Promise<void> {
    for (const name of ["waiting", "active", "completed", "failed", "removed", "stalled", "delayed"] as const) {
      this.events.on(name, ({ jobId }: { jobId: string }) => this.refresh(jobId));
    }
    this.events.on("progress", ({ jobId, data }: { jobId: string; data: unknown }) => this.refresh(jobId, data));
    await this.events.waitUntilReady();
    await this.queue.waitUntilReady();
    const jobs = await this.queue.getJobs(["waiting", "prioritized", "delayed", "active", "completed", "failed"]);
    jobs.sort((a, b) => a.timestamp - b.timestamp);
    for (const job of jobs) if (job?.id !== undefined && this.records.get(job.id) === undefined) this.records.store(await recordOf(job, 1));
  }

  /** Checks the spec (naming the field at fault), fixes its seed, and adds it to the queue. */
  async submit(spec: JobSpec): Promise<DistributedJobInfo> {
    const { spec: prepared } = prepareSpec(spec, this.options.limits);
    check(!("inputs" in spec.data) || !(spec.data.inputs instanceof Float32Array), "inline data must be rows of numbers to go through Redis");
    const waiting = await this.queue.getWaitingCount();
    if (waiting >= this.options.maxQueue) throw new QueueFullError(`the job queue is full: ${waiting} jobs are waiting (maxQueue ${this.options.maxQueue}); try again when one has started`);
    const id = randomUUID();
    const data: QueuedJob = { spec: { ...spec, seed: prepared.seed }, summary: prepared.summary, createdAt: new Date().toISOString() };
    const info: DistributedJobInfo = { id, status: "queued", spec: prepared.summary, epoch: 0, epochs: prepared.epochs, reports: [], createdAt: data.createdAt, model: false, seq: 1 };
    this.records.store(info);
    try {
      await this.queue.add(trainJobName, data, { jobId: id, attempts: this.options.attempts, backoff: { type: "exponential", delay: 1000 } });
    } catch (error) {
      this.records.forget(id);
      throw error;
    }
    this.records.dispatch({ type: "queued", job: info });
    return this.records.get(id)!;
  }

  /**
   * Cancels a job: a queued one is removed from the queue; a running one is flagged and announced,
   * and its worker stops it within one mini-batch. Resolves with the record once it has ended.
   */
  async cancel(id: string): Promise<DistributedJobInfo> {
    const { status } = this.records.known(id);
    if (status === "done" || status === "failed" || status === "cancelled") throw JobStateError.ended(id, status);
    const ended = this.wait(id);
    // The flag first: a worker that takes the job from now on sees it and does not train.
    await this.client.set(cancelKey(this.queueName, id), "1", "EX", 7 * 24 * 3600);
    const job = await Job.fromId<QueuedJob, JobResult>(this.queue, id);
    const state = job ? await job.getState() : "unknown";
    if (job && state !== "active" && state !== "completed" && state !== "failed") {
      // Fails if a worker locked it meanwhile: then the flag or the channel stops it.
      await job.remove().catch(() => {});
    }
    await this.client.publish(cancelChannel(this.queueName), id);
    this.refresh(id);
    return ended;
  }

  /** The model file's JSON text of a finished job (its metadata names the job and the worker). */
  async modelText(id: string): Promise<string> {
    return JSON.stringify(await this.model(id));
  }

  async model(id: string): Promise<ModelJson> {
    const info = this.records.known(id);
    if (!info.model) throw JobStateError.noModel(id, info.status);
    const job = await Job.fromId<QueuedJob, JobResult>(this.queue, id);
    const result = job?.returnvalue;
    if (!result?.model) throw new JobStateError(`job ${id} has no model in Redis any more`);
    return result.model;
  }

  /** Predictions of a finished job's model (loaded from its result, then kept among the recently used) or of a model given as JSON. */
  async predict(model: string | ModelJson, inputs: ArrayLike<number>[]): Promise<Prediction> {
    const net =
      typeof model === "string"
        ? await this.networks.get(model, async () => fromModelJson(await this.model(model), `job ${model}'s model`))
        : fromModelJson(model, "model");
    return predictRows(net, inputs, this.options.maxPredictInputs);
  }

  /**
   * Closes this process's connections; jobs stay in Redis for the workers. Bounded (about 2 s at
   * most): with Redis away, the record updates and BullMQ's closes would wait for it forever
   * (taskforcesh/bullmq#4656), so the connections are then dropped (ioredis stops reconnecting).
   * BullMQ may still hold a timer of up to 11 s (its read of the event stream, raced against one),
   * which keeps the process alive that long unless it exits.
   */
  close(): Promise<void> {
    return (this.closed ??= (async () => {
      try {
        await settlesWithin(Promise.allSettled([...this.chains.values()]), CLOSE_STEP_MS);
        await settlesWithin(Promise.allSettled([this.events.close(), this.queue.close()]), CLOSE_STEP_MS);
      } finally {
        // disconnect() stops ioredis' reconnecting at once; what it returns waits for an 'end' event
        // that a client with no socket never emits.
        void this.events.disconnect().catch(() => {});
        void this.queue.disconnect().catch(() => {});
        this.client.disconnect();
      }
    })());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Re-reads a job from Redis (or applies a progress value) after the updates queued before it. */
  private refresh(id: string, progress?: unknown): void {
    if (this.closed) return;
    const next = (this.chains.get(id) ?? Promise.resolve()).then(() => this.update(id, progress)).catch(() => {});
    this.chains.set(id, next);
    void next.then(() => {
      if (this.chains.get(id) === next) this.chains.delete(id);
    });
  }

  private async update(id: string, progressValue: unknown): Promise<void> {
    const old = this.records.get(id);
    let info: DistributedJobInfo;
    if (progressValue !== undefined && old !== undefined && old.status === "running") {
      const progress = (typeof progressValue === "string" ? JSON.parse(progressValue) : progressValue) as JobProgress;
      if (typeof progress !== "object" || progress === null || progress.reports.length < old.reports.length) return;
      info = { ...withProgress(old, progress), seq: old.seq + 1 };
    } else {
      // State first, then the job's hash: a hash read after a final state has that state's result
      // or failure reason (read the other way round, a job ending in between shows neither).
      const state = await this.queue.getJobState(id);
      const job = await Job.fromId<QueuedJob, JobResult>(this.queue, id);
      if (job === undefined) {
        // Removed: cancelled while queued (by this or another server).
        if (old === undefined || isFinal(old.status)) return;
        info = { ...old, status: "cancelled", finishedAt: new Date().toISOString(), error: { name: "AbortError", message: "cancelled while queued" }, seq: old.seq + 1 };
      } else {
        info = await recordOf(job, (old?.seq ?? 0) + 1, state);
      }
    }
    if (old && isFinal(old.status)) return; // an ended job does not change
    const type = eventType(old, info);
    if (type === undefined) {
      this.records.store(info);
      return;
    }
    const last = info.reports[info.reports.length - 1];
    if (type === "progress") this.records.dispatch({ type, job: info, progress: info.progress! });
    else if (type === "epoch") this.records.dispatch({ type, job: info, report: last! });
    else this.records.dispatch({ type, job: info });
  }
}

/** Which event a change of record is, if any. */
function eventType(old: DistributedJobInfo | undefined, info: DistributedJobInfo): JobEvent["type"] | undefined {
  if (old?.status !== info.status) return info.status === "running" ? "started" : info.status;
  if (info.status !== "running") return undefined;
  if (info.reports.length > old.reports.length) return "epoch";
  if (info.progress && (info.progress.epoch !== old.progress?.epoch || info.progress.examplesDone !== old.progress?.examplesDone)) return "progress";
  if (info.attempt !== old.attempt) return "started";
  return undefined;
}

function withProgress(info: DistributedJobInfo, p: JobProgress): DistributedJobInfo {
  const last = p.reports[p.reports.length - 1];
  const next: DistributedJobInfo = {
    ...info,
    worker: p.worker,
    attempt: p.attempt,
    startedAt: p.startedAt,
    epoch: p.reports.length,
    reports: p.reports,
    seconds: (Date.now() - Date.parse(p.startedAt)) / 1000,
  };
  if (last?.accuracy !== undefined) next.accuracy = last.accuracy;
  if (last !== undefined) next.cost = last.cost;
  if (p.progress) next.progress = p.progress;
  else delete next.progress;
  return next;
}

/** A job's record from its state in Redis. */
async function recordOf(job: Job<QueuedJob, JobResult>, seq: number, known?: string): Promise<DistributedJobInfo> {
  const state = known ?? (await job.getState());
  const data = job.data;
  let info: DistributedJobInfo = {
    id: job.id!, status: "queued", spec: data.summary, epoch: 0, epochs: data.spec.epochs, reports: [], createdAt: data.createdAt, model: false, seq,
  };
  if (state === "active") {
    info.status = "running";
    const p = job.progress as JobProgress | number;
    if (typeof p === "object" && p !== null) info = withProgress(info, p);
  } else if (state === "completed") {
    const r = job.returnvalue;
    const last = r.reports[r.reports.length - 1];
    info = {
      ...info, status: "done", worker: r.worker, attempt: job.attemptsMade, threads: r.threads, reports: r.reports, epoch: r.reports.length,
      startedAt: r.startedAt, finishedAt: r.finishedAt, seconds: r.seconds, model: true,
      // as a background trainer's record has them
      ...(r.threadsReason !== undefined && { threadsReason: r.threadsReason }),
      ...(r.parallelism !== undefined && { parallelism: r.parallelism }),
      ...(r.stopped !== undefined && { stopped: r.stopped }),
      ...(r.bestEpoch !== undefined && { bestEpoch: r.bestEpoch }),
    };
    if (last?.accuracy !== undefined) info.accuracy = last.accuracy;
    if (last !== undefined) info.cost = last.cost;
  } else if (state === "failed") {
    const error = decodeFailure(job.failedReason);
    const p = job.progress as JobProgress | number;
    if (typeof p === "object" && p !== null) info = withProgress(info, p);
    delete info.progress;
    info.status = error.name === "AbortError" ? "cancelled" : "failed";
    info.error = error;
    info.attempt = job.attemptsMade;
    info.finishedAt = new Date(job.finishedOn ?? Date.now()).toISOString();
  } else {
    // waiting, delayed (a retry's backoff), prioritized, paused: queued. A retried job shows its last attempt's worker until it starts again.
    const p = job.progress as JobProgress | number;
    if (typeof p === "object" && p !== null) info.worker = p.worker;
  }
  return info;
}
