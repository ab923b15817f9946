import { ShoalError } from "../core/errors.js";

/**
 * A bad command line: an unknown flag, a value of the wrong form, flags that contradict each other.
 * Exit code 2, as is usual for usage errors; library errors (ShoalError) exit 1.
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Exit codes of the `shoal` command. */
export const exitCodes = { ok: 0, failure: 1, usage: 2, interrupted: 130, outputClosed: 141, terminated: 143 } as const;

/**
 * Prints `error` as one line `shoal: <message>` on stderr and returns its exit code. Errors the user
 * can act on (usage, ShoalError, a failed file-system call) get no stack trace; anything else is a bug
 * in shoal, printed in full.
 */
export function reportError(error: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  if (error instanceof UsageError) {
    stderr.write(`shoal: ${error.message}\n`);
    return exitCodes.usage;
  }
  if (error instanceof ShoalError || isSystemError(error)) {
    stderr.write(`shoal: ${error.message}\n`);
    return error instanceof ShoalError && error.name === "AbortError" ? exitCodes.interrupted : exitCodes.failure;
  }
  stderr.write(`shoal: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return exitCodes.failure;
}

/** An fs or OS error (ENOENT, EACCES, …): its message already names the path and the call. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string" && "syscall" in error;
}
