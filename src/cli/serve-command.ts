import path from "node:path";
import { Option, type Command } from "commander";
import type { JobServer, ServeOptions } from "../service/server.js";
import { firstStopSignal } from "../service/closing.js";
import { integer } from "./parse.js";
import type { ServeCommandOptions } from "./serve-redis.js";


/**
 * Registers `shoal serve` on the `shoal` program. The server's code (and fastify) is loaded only
 * when the command runs.
 */
export function addServeCommand(program: Command): Command {
  const serve = program
    .command("serve")
    .description("an HTTP job server with a dashboard: trains in a background thread, streams progress (SSE), serves models and predictions")
    .option("--host <address>", "address to listen on (127.0.0.1: this machine only)", "127.0.0.1")
    .addOption(new Option("--port <n>", "port; 0 = any free port (the address is printed)").default(3000).argParser(integer("--port", 0)))
    .option("--models-dir <folder>", "where finished models are saved, and found again after a restart", "shoal-models")
    .option("--data-dir <folder>", "let jobs read idx and csv data from files under this folder (default: no files)")
    .addOption(new Option("--concurrency <n>", "jobs that train at the same time").default(1).argParser(integer("--concurrency")))
    .addOption(new Option("--max-queue <n>", "jobs that may wait; more are refused with 503").default(16).argParser(integer("--max-queue", 0)))
    .addOption(new Option("--body-limit <bytes>", "largest request body").default(4 * 1024 * 1024).argParser(integer("--body-limit")))
    .addOption(
      new Option("--max-job-work <n>", "most epochs × training examples one job may ask for; more is refused with 400 (default 60000000: 1,000 epochs of Fashion-MNIST)")
        .argParser(integer("--max-job-work")),
    )
    .addOption(new Option("--token <token>", "every request needs it as a bearer token (Authorization: Bearer <token>); the dashboard asks for it once").env("SHOAL_TOKEN"))
    .option("--redis <url>", "queue jobs on this Redis (redis://host:port) for `shoal worker` processes instead of training here")
    .option("--queue <name>", "with --redis: the BullMQ queue", "shoal")
    .addOption(new Option("--attempts <n>", "with --redis: tries per job when a worker dies (a job's own fault is never retried)").default(3).argParser(integer("--attempts")))
    .addHelpText(
      "after",
      [
        "",
        "Dashboard: open the printed address in a browser.",
        "Endpoints: POST /jobs, GET /jobs, GET /jobs/:id, GET /jobs/:id/events (SSE), DELETE /jobs/:id,",
        "           GET /events (SSE, every job), GET /models, GET /models/:id, POST /models/:id/predict, GET /health",
        "",
        "Example:",
        "  shoal serve --port 8080 &",
        `  curl -s localhost:8080/jobs -H 'content-type: application/json' \\`,
        `    -d '{"data":{"name":"mnist"},"layers":[784,30,10],"epochs":10,"miniBatchSize":10,"eta":3}'`,
      ].join("\n"),
    );
  serve.action(async () => serveCommand(serve.opts<ServeCommandOptions>()));
  return serve;
}

/** Starts the job server (see src/service/server.ts); loads fastify only when called. */
export async function startServer(options: ServeOptions = {}): Promise<JobServer> {
  const server = await import("../service/server.js");
  return server.startServer(options);
}

/** Runs the server until SIGINT or SIGTERM, then closes it: running jobs are cancelled, finished models stay on disk. */
export async function serveCommand(options: ServeCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (options.redis !== undefined) {
    const { serveRedisCommand } = await import("./serve-redis.js");
    return serveRedisCommand(options, out);
  }
  const modelsDir = path.resolve(options.modelsDir);
  const server = await startServer({
    host: options.host,
    port: options.port,
    modelsDir,
    concurrency: options.concurrency,
    maxQueue: options.maxQueue,
    bodyLimit: options.bodyLimit,
    ...(options.token !== undefined && { token: options.token }),
    ...(options.maxJobWork !== undefined && { maxJobWork: options.maxJobWork }),
    ...(options.dataDir === undefined ? {} : { dataDir: path.resolve(options.dataDir) }),
  });
  const models = server.trainer.jobs().length;
  out.write(`shoal serve: listening on ${server.url} (models in ${modelsDir}${models > 0 ? `: ${models} from earlier runs` : ""})\n`);
  for (const skipped of server.trainer.skippedModelFiles) process.stderr.write(`shoal serve: skipped ${skipped}\n`);
  const { signal, closed } = await firstStopSignal("shoal serve");
  out.write(`shoal serve: ${signal}, stopping (running jobs are cancelled)\n`);
  await server.close();
  closed();
}
