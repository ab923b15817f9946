import { availableParallelism } from "node:os";
import { Option, type Command } from "commander";
import { integer, threads } from "./parse.js";
import type { WorkerCommandOptions } from "./worker-run.js";


/** Registers `shoal worker` on the `shoal` program; BullMQ is loaded only when it runs. */
export function addWorkerCommand(program: Command): Command {
  const worker = program
    .command("worker")
    .description("take training jobs from a Redis queue (BullMQ) and train them on worker threads, until SIGTERM")
    .requiredOption("--redis <url>", "the Redis the jobs are queued on: redis://host:port")
    .option("--queue <name>", "the BullMQ queue", "shoal")
    .addOption(new Option("--concurrency <n>", "jobs trained at the same time by this process").default(1).argParser(integer("--concurrency")))
    .addOption(new Option("--threads <n>", "threads for jobs whose spec names none: auto (the fastest count for the job's network and batch, by a cost model), a count, or 0").default("auto").argParser(threads("--threads", availableParallelism())))
    .option("--name <name>", "this worker's name in job records (default: hostname:pid)")
    .addOption(new Option("--lock-duration <ms>", "lock of a running job; a killed worker's job goes to another worker after about this long").default(30_000).argParser(integer("--lock-duration")))
    .addOption(new Option("--stalled-interval <ms>", "how often to look for jobs of dead workers").default(30_000).argParser(integer("--stalled-interval")))
    .addOption(new Option("--max-model-bytes <n>", "largest model (JSON bytes) returned as a job result; larger fails the job").default(16 * 1024 * 1024).argParser(integer("--max-model-bytes")))
    .addHelpText("after", [
      "",
      "SIGTERM or Ctrl-C: take no more jobs, give running ones 3 s to finish, hand the others back to the queue,",
      "close the connections: gone within 10 s, also with Redis unreachable. A second signal leaves at once;",
      "BullMQ then gives the abandoned job to another worker when its lock expires.",
      "",
      "Example:",
      "  shoal worker --redis redis://10.0.0.5:6379 --threads auto",
    ].join("\n"));
  worker.action(async () => {
    const { workerCommand } = await import("./worker-run.js");
    await workerCommand(worker.opts<WorkerCommandOptions>());
  });
  return worker;
}
