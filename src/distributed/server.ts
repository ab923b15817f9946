import { serveJobs, type HttpOptions, type RunningServer } from "../service/server.js";
import { defaultMaxJobWork } from "../service/spec.js";
import { createRedisJobQueue, type RedisJobQueue, type RedisJobQueueOptions } from "./redis-job-queue.js";

/** Options of {@link startRedisServer}: the HTTP side as `startServer`'s, the queue side as the Redis job queue's. */
export interface RedisServeOptions extends RedisJobQueueOptions, HttpOptions {}

/** A running `shoal serve --redis`: closing it stops the HTTP server and the Redis connections; queued and running jobs stay with the workers. */
export type RedisJobServer = RunningServer<RedisJobQueue>;

/**
 * The HTTP job API of `shoal serve` (the same `jobRoutes`) in front of a BullMQ queue: jobs are
 * trained by `shoal worker` processes, on this machine or others.
 */
export async function startRedisServer(options: RedisServeOptions): Promise<RedisJobServer> {
  const { host, port, bodyLimit, dataDir, token, ...queueOptions } = options;
  // the queue side knows the data folder too, so job records show paths relative to it
  const limits = { maxJobWork: defaultMaxJobWork, ...queueOptions.limits, ...(dataDir !== undefined && { dataDir }) };
  return serveJobs({ host, port, bodyLimit, dataDir, token }, () => createRedisJobQueue({ ...queueOptions, limits }));
}
