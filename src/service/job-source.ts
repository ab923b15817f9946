import type { ModelJson } from "../io/model-format.js";
import type { JobEvent, JobInfo, JobStatus, Prediction } from "./job.js";
import type { JobSpec } from "./spec.js";

/**
 * Something that runs training jobs: the in-process {@link BackgroundTrainer} (background-trainer.ts)
 * or the Redis-backed queue of `shoal serve --redis` and `shoal sweep --redis`
 * (src/distributed/redis-job-queue.ts). The HTTP routes and the sweep use only this. `job`, `jobs`
 * and `counts` answer from records mirrored in this thread (job-records.ts), without a round trip.
 * Errors are the library's (ValidationError, ModelFileError) and the service's (QueueFullError,
 * UnknownJobError, JobStateError, TrainerClosedError).
 */
export interface JobSource<I extends JobInfo = JobInfo> extends AsyncDisposable {
  /** Checks `spec` (a ValidationError names the field) and queues the job; resolves to its record. */
  submit(spec: JobSpec): Promise<I>;
  /** A job's latest record, or undefined for an unknown id. */
  job(id: string): I | undefined;
  /** Every job's latest record, oldest first. */
  jobs(): I[];
  /** How many jobs are in each status. */
  counts(): Record<JobStatus, number>;
  /** Calls `listener` with each event of job `id` from now on until its last; returns the function that stops it sooner. */
  watch(id: string, listener: (event: JobEvent) => void): () => void;
  /** Calls `listener` with every event of every job from now on (what `GET /events` streams); returns the function that stops it. */
  onEvent(listener: (event: JobEvent) => void): () => void;
  /** Resolves with the job's record once it has ended (done, failed or cancelled); never rejects for a failed job. */
  wait(id: string): Promise<I>;
  /** Cancels a queued or running job and resolves with its record once it has stopped; an ended job is a JobStateError. */
  cancel(id: string): Promise<I>;
  /** A finished job's model file (the JSON that saveNetwork writes). */
  model(id: string): Promise<ModelJson>;
  /** {@link model} as text, ready to send. */
  modelText(id: string): Promise<string>;
  /** Outputs and classes of rows of inputs, from a job's model (by id) or a model file's JSON. */
  predict(model: string | ModelJson, inputs: ArrayLike<number>[]): Promise<Prediction>;
  /** Lets go of what the source holds (threads, connections); safe to call more than once. */
  close(): Promise<void>;
}
