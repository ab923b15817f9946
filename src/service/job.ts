import type { EpochReport, Progress, TrainResult } from "../train/options.js";
import type { ErrorInfo } from "./errors.js";
import type { JobSummary } from "./spec.js";

/** Where a job is in its life: queued → running → done | failed | cancelled (a queued job can be cancelled too). */
export type JobStatus = "queued" | "running" | "done" | "failed" | "cancelled";

/** The statuses a job never leaves. */
export const finalStatuses: readonly JobStatus[] = ["done", "failed", "cancelled"];

/** A job's record: plain data, the same in the trainer thread, the handle, and HTTP responses. */
export interface JobInfo {
  id: string;
  status: JobStatus;
  /** The spec, inline data described by its shape; `seed` is the one used. */
  spec: JobSummary;
  /** Epochs completed so far, of `epochs`. */
  epoch: number;
  epochs: number;
  /** The latest progress within the running epoch. */
  progress?: Progress;
  /** Test accuracy and mean training cost of the last completed epoch. */
  accuracy?: number;
  cost?: number;
  /** Every completed epoch's report. */
  reports: EpochReport[];
  /** Worker threads the run used, and why that many (once done). */
  threads?: number;
  /** Why that many (see TrainResult.threadsReason): for `threads: "auto"`, the cost model's choice. */
  threadsReason?: string;
  /** How the threads shared each mini-batch (once done). */
  parallelism?: TrainResult["parallelism"];
  /** Set when the run stopped before its last epoch (early stopping, or a plateau schedule at its floor). */
  stopped?: TrainResult["stopped"];
  /** With earlyStopping.restoreBest: the epoch whose parameters the model holds. */
  bestEpoch?: number;
  /** ISO times. */
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Wall time from start to finish (or until now, while running, as of the last update), seconds. */
  seconds?: number;
  /** Why a job failed (the library's error name and message), or why it was cancelled. */
  error?: ErrorInfo;
  /** A trained model can be fetched and asked for predictions. */
  model: boolean;
  /** Loaded from the models folder when the trainer started (trained by an earlier process). */
  restored?: boolean;
  /** Increases with every change; the handle keeps the newest record it has seen. */
  seq: number;
}

/** What the trainer reports about its jobs, in order per job. Every event carries the job's record as of that event. */
export type JobEvent =
  | { type: "queued" | "started" | "done" | "failed" | "cancelled"; job: JobInfo }
  | { type: "progress"; job: JobInfo; progress: Progress }
  | { type: "epoch"; job: JobInfo; report: EpochReport };

/** Predictions for a batch of inputs. */
export interface Prediction {
  /** The predicted class of each input: the index of its largest output (one output: 1 when ≥ 0.5). */
  classes: number[];
  /** Each input's output activations a^L. */
  outputs: number[][];
}

/**
 * An event as it crosses from the trainer thread: the record without its `reports`, which the
 * handle keeps by appending each `epoch` event's report (so an event's size does not grow with the
 * number of epochs done).
 */
export type WireEvent = JobEvent extends infer E ? (E extends { job: JobInfo } ? Omit<E, "job"> & { job: Omit<JobInfo, "reports"> } : never) : never;
