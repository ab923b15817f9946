import Fastify, { type FastifyInstance } from "fastify";
import { check, checkInteger, show } from "../core/errors.js";
import { checkToken, loopbackHosts } from "./access.js";
import { createBackgroundTrainer, type BackgroundTrainer, type BackgroundTrainerOptions } from "./background-trainer.js";
import { settlesWithin } from "./closing.js";
import { defaultBodyLimit, jobRoutes } from "./http.js";
import type { JobSource } from "./job-source.js";
import { defaultMaxJobWork } from "./spec.js";

/** Where and how the HTTP job API listens. */
export interface HttpOptions {
  /** Address to listen on (default 127.0.0.1: this machine only). */
  host?: string;
  /** Port (default 3000; 0 = any free port, see `port` of the result). */
  port?: number;
  /** Largest request body in bytes (default 4 MiB). */
  bodyLimit?: number;
  /** Folder that `idx` / `csv` paths in job specs are relative to; without it the server reads no data files. */
  dataDir?: string;
  /** When set, every request (but the dashboard's static files) needs `Authorization: Bearer <token>`. */
  token?: string;
}

/** Options of {@link startServer}; `maxJobWork` defaults to 60,000,000 here (1,000 epochs of Fashion-MNIST). */
export interface ServeOptions extends Omit<BackgroundTrainerOptions, "dataDir">, HttpOptions {}

/** A running job server in front of a trainer of type T. */
export interface RunningServer<T> extends AsyncDisposable {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly app: FastifyInstance;
  readonly trainer: T;
  /** Stops accepting requests, ends event streams, waits (up to 1 s) for requests in flight, then closes the trainer. */
  close(): Promise<void>;
}

/** How long close() lets requests in flight finish, ms. */
const CLOSE_REQUESTS_MS = 1000;

/** A running `shoal serve`. */
export type JobServer = RunningServer<BackgroundTrainer>;

/**
 * Starts a background trainer and the HTTP job API (fastify) in front of it, and resolves once it
 * listens. With `modelsDir`, finished models are saved there and served again after a restart.
 */
export async function startServer(options: ServeOptions = {}): Promise<JobServer> {
  const { host, port, bodyLimit, dataDir, token, ...trainerOptions } = options;
  // the trainer knows the data folder too, so job records show paths relative to it
  const { maxJobWork = defaultMaxJobWork } = trainerOptions;
  return serveJobs({ host, port, bodyLimit, dataDir, token }, () => createBackgroundTrainer({ ...trainerOptions, maxJobWork, ...(dataDir !== undefined && { dataDir }) }));
}

/**
 * Checks the HTTP options, makes the trainer, and serves the job API (`jobRoutes`) and the
 * dashboard in front of it. On a loopback address it answers only to the loopback host names
 * (DNS rebinding protection). Shared by `shoal serve` (in-process trainer) and `shoal serve --redis` (BullMQ).
 */
export async function serveJobs<T extends JobSource>(
  options: HttpOptions,
  createTrainer: () => Promise<T>,
): Promise<RunningServer<T>> {
  const { host = "127.0.0.1", port = 3000, bodyLimit = defaultBodyLimit, dataDir, token } = options;
  check(typeof host === "string" && host !== "", `host must be an address, got ${show(host)}`);
  checkInteger("port", port, 0);
  check(port <= 65535, `port must be at most 65535, got ${port}`);
  checkInteger("bodyLimit", bodyLimit);
  if (token !== undefined) checkToken(token);
  const allowedHosts = loopbackHosts(host);

  const trainer = await createTrainer();
  const app = Fastify({
    logger: false,
    bodyLimit,
    // Bodies are taken as sent: no coercion of "3" to 3, and schema errors name the field.
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
  });
  try {
    await app.register(jobRoutes, { trainer, bodyLimit, ...(dataDir === undefined ? {} : { dataDir }), ...(token === undefined ? {} : { token }), ...(allowedHosts && { allowedHosts }) });
    await app.listen({ host, port });
  } catch (error) {
    await app.close().catch(() => {});
    await trainer.close();
    throw error;
  }
  const address = app.server.address();
  const bound = typeof address === "object" && address !== null ? address.port : port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      try {
        // Requests in flight get a moment to finish; one waiting on a trainer that cannot answer
        // (its Redis gone) would hold app.close() forever, so its connection is cut instead.
        const closing = app.close();
        if (!(await settlesWithin(closing, CLOSE_REQUESTS_MS))) {
          app.server.closeAllConnections();
          await settlesWithin(closing, CLOSE_REQUESTS_MS);
        }
      } finally {
        await trainer.close();
      }
    })());
  return { url: `http://${urlHost}:${bound}`, host, port: bound, app, trainer, close, [Symbol.asyncDispose]: close };
}
