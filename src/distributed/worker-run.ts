import type { WorkerCommandOptions } from "../cli/worker-command.js";
import { startWorker } from "./worker.js";

/** `shoal worker`: runs until SIGTERM/SIGINT (finishes the running jobs), or a second one (leaves them to the stall check). */
export async function workerCommand(options: WorkerCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const worker = await startWorker({
    redis: options.redis,
    queue: options.queue,
    concurrency: options.concurrency,
    threads: options.threads,
    lockDuration: options.lockDuration,
    stalledInterval: options.stalledInterval,
    maxModelBytes: options.maxModelBytes,
    ...(options.name === undefined ? {} : { name: options.name }),
    log: (line) => out.write(`shoal worker: ${line}\n`),
  });
  out.write(`shoal worker: ${worker.identity.name} waiting for jobs on queue ${options.queue} at ${options.redis}\n`);
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  out.write(`shoal worker: ${signal}, taking no more jobs; finishing the running ones (send it again to leave now)\n`);
  // Leaving at once: the running job keeps its lock until it expires, then BullMQ's stall check gives it to another worker.
  const force = (): never => process.exit(143);
  process.once("SIGINT", force);
  process.once("SIGTERM", force);
  await worker.close();
  out.write(`shoal worker: stopped after ${worker.finished} jobs\n`);
}
