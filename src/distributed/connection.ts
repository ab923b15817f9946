import { Redis } from "ioredis";
import { check, show } from "../core/errors.js";
import { RedisUnavailableError } from "./errors.js";

/** Connection options, as both ioredis and BullMQ take them. */
export interface RedisConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: object;
  maxRetriesPerRequest: null;
}

/**
 * ioredis options for a `redis://[user:password@]host:port[/db]` URL. `maxRetriesPerRequest: null`
 * is what BullMQ's blocking connections need: while Redis is away, calls wait and the connection
 * keeps retrying, so a Redis restart loses nothing that Redis itself kept.
 */
export function redisOptions(url: string): RedisConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisUnavailableError(`--redis must be a URL like redis://127.0.0.1:6379, got ${show(url)}`);
  }
  check(parsed.protocol === "redis:" || parsed.protocol === "rediss:", `--redis must be a redis:// URL, got ${show(url)}`);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  check(Number.isInteger(db) && db >= 0, `--redis: the database number must be an integer, got ${show(parsed.pathname.slice(1))}`);
  return {
    host: parsed.hostname || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    db,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/**
 * Connects once, without retrying, and pings: a process that cannot reach Redis at start says so in
 * one line (`cannot reach Redis at redis://127.0.0.1:6390: connect ECONNREFUSED 127.0.0.1:6390`)
 * instead of retrying silently forever.
 */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  const client = new Redis({ ...redisOptions(url), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, enableOfflineQueue: false });
  // The socket's error (ECONNREFUSED, ENOTFOUND) says more than connect()'s "Connection is closed".
  let cause: unknown;
  client.on("error", (error: unknown) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const why = cause ?? error;
    throw new RedisUnavailableError(`cannot reach Redis at ${url}: ${why instanceof Error ? why.message : String(why)}`);
  } finally {
    client.disconnect();
  }
}
