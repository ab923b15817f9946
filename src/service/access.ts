import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { check, show } from "../core/errors.js";
import { ForbiddenHostError, UnauthorizedError } from "./errors.js";

/** Who may use the job API (see {@link accessCheck}). */
export interface AccessOptions {
  /** When set, every API request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** When set, requests whose Host header names another host are refused (403). */
  allowedHosts?: readonly string[];
}

/** The host names a browser uses for this machine: what a loopback-bound server answers to. */
const loopbackNames = ["localhost", "127.0.0.1", "::1"];

/**
 * The host names a server bound to `host` answers to: for a loopback address, the loopback names
 * (a page on evil.example whose name an attacker re-points at 127.0.0.1 — DNS rebinding — sends
 * `Host: evil.example` and is refused). Undefined (no check) for any other address: the server was
 * put on a network on purpose, under names we cannot know; protect it with a token.
 */
export function loopbackHosts(host: string): string[] | undefined {
  const name = hostName(host);
  const loopback = loopbackNames.includes(name) || /^127(\.\d{1,3}){3}$/.test(name);
  return loopback ? [...new Set([...loopbackNames, name])] : undefined;
}

/** Throws a ValidationError unless `token` can travel in an Authorization header: visible ASCII, no spaces. */
export function checkToken(token: unknown): asserts token is string {
  check(typeof token === "string" && /^[\x21-\x7e]+$/.test(token), `token must be a non-empty string of visible ASCII characters without spaces, got ${typeof token === "string" ? `${token.length} characters` : show(token)}`);
}

/**
 * The fastify onRequest hook that enforces {@link AccessOptions}: the Host check on every request,
 * then the token on every route except those marked `config: { public: true }` (the dashboard's
 * static files, which hold no data: the page asks for the token and sends it with each call).
 */
export function accessCheck(options: AccessOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const { token, allowedHosts } = options;
  if (token !== undefined) checkToken(token);
  const expected = token === undefined ? undefined : digest(token);
  return async (request) => {
    const host = request.headers.host;
    if (allowedHosts !== undefined && host !== undefined && !allowedHosts.includes(hostName(host))) {
      throw new ForbiddenHostError(`this server answers to ${allowedHosts.join(", ")} only, not to Host ${JSON.stringify(host)} (DNS rebinding protection)`);
    }
    if (expected === undefined || (request.routeOptions.config as { public?: boolean }).public === true) return;
    const header = request.headers.authorization;
    const given = header === undefined ? undefined : /^Bearer +(\S+)\s*$/i.exec(header)?.[1];
    if (given === undefined) throw new UnauthorizedError("this server needs a token: send Authorization: Bearer <token>");
    // compared as digests, in constant time: the answer's timing says nothing about the token
    if (!timingSafeEqual(digest(given), expected)) throw new UnauthorizedError("the token is wrong");
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** The host name of a Host header or address, lower case, without port or IPv6 brackets. */
function hostName(host: string): string {
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.includes(":") && host.indexOf(":") === host.lastIndexOf(":") ? host.slice(0, host.indexOf(":")) : host;
  return name.toLowerCase().replace(/\.$/, "");
}
