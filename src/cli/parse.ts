import { UsageError } from "./errors.js";

/**
 * Parsers of flag values, for commander's `argParser`. Each names the flag and the value it got:
 * `--eta must be a positive number, got -1`. They throw UsageError (exit code 2).
 */

/** A strictly positive finite number. */
export function positiveNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = toNumber(value);
    if (!(n > 0)) throw new UsageError(`${flag} must be a positive number, got ${value}`);
    return n;
  };
}

/** An integer ≥ min (default 1). */
export function integer(flag: string, min = 1): (value: string) => number {
  return (value) => {
    const n = toNumber(value);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new UsageError(`${flag} must be ${min === 1 ? "a positive integer" : `an integer ≥ ${min}`}, got ${value}`);
    }
    return n;
  };
}

/** `auto` or an integer ≥ 0 (0 = train in process, no worker threads). */
export function threads(flag: string): (value: string) => number | "auto" {
  return (value) => {
    if (value === "auto") return "auto";
    const n = toNumber(value);
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} must be "auto" or an integer ≥ 0, got ${value}`);
    return n;
  };
}

/** One of a fixed set of names. */
export function oneOf<T extends string>(flag: string, allowed: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new UsageError(`${flag} must be one of ${allowed.join(", ")}, got ${value}`);
    }
    return value as T;
  };
}

/** A comma-separated list of positive integers (layer sizes): `784,30,10`. */
export function sizeList(flag: string): (value: string) => number[] {
  return (value) => {
    const parts = value.split(",").map((p) => p.trim());
    parts.forEach((p, i) => {
      const n = toNumber(p);
      if (!Number.isSafeInteger(n) || n < 1) {
        const what = p === "" ? "is empty" : `is ${p}`;
        throw new UsageError(`${flag} must be comma-separated positive integers, got ${value} (entry ${i + 1} ${what})`);
      }
    });
    return parts.map(Number);
  };
}

/** Number(value), but NaN for an empty string (Number("") is 0) and for hex or other non-decimal forms. */
function toNumber(value: string): number {
  return /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(value) ? Number(value) : NaN;
}

/** A CSV separator: one character (not a quote or a line break); `tab` or `\t` for a tab. */
export function separator(flag: string): (value: string) => string {
  return (value) => {
    const s = value === "tab" || value === "\\t" ? "\t" : value;
    if ([...s].length !== 1 || /["\r\n]/.test(s)) throw new UsageError(`${flag} must be one character (or "tab"), got ${JSON.stringify(value)}`);
    return s;
  };
}
