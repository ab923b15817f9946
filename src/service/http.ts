import type { ServerResponse } from "node:http";
import path from "node:path";
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifySchemaValidationError } from "fastify";
import { ModelFileError, ShoalError, ValidationError } from "../core/errors.js";
import { DataFileError } from "../data/errors.js";
import { accessCheck, type AccessOptions } from "./access.js";
import { contentSecurityPolicy, dashboardRoutes } from "./dashboard.js";
import { ForbiddenHostError, JobStateError, QueueFullError, TrainerClosedError, UnauthorizedError, UnknownJobError } from "./errors.js";
import { finalStatuses, type JobEvent, type JobInfo } from "./job.js";
import type { JobSource } from "./job-source.js";
import { checkSpecFields, type JobSpec } from "./spec.js";
import { jobSpecSchema, predictSchema } from "./spec-schema.js";

/** Options of the {@link jobRoutes} plugin. */
export interface JobRoutesOptions extends AccessOptions {
  /** The jobs the routes serve: the in-process BackgroundTrainer, or the RedisJobQueue of `shoal serve --redis`. */
  trainer: JobSource;
  /** Largest request body, bytes (default 4 MiB): inline data and predict inputs are parsed on this thread. */
  bodyLimit?: number;
  /**
   * Folder that `idx` and `csv` paths in job specs are relative to, and must stay inside.
   * Without it, jobs can only use the named datasets and inline data (clients cannot name files).
   */
  dataDir?: string;
  /** Seconds between SSE keep-alive comments (default 15). */
  keepAliveSeconds?: number;
  /** Serve the dashboard page at `/` (default true). */
  dashboard?: boolean;
}

export const defaultBodyLimit = 4 * 1024 * 1024;

const idParams = { type: "object", required: ["id"], properties: { id: { type: "string", minLength: 1, maxLength: 100 } } } as const;

type IdRequest = { Params: { id: string } };

/**
 * The HTTP job API as a fastify plugin, so it can be mounted in any fastify server (with a
 * `prefix`); `startServer` runs it on its own server. It only reads the trainer's mirrored job
 * records and makes small comlink calls: training runs in the trainer thread and its pools.
 *
 * POST /jobs · GET /jobs · GET /jobs/:id · GET /jobs/:id/events (SSE) · DELETE /jobs/:id ·
 * GET /events (SSE, every job) · GET /models · GET /models/:id · POST /models/:id/predict · GET /health ·
 * GET / (the dashboard page) and GET /dashboard/:file (its files).
 *
 * With `token`, every request but the page's static files needs `Authorization: Bearer <token>`;
 * with `allowedHosts`, a request naming another host is refused (startServer sets it for a
 * loopback address).
 */
export const jobRoutes: FastifyPluginAsync<JobRoutesOptions> = async (app, options) => {
  const { trainer, bodyLimit = defaultBodyLimit, dataDir, keepAliveSeconds = 15, dashboard = true } = options;
  const streams = new Set<ServerResponse>();
  const started = Date.now();

  app.setSchemaErrorFormatter((errors, dataVar) => schemaError(errors, dataVar));
  // Bodies are JSON: any other type (fastify would take text/plain as a string) is a 415 that says so.
  app.removeContentTypeParser("text/plain");
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const [status, extra] = statusOf(error);
    if (status >= 500 && !(error instanceof ShoalError)) app.log.error(error);
    const message = status === 415 ? mediaTypeMessage(request.headers["content-type"]) : error.message;
    if (status === 401) void reply.header("www-authenticate", 'Bearer realm="shoal"');
    void reply.code(status).send({ statusCode: status, error: reasons[status] ?? "Error", message, ...extra });
  });
  app.addHook("onRequest", accessCheck(options));
  // The page's policy on every answer (a JSON body opened in a tab gets it too; no page may frame them).
  app.addHook("onSend", async (_request, reply) => {
    void reply.header("content-security-policy", contentSecurityPolicy).header("x-content-type-options", "nosniff").header("referrer-policy", "no-referrer");
  });
  // SSE streams never end on their own while a job runs: end them so the server can close.
  app.addHook("preClose", async () => {
    for (const stream of streams) stream.end();
  });

  const known = (id: string): JobInfo => {
    const info = trainer.job(id);
    if (info === undefined) throw new UnknownJobError(id);
    return info;
  };

  // A misspelt field first: `"epoch": 3` is reported as unknown, not as "body.epochs is required".
  const unknownFieldsFirst = async (request: { body: unknown }): Promise<void> => {
    const body = request.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) return; // the schema says what it should be
    checkSpecFields(body as Record<string, unknown>);
  };

  // The schema checks field types and ranges (its messages: `body.layers[1] must be >= 1`); which
  // fields go together is checked by the trainer's prepareSpec, whose messages name them too.
  app.post<{ Body: JobSpec }>("/jobs", { bodyLimit, schema: { body: jobSpecSchema }, preValidation: unknownFieldsFirst }, async (request, reply) => {
    const info = await trainer.submit(resolveDataPaths(request.body, dataDir));
    return reply.code(201).header("location", `${app.prefix}/jobs/${info.id}`).send(info);
  });

  app.get("/jobs", async () => ({ jobs: trainer.jobs().map(withoutReports) }));

  app.get<IdRequest>("/jobs/:id", { schema: { params: idParams } }, async (request) => known(request.params.id));

  app.delete<IdRequest>("/jobs/:id", { schema: { params: idParams } }, async (request) => trainer.cancel(known(request.params.id).id));

  app.get<IdRequest>("/jobs/:id/events", { schema: { params: idParams } }, (request, reply) => {
    const snapshot = known(request.params.id);
    streamEvents(reply, snapshot, trainer, streams, keepAliveSeconds);
  });

  app.get("/events", (_request, reply) => streamAllEvents(reply, trainer, streams, keepAliveSeconds));

  app.get("/models", async () => ({
    models: trainer.jobs().filter((j) => j.model).map((j) => ({
      id: j.id,
      ...(j.spec.name === undefined ? {} : { name: j.spec.name }),
      layers: j.spec.layers,
      dataset: j.spec.dataset,
      accuracy: j.accuracy,
      epochs: j.epoch,
      finishedAt: j.finishedAt,
      ...(j.restored ? { restored: true } : {}),
    })),
  }));

  app.get<IdRequest>("/models/:id", { schema: { params: idParams } }, async (request, reply) => {
    const text = await trainer.modelText(known(request.params.id).id);
    return reply.type("application/json; charset=utf-8").send(text);
  });

  app.post<IdRequest & { Body: { inputs: number[][] } }>(
    "/models/:id/predict",
    { bodyLimit, schema: { params: idParams, body: predictSchema } },
    async (request) => trainer.predict(known(request.params.id).id, request.body.inputs),
  );

  app.get("/health", async () => {
    const counts = trainer.counts();
    return { status: "ok", queued: counts.queued, running: counts.running, uptimeSeconds: Math.round((Date.now() - started) / 1000) };
  });

  if (dashboard) dashboardRoutes(app);
};

/** Starts an SSE answer on `reply`'s connection and returns the function that sends one event. */
function openStream(reply: FastifyReply): (type: string, data: unknown) => void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no", // proxies (nginx) must not buffer the stream
  });
  return (type, data) => void res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Keeps an open stream alive and ends it with the server; `stop` runs once it closes. */
function keepOpen(res: ServerResponse, streams: Set<ServerResponse>, keepAliveSeconds: number, stop: () => void): void {
  streams.add(res);
  const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), keepAliveSeconds * 1000);
  res.on("close", () => {
    stop();
    clearInterval(keepAlive);
    streams.delete(res);
  });
}

/** A job event's `data`: the job's record for a change of status, `{ id, … }` for progress and epochs. */
function eventData(event: JobEvent): unknown {
  if (event.type === "progress") return { id: event.job.id, ...event.progress };
  if (event.type === "epoch") return { id: event.job.id, epochs: event.job.epochs, ...event.report };
  return event.job;
}

/**
 * GET /events: Server-Sent Events of every job, for the dashboard (a browser opens at most six
 * connections to a server, so it cannot follow each job on its own stream). First `jobs`
 * (`{ jobs: [...] }`, every record now, without reports), then each job's events as
 * `/jobs/:id/events` sends them but with records without reports; the stream stays open.
 */
function streamAllEvents(reply: FastifyReply, trainer: JobSource, streams: Set<ServerResponse>, keepAliveSeconds: number): void {
  const send = openStream(reply);
  // listening starts before the snapshot is taken, in the same turn: no event falls between them
  const stop = trainer.onEvent((event) => {
    const data = eventData(event);
    send(event.type, data === event.job ? withoutReports(event.job) : data);
  });
  send("jobs", { jobs: trainer.jobs().map(withoutReports) });
  keepOpen(reply.raw, streams, keepAliveSeconds, stop);
}

function withoutReports({ reports: _, ...summary }: JobInfo): Omit<JobInfo, "reports"> {
  return summary;
}

/**
 * GET /jobs/:id/events: Server-Sent Events. First `status` (the job's record now), then `queued`,
 * `started`, `progress` (within an epoch, at most ~10 a second), `epoch`, and one of `done`,
 * `failed`, `cancelled`, after which the stream ends. Each `data:` is JSON: the job's record, or
 * for `progress` and `epoch` `{ id, progress }` / `{ id, report, accuracy }`.
 */
function streamEvents(reply: FastifyReply, snapshot: JobInfo, trainer: JobSource, streams: Set<ServerResponse>, keepAliveSeconds: number): void {
  const send = openStream(reply);
  const res = reply.raw;
  send("status", snapshot);
  if (finalStatuses.includes(snapshot.status)) {
    res.end();
    return;
  }
  const stop = trainer.watch(snapshot.id, (event: JobEvent) => {
    if (event.job.seq <= snapshot.seq) return; // already in the snapshot
    send(event.type, eventData(event));
    if (finalStatuses.includes(event.job.status)) res.end();
  });
  keepOpen(res, streams, keepAliveSeconds, stop);
}

/** `idx` and `csv` paths are taken relative to dataDir and must stay inside it; without dataDir, they are refused. */
function resolveDataPaths(spec: JobSpec, dataDir: string | undefined): JobSpec {
  const data = spec.data as unknown as Record<string, unknown>;
  const keys = (["idx", "csv", "test"] as const).filter((k) => typeof data?.[k] === "string");
  if (keys.length === 0) return spec;
  if (dataDir === undefined) {
    throw new ValidationError(`data.${keys[0]}: this server reads no files (start it with --data-dir to allow idx and csv data under a folder)`);
  }
  const root = path.resolve(dataDir);
  const resolved = { ...data };
  for (const key of keys) {
    const file = path.resolve(root, data[key] as string);
    const relative = path.relative(root, file);
    if (relative.startsWith("..") || path.isAbsolute(relative)) {
      throw new ValidationError(`data.${key} must be a path inside the server's data folder, got ${JSON.stringify(data[key])}`);
    }
    resolved[key] = file;
  }
  return { ...spec, data: resolved as unknown as JobSpec["data"] };
}

/** What a 415 says: the body must be JSON, and what the request's content-type was. */
function mediaTypeMessage(contentType: string | undefined): string {
  const got = contentType === undefined ? "the request has no content-type" : `got content-type ${JSON.stringify(contentType)}`;
  return `the body must be JSON, sent with content-type: application/json; ${got}`;
}

const reasons: Record<number, string> = {
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type", 500: "Internal Server Error", 503: "Service Unavailable",
};

function statusOf(error: FastifyError): [number, Record<string, unknown>] {
  if (error instanceof ValidationError || error instanceof ModelFileError || error instanceof DataFileError) return [400, {}];
  if (error instanceof UnauthorizedError) return [401, {}];
  if (error instanceof ForbiddenHostError) return [403, {}];
  if (error instanceof UnknownJobError) return [404, {}];
  if (error instanceof JobStateError) return [409, {}];
  if (error instanceof QueueFullError || error instanceof TrainerClosedError) return [503, {}];
  const field = (error as { field?: string }).field;
  if (typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 600) {
    return [error.statusCode, field === undefined ? {} : { field }];
  }
  return [500, {}];
}

/** A schema error whose message names the field: `body.layers[1] must be >= 1`, `body.data.limit must be integer`. */
function schemaError(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const e = errors[0]!;
  let field = e.instancePath.split("/").slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join("").replace(/^\./, "");
  let message: string;
  if (e.keyword === "required") {
    field = [field, String(e.params.missingProperty)].filter(Boolean).join(".");
    message = "is required";
  } else if (e.keyword === "enum") {
    message = `must be one of ${(e.params.allowedValues as unknown[]).join(", ")}`;
  } else {
    message = e.message ?? "is invalid";
  }
  const error = new Error(`${dataVar}${field ? `.${field}` : ""} ${message}`) as Error & { statusCode: number; field: string };
  error.statusCode = 400;
  error.field = field;
  return error;
}
