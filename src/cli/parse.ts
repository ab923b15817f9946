import { availableParallelism } from "node:os";
import { InvalidArgumentError } from "commander";
import { UsageError } from "./errors.js";
import { parseEtaSchedule, type EtaSchedule } from "../core/schedule.js";

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

/** An --eta-schedule value: plateau, plateau:<patience> or step:<every>:<factor>. */
export function etaScheduleFlag(flag: string): (value: string) => EtaSchedule {
  return (value) => {
    try {
      return parseEtaSchedule(value);
    } catch (error) {
      throw new UsageError(`${flag}: ${(error as Error).message}`);
    }
  };
}

/** A finite number ≥ 0. */
export function nonNegativeNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = toNumber(value);
    if (!(n >= 0) || !Number.isFinite(n)) throw new UsageError(`${flag} must be a number ≥ 0, got ${value}`);
    return n;
  };
}

/** A number in [0, 1) (momentum's μ, dropout's p). */
export function fraction(flag: string): (value: string) => number {
  return (value) => {
    const n = toNumber(value);
    if (!(n >= 0 && n < 1)) throw new UsageError(`${flag} must be a number in [0, 1), got ${value}`);
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

/**
 * `auto` or an integer ≥ 0 (0 = train in process, no worker threads), at most `cores` when given
 * (the threads of a run on this machine; see {@link checkThreadsFit}).
 */
export function threads(flag: string, cores?: number): (value: string) => number | "auto" {
  return (value) => {
    if (value === "auto") return "auto";
    const n = toNumber(value);
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} must be "auto" or an integer ≥ 0, got ${value}`);
    if (cores !== undefined) checkThreadsFit(flag, n, cores);
    return n;
  };
}

/**
 * Refuses more threads than this machine has cores (os.availableParallelism()), as the background
 * trainer refuses such job specs: the workers meet at a barrier every mini-batch, so one waiting for a
 * core stalls all of them (64 threads on 2 cores ran 60 times slower). The library itself allows it.
 */
export function checkThreadsFit(flag: string, threads: number | "auto", cores = availableParallelism()): void {
  if (threads !== "auto" && threads > cores) {
    throw new UsageError(`${flag} ${threads} is more than this machine's ${cores} cores: give at most ${cores}, or auto`);
  }
}

/**
 * A file name with this extension (any case): `--plot` writes SVG only, and an SVG under a .png
 * name opens as a broken image.
 */
export function fileWithExtension(flag: string, extension: string, what: string): (value: string) => string {
  return (value) => {
    if (!value.toLowerCase().endsWith(extension) || value.length === extension.length) {
      throw new UsageError(`${flag} ${value}: ${what}, so the file name must end in ${extension}`);
    }
    return value;
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

/** A comma-separated list parsed item by item (`0.5,1,3`). */
export function list<T>(parse: (value: string) => T): (value: string) => T[] {
  return (value) => {
    const items = value.split(",").map((v) => v.trim());
    if (items.some((v) => v === "")) throw new InvalidArgumentError(`${JSON.stringify(value)} has an empty item`);
    return items.map(parse);
  };
}
