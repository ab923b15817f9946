import type { ModelJson } from "../io/model-format.js";
import type { EpochReport, Progress } from "../train/options.js";
import type { JobSpec, JobSummary } from "../service/spec.js";
import type { JobInfo } from "../service/job.js";

/**
 * What crosses Redis between `shoal serve --redis` / `shoal sweep` (producers) and `shoal worker`
 * (consumers). Everything is plain JSON: BullMQ stores a job's data, progress and return value as
 * JSON strings in Redis.
 */

/** The queue's name unless `--queue` says otherwise. */
export const defaultQueue = "shoal";

/** BullMQ's job name for a training job (one kind of job per queue). */
export const trainJobName = "train";

/** Largest model a worker returns through Redis as the job's result (JSON bytes); `--max-model-bytes`. */
export const defaultMaxModelBytes = 16 * 1024 * 1024;

/** A job's data in the queue: the spec with its seed fixed (so the job is repeatable), and its listing. */
export interface QueuedJob {
  spec: JobSpec & { seed: number };
  summary: JobSummary;
  createdAt: string;
}

/** Which process trained a job. */
export interface WorkerIdentity {
  /** `--name`, default `<hostname>:<pid>`. */
  name: string;
  host: string;
  pid: number;
}

/**
 * The job's progress (BullMQ `job.updateProgress`): sent when training starts, within epochs (at
 * most every 200 ms) and after each epoch. `reports` holds every finished epoch, so any one progress
 * value describes the whole job so far.
 */
export interface JobProgress {
  kind: "started" | "progress" | "epoch";
  worker: WorkerIdentity;
  startedAt: string;
  /** Worker threads of the run (from its first epoch on). */
  threads?: number;
  progress?: Progress;
  reports: EpochReport[];
  /** Which attempt (1-based): a job given back by a stalled worker starts again from scratch. */
  attempt: number;
}

/** The job's return value: the trained model (the usual model file JSON) and how it was trained. */
export interface JobResult {
  model: ModelJson;
  worker: WorkerIdentity;
  threads: number;
  /** Why that many threads, how they shared each step, and how the run ended early (absent from a worker before they were sent). */
  threadsReason?: string;
  parallelism?: JobInfo["parallelism"];
  stopped?: JobInfo["stopped"];
  bestEpoch?: number;
  reports: EpochReport[];
  startedAt: string;
  finishedAt: string;
  seconds: number;
}

/**
 * Redis keys besides BullMQ's own, under the queue's prefix: a cancel flag per job (set by whoever
 * cancels; the worker checks it when it takes the job) and a channel announcing cancellations
 * (a worker running the job aborts it within a mini-batch).
 */
export const cancelKey = (queue: string, id: string): string => `shoal:${queue}:cancel:${id}`;
export const cancelChannel = (queue: string): string => `shoal:${queue}:cancel`;

/**
 * A failed job's reason as BullMQ stores it (one string): `<ErrorName>: <message>`, so the server
 * can show the library's error name (`ValidationError`, `DivergenceError`, `AbortError`).
 */
export function encodeFailure(name: string, message: string): string {
  return `${name}: ${message}`;
}

export function decodeFailure(reason: string | undefined): { name: string; message: string } {
  const m = /^([A-Za-z]*Error): ([\s\S]*)$/.exec(reason ?? "");
  return m ? { name: m[1]!, message: m[2]! } : { name: "Error", message: reason || "failed" };
}
