/**
 * A reader that goes away (`shoal train --json | head -1`, `shoal help train | head -3`) makes the
 * next write to stdout fail with EPIPE. Node ignores SIGPIPE, so without a listener that error is
 * an uncaught exception: a stack trace, and a model save cut off halfway. Here it is taken as Unix
 * tools take SIGPIPE: the command stops quietly (training after the current mini-batch) and exits
 * with 141 (128 + SIGPIPE), as a shell reports a tool that SIGPIPE ended.
 */
const controller = new AbortController();
let watching = false;

/** Listens for write errors on stdout and stderr; once either fails, {@link outputClosed} is aborted. Idempotent. */
export function watchStandardOutput(): void {
  if (watching) return;
  watching = true;
  for (const stream of [process.stdout, process.stderr]) {
    // Any write error means nobody reads what we write (EPIPE; also EIO on a closed terminal). The
    // stream is destroyed then, and later writes to it are dropped without another error.
    stream.on("error", () => {
      controller.abort();
      // also when the error comes after main() has returned its code
      process.exitCode = 141;
    });
  }
}

/** Aborted once stdout or stderr has been closed by its reader. */
export const outputClosed: AbortSignal = controller.signal;
