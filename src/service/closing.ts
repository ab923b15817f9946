// Bounded closing: how long-running commands stop on a signal, and deadlines on waits that may never end.

/** Exit codes of a second signal: 128 + the signal's number, as a shell reports a process that signal killed. */
const signalExitCodes = { SIGINT: 130, SIGTERM: 143 } as const;

/** A stop signal, and what the command calls once it has closed what it holds. */
export interface StopRequest {
  signal: keyof typeof signalExitCodes;
  /**
   * Everything is closed: the process exits 1 s from now with its exit code, without waiting for
   * timers a library may still hold (BullMQ races its Redis reads against timers of up to 11 s).
   */
  closed(): void;
}

/**
 * How a long-running command (`shoal serve`, `shoal worker`) is stopped: resolves at the first
 * SIGINT or SIGTERM, for the command to close what it holds. From then on a second signal exits at
 * once (130 or 143), and a process still alive `deadlineMs` after the first says so on stderr and
 * exits 1. Closing is bounded on its own (see each close()); the deadline keeps the promise made to
 * process managers, which send SIGKILL 10 s after SIGTERM (docker stop; systemd's default is 90 s).
 */
export function firstStopSignal(command: string, deadlineMs = 9000): Promise<StopRequest> {
  return new Promise((resolve) => {
    const first = (signal: keyof typeof signalExitCodes) => (): void => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      for (const name of ["SIGINT", "SIGTERM"] as const) process.once(name, () => process.exit(signalExitCodes[name]));
      const deadline = setTimeout(() => {
        process.stderr.write(`${command}: still not stopped ${deadlineMs / 1000} s after ${signal}; leaving now\n`);
        process.exit(1);
      }, deadlineMs).unref();
      const closed = (): void => {
        clearTimeout(deadline);
        setTimeout(() => process.exit(), 1000).unref();
      };
      resolve({ signal, closed });
    };
    const onInt = first("SIGINT");
    const onTerm = first("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
  });
}

/** `promise`'s value, or `late` if it has not settled after `ms` (it is left to settle, or never). */
export async function within<T>(promise: Promise<T>, ms: number, late: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(late), ms)));
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** True once `promise` has settled (resolved or rejected), false if it has not after `ms`. */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return within(promise.then(() => true, () => true), ms, false);
}
