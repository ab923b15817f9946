import path from "node:path";
import { firstStopSignal } from "../service/closing.js";
import { startRedisServer } from "../distributed/server.js";

// The options type lives here, not beside the command, so the command imports this module (lazily) and not the other way round.
/** What `shoal serve`'s flags parse to. */
export interface ServeCommandOptions {
  host: string;
  port: number;
  modelsDir: string;
  dataDir?: string;
  concurrency: number;
  maxQueue: number;
  bodyLimit: number;
  /** Every request (but the dashboard's files) needs it as a bearer token. */
  token?: string;
  /** Most epochs × training examples one job may ask for (default: the trainer's, 60,000,000). */
  maxJobWork?: number;
  /** Put jobs on this Redis's BullMQ queue for `shoal worker` processes instead of training here. */
  redis?: string;
  queue?: string;
  attempts?: number;
}

/** `shoal serve --redis`: the HTTP API in front of the queue, until SIGINT or SIGTERM (jobs stay queued for the workers). */
export async function serveRedisCommand(options: ServeCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const redis = options.redis!;
  const server = await startRedisServer({
    redis,
    queue: options.queue ?? "shoal",
    attempts: options.attempts ?? 3,
    host: options.host,
    port: options.port,
    maxQueue: options.maxQueue,
    bodyLimit: options.bodyLimit,
    ...(options.token !== undefined && { token: options.token }),
    ...(options.maxJobWork !== undefined && { limits: { maxJobWork: options.maxJobWork } }),
    ...(options.dataDir === undefined ? {} : { dataDir: path.resolve(options.dataDir) }),
  });
  out.write(`shoal serve: listening on ${server.url} (jobs go to queue ${options.queue ?? "shoal"} at ${redis})\n`);
  const { signal, closed } = await firstStopSignal("shoal serve");
  out.write(`shoal serve: ${signal}, stopping (queued and running jobs stay with the workers)\n`);
  await server.close();
  closed();
}
