import path from "node:path";
import type { ServeCommandOptions } from "../cli/serve-command.js";
import { firstStopSignal } from "../service/closing.js";
import { startRedisServer } from "./server.js";

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
    ...(options.maxJobWork !== undefined && { limits: { maxJobWork: options.maxJobWork } }),
    ...(options.dataDir === undefined ? {} : { dataDir: path.resolve(options.dataDir) }),
  });
  out.write(`shoal serve: listening on ${server.url} (jobs go to queue ${options.queue ?? "shoal"} at ${redis})\n`);
  const { signal, closed } = await firstStopSignal("shoal serve");
  out.write(`shoal serve: ${signal}, stopping (queued and running jobs stay with the workers)\n`);
  await server.close();
  closed();
}
