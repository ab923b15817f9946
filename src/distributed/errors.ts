import { ShoalError } from "../core/errors.js";

/** Redis could not be reached (at start, or for a call): the message names the URL and the cause. */
export class RedisUnavailableError extends ShoalError {
  override name = "RedisUnavailableError";
}
