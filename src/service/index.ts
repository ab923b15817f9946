/**
 * Background training for servers: a trainer in its own worker thread (createBackgroundTrainer),
 * and the HTTP job API in front of it (startServer, or the jobRoutes fastify plugin).
 */
export { createBackgroundTrainer, BackgroundTrainer, type BackgroundTrainerOptions, type SubmitOptions } from "./background-trainer.js";
export type { JobSpec, DataRef, NamedData, IdxData, CsvData, InlineData, InlineExamples, JobSummary } from "./spec.js";
export type { JobInfo, JobEvent, JobStatus, Prediction } from "./job.js";
export type { JobSource } from "./job-source.js";
export { QueueFullError, UnknownJobError, JobStateError, TrainerClosedError, type ErrorInfo } from "./errors.js";
