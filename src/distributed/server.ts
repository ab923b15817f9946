import Fastify, { type FastifyInstance } from "fastify";
import { check, checkInteger, show } from "../core/errors.js";
import { defaultBodyLimit, jobRoutes } from "../service/http.js";
import { createRedisTrainer, type RedisTrainer, type RedisTrainerOptions } from "./redis-trainer.js";

/** Options of {@link startRedisServer}: the HTTP side as `startServer`'s, the queue side as the Redis trainer's. */
export interface RedisServeOptions extends RedisTrainerOptions {
  host?: string;
  port?: number;
  bodyLimit?: number;
  dataDir?: string;
}

/** A running `shoal serve --redis`. */
export interface RedisJobServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  readonly trainer: RedisTrainer;
  /** Stops the HTTP server and closes the Redis connections; queued and running jobs stay with the workers. */
  close(): Promise<void>;
}

/**
 * The HTTP job API of `shoal serve` (the same `jobRoutes`) in front of a BullMQ queue: jobs are
 * trained by `shoal worker` processes, on this machine or others.
 */
export async function startRedisServer(options: RedisServeOptions): Promise<RedisJobServer> {
  const { host = "127.0.0.1", port = 3000, bodyLimit = defaultBodyLimit, dataDir, ...trainerOptions } = options;
  check(typeof host === "string" && host !== "", `host must be an address, got ${show(host)}`);
  checkInteger("port", port, 0);
  checkInteger("bodyLimit", bodyLimit);
  const trainer = await createRedisTrainer(trainerOptions);
  const app = Fastify({ logger: false, bodyLimit, ajv: { customOptions: { coerceTypes: false, allErrors: false } } });
  try {
    await app.register(jobRoutes, { trainer, bodyLimit, ...(dataDir === undefined ? {} : { dataDir }) });
    await app.listen({ host, port });
  } catch (error) {
    await app.close().catch(() => {});
    await trainer.close();
    throw error;
  }
  const address = app.server.address();
  const bound = typeof address === "object" && address !== null ? address.port : port;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      try {
        await app.close();
      } finally {
        await trainer.close();
      }
    })());
  return { url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}`, port: bound, app, trainer, close, [Symbol.asyncDispose]: close };
}
