/**
 * Every error shoal raises on purpose is made here, so messages stay consistent:
 * they name the option, example or file at fault and what was expected.
 */

/** Base class of all errors shoal raises on purpose. */
export class ShoalError extends Error {
  override name = "ShoalError";
}

/** An option, argument or dataset is invalid. Raised before any thread starts. */
export class ValidationError extends ShoalError {
  override name = "ValidationError";
}

/** A model file is unreadable, truncated or has the wrong shape. */
export class ModelFileError extends ShoalError {
  override name = "ModelFileError";
}

/** Training was stopped by an AbortSignal. The network keeps the weights of the last completed step. */
export class AbortError extends ShoalError {
  override name = "AbortError";
  readonly code = "ABORT_ERR";
  constructor(message = "training was aborted", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Throws a ValidationError with `message` unless `condition` holds. */
export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ValidationError(message);
}

/**
 * Rejects keys of an options object that are not in `known` (a misspelt option would otherwise be
 * ignored without a word), suggesting the known key that differs only in case. A key whose value
 * is undefined is let through, as if absent (what `{ ...options, extra: undefined }` means).
 */
export function checkKnownKeys(what: string, options: object, known: Readonly<Record<string, true>>): void {
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || Object.hasOwn(known, key)) continue;
    const listed = Object.keys(known);
    const near = listed.find((k) => k.toLowerCase() === key.toLowerCase());
    throw new ValidationError(`unknown ${what} ${show(key)}${near ? ` (did you mean ${near}?)` : ""}; known: ${listed.join(", ")}`);
  }
}

/** Formats a value for an error message: short, and strings quoted. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  if (Array.isArray(value)) return `[${value.slice(0, 8).map(show).join(", ")}${value.length > 8 ? ", …" : ""}]`;
  return Object.prototype.toString.call(value).slice(8, -1);
}

/** `name must be a positive integer` unless value is an integer ≥ min. */
export function checkInteger(name: string, value: unknown, min = 1): asserts value is number {
  // an integer past 2^53 is not one number but a run of them (2^53 + 1 reads as 2^53): a seed so
  // large would silently be another seed
  const tooLarge = Number.isInteger(value) && !Number.isSafeInteger(value) ? " below 2^53" : "";
  check(
    typeof value === "number" && Number.isSafeInteger(value) && value >= min,
    `${name} must be ${min === 1 ? "a positive integer" : `an integer ≥ ${min}`}${tooLarge}, got ${show(value)}`,
  );
}

/** `name must be a positive finite number` unless value is finite and > 0. */
export function checkPositive(name: string, value: unknown): asserts value is number {
  check(
    typeof value === "number" && Number.isFinite(value) && value > 0,
    `${name} must be a positive finite number, got ${show(value)}`,
  );
}

/** `name must be one of a, b, c` unless value is one of `allowed`. */
export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): asserts value is T {
  check(
    typeof value === "string" && (allowed as readonly string[]).includes(value),
    `${name} must be one of ${allowed.join(", ")}, got ${show(value)}`,
  );
}

/** A training thread threw or died; `cause` is the original error, whose message this one repeats. */
export class TrainingThreadError extends ShoalError {
  override name = "TrainingThreadError";
  constructor(readonly worker: number, cause: unknown) {
    super(`training thread ${worker} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The cost became NaN or infinite; the network keeps the weights from before the failing mini-batch. */
export class DivergenceError extends ShoalError {
  override name = "DivergenceError";
  constructor(readonly epoch: number, readonly miniBatch: number, eta: number) {
    super(
      `training diverged at epoch ${epoch}, mini-batch ${miniBatch}: the cost or a weight became NaN or infinite. ` +
        `The network keeps its weights from before that mini-batch; try a smaller eta (now ${eta})`,
    );
  }
}
