import { AbortError, ModelFileError, ShoalError, ValidationError } from "../core/errors.js";

/**
 * The service's own errors. Like the library's, they name what is at fault; the HTTP layer maps
 * each class to one status code (see http.ts).
 */

/** A job was submitted while `maxQueue` jobs were already waiting. Nothing was queued. */
export class QueueFullError extends ShoalError {
  override name = "QueueFullError";
}

/** No job (or model) has this id. */
export class UnknownJobError extends ShoalError {
  override name = "UnknownJobError";
  constructor(readonly id: string, what = "job") {
    super(`no ${what} with id ${JSON.stringify(id)}`);
  }
}

/** The job exists but cannot do what was asked in its state (cancel a finished job, fetch the model of a running one). */
export class JobStateError extends ShoalError {
  override name = "JobStateError";

  /** Cancelling a job that has already ended. */
  static ended(id: string, status: "done" | "failed" | "cancelled"): JobStateError {
    return new JobStateError(`job ${id} has already ${status === "done" ? "finished" : status === "failed" ? "failed" : "been cancelled"}`);
  }

  /** Asking for the model of a job that has none (yet). */
  static noModel(id: string, status: string): JobStateError {
    return new JobStateError(`job ${id} has no model: it is ${status}`);
  }
}

/** The trainer was closed, or its thread died; it takes no more calls. */
export class TrainerClosedError extends ShoalError {
  override name = "TrainerClosedError";
}

/** A request to a server started with a token came without it, or with another one (HTTP 401). */
export class UnauthorizedError extends ShoalError {
  override name = "UnauthorizedError";
}

/** A request named a host this server does not answer for (HTTP 403): DNS rebinding protection. */
export class ForbiddenHostError extends ShoalError {
  override name = "ForbiddenHostError";
}

/** A plain-data error: what crosses the thread boundary and goes into job records and HTTP bodies. */
export interface ErrorInfo {
  name: string;
  message: string;
}

/** The name and message of anything thrown. */
export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

const classes: Record<string, new (message: string) => Error> = {
  ValidationError,
  ModelFileError,
  AbortError,
  QueueFullError,
  JobStateError,
  TrainerClosedError,
};

/**
 * comlink sends a thrown Error across threads as a plain Error with the original `name` and
 * `message`; this rebuilds the shoal error class, so callers can use `instanceof`.
 */
export function reviveError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof ShoalError) return error;
  const message = error.message;
  if (error.name === "UnknownJobError") {
    const m = /^no (\w+) with id (".*")$/.exec(message);
    if (m) return new UnknownJobError(JSON.parse(m[2]!) as string, m[1]);
  }
  const Class = classes[error.name];
  return Class ? new Class(message) : error;
}
