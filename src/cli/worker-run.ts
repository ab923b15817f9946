import { firstStopSignal } from "../service/closing.js";
import { startWorker } from "../distributed/worker.js";

// The options type lives here, not beside the command, so the command imports this module (lazily) and not the other way round.
/** What `shoal worker`'s flags parse to. */
export interface WorkerCommandOptions {
  redis: string;
  queue: string;
  concurrency: number;
  threads: number | "auto";
  name?: string;
  lockDuration: number;
  stalledInterval: number;
  maxModelBytes: number;
}

/** Running jobs' time to finish after SIGTERM: with closing's own bounds, well within the 10 s process managers allow. */
const CLOSE_GRACE_MS = 3000;

/**
 * `shoal worker`: runs until SIGTERM/SIGINT, then stops within seconds: running jobs get a few seconds
 * to finish, then go back to the queue. A second signal leaves at once (the stall check re-queues them).
 */
export async function workerCommand(options: WorkerCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const worker = await startWorker({
    redis: options.redis,
    queue: options.queue,
    concurrency: options.concurrency,
    threads: options.threads,
    lockDuration: options.lockDuration,
    stalledInterval: options.stalledInterval,
    maxModelBytes: options.maxModelBytes,
    closeGrace: CLOSE_GRACE_MS,
    ...(options.name === undefined ? {} : { name: options.name }),
    log: (line) => out.write(`shoal worker: ${line}\n`),
  });
  out.write(`shoal worker: ${worker.identity.name} waiting for jobs on queue ${options.queue} at ${options.redis}\n`);
  // A second signal leaves at once: the running job keeps its lock until it expires, then BullMQ's stall check gives it to another worker.
  const { signal, closed } = await firstStopSignal("shoal worker");
  out.write(`shoal worker: ${signal}, taking no more jobs; running ones that do not finish in ${CLOSE_GRACE_MS / 1000} s go back to the queue (send it again to leave now)\n`);
  await worker.close();
  out.write(`shoal worker: stopped after ${worker.finished} jobs\n`);
  closed();
}
