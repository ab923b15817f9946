/**
 * The one measuring loop of every suite: contenders take turns, round after round, so the turns of
 * round r of every contender run within moments of each other. On this machine the same 2-thread
 * W1 epoch took 29 to 101 ms within one run, so configurations measured in separate runs, seconds
 * apart, compare the host's spells as much as their code; the ratio of two contenders' turns in one
 * round compares them under (nearly) the same conditions. The order is reversed every other round,
 * so no contender always goes first.
 */
import { availableParallelism } from "node:os";
import { stolenSeconds, type Split } from "./stats.js";

/** One side of a measurement: something that can be measured once per round. */
export interface Contender<T> {
  readonly name: string;
  /** One turn: do the work and return its measurement. */
  turn(): Promise<T>;
  /** Ends what the contender keeps between turns (threads, a training, a child process). */
  close?(): Promise<void>;
}

/** How many rounds to take, and when the contenders count as warm. */
export interface TurnOptions<T> {
  /** Measured rounds. */
  readonly rounds: number;
  /**
   * Called after every unmeasured round with each contender's unmeasured samples so far: true once
   * all are warm (their JIT compiled, their threads started), and the measured rounds begin. Default: no warm-up.
   */
  readonly warm?: (samples: readonly (readonly T[])[]) => boolean;
  /** Called before each turn (index of the contender, round, measured or not), e.g. to log progress. */
  readonly onTurn?: (contender: number, round: number, measured: boolean) => void;
}

/** The measured turns of one contender. */
export interface Turns<T> {
  /** Index r: the measurement of round r. */
  readonly samples: T[];
  /** Per measured turn, the CPU seconds the hypervisor took from this machine during it (/proc/stat; undefined if unknown). */
  readonly stolen: (number | undefined)[];
  /** Stolen CPU time ÷ (wall time × cores) over the measured turns; undefined if unknown. */
  readonly steal: number | undefined;
}

/**
 * Runs `contenders` in turns: rounds until `warm` says all are warm, then `rounds` measured rounds.
 * Returns each contender's measured turns (in the contenders' order). Every contender is closed at
 * the end, also on failure; the first failure (of a turn or a close) rejects once all are closed.
 */
export async function takeTurns<T>(contenders: readonly Contender<T>[], options: TurnOptions<T>): Promise<Turns<T>[]> {
  const { rounds, warm, onTurn } = options;
  const measured = contenders.map(() => ({ samples: [] as T[], stolen: [] as (number | undefined)[], wall: 0 }));
  const unmeasured = contenders.map((): T[] => []);
  let measuring = warm === undefined;
  let failure: unknown;
  try {
    for (let round = 0; measured[0]!.samples.length < rounds; round++) {
      const order = contenders.map((_, i) => (round % 2 === 0 ? i : contenders.length - 1 - i));
      for (const i of order) {
        onTurn?.(i, round, measuring);
        const before = { wall: performance.now(), stolen: stolenSeconds() };
        const sample = await contenders[i]!.turn();
        const after = stolenSeconds();
        if (measuring) {
          const into = measured[i]!;
          into.samples.push(sample);
          into.wall += (performance.now() - before.wall) / 1000;
          into.stolen.push(after === undefined || before.stolen === undefined ? undefined : after - before.stolen);
        } else {
          unmeasured[i]!.push(sample);
        }
      }
      measuring ||= warm!(unmeasured);
    }
  } catch (error) {
    failure = error;
  }
  const closed = await Promise.allSettled(contenders.map((c) => c.close?.()));
  const failed = closed.find((c): c is PromiseRejectedResult => c.status === "rejected");
  if (failure !== undefined) throw failure;
  if (failed) throw failed.reason;
  return measured.map(({ samples, stolen, wall }) => {
    const known = stolen.every((s) => s !== undefined);
    const seconds = stolen.reduce<number>((sum, s) => sum + (s ?? 0), 0);
    return { samples, stolen, steal: known && wall > 0 ? seconds / (wall * availableParallelism()) : undefined };
  });
}

/** The `warm` of a measurement that leaves out its first `rounds` rounds (none: every round is measured). */
export function unmeasuredRounds<T>(rounds: number): Pick<TurnOptions<T>, "warm"> {
  let done = 0;
  return rounds > 0 ? { warm: () => ++done >= rounds } : {};
}

/** A contender whose every turn is one call of `turn` (and nothing kept between turns but what `close` ends). */
export function contender<T>(name: string, turn: () => Promise<T>, close?: () => Promise<void>): Contender<T> {
  return close ? { name, turn, close } : { name, turn };
}

/** Wall-clock milliseconds of `work`. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** A queue of values passed from one async function to another. */
export class Mailbox<T> {
  private readonly values: T[] = [];
  private readonly takers: ((value: T) => void)[] = [];
  put(value: T): void {
    const taker = this.takers.shift();
    if (taker) taker(value);
    else this.values.push(value);
  }
  take(): Promise<T> {
    return this.values.length ? Promise.resolve(this.values.shift()!) : new Promise((resolve) => this.takers.push(resolve));
  }
}

/**
 * Each measured round's ratio of `run`'s sample to `base`'s (by `value`, e.g. examples/s): over all
 * rounds, and over the "quiet" rounds, in which the hypervisor took no CPU time during either
 * turn (by /proc/stat; some slow epochs of this machine show none, so quiet is not always fast).
 */
export function pairedRatios<T>(base: Turns<T>, run: Turns<T>, value: (sample: T) => number): Split {
  const all = run.samples.map((s, r) => value(s) / value(base.samples[r]!));
  return { all, quiet: all.filter((_, r) => base.stolen[r] === 0 && run.stolen[r] === 0) };
}

/** A value of each of `run`'s measured turns: over all of them, and over the quiet ones (no CPU time stolen during it). */
export function turnValues<T>(run: Turns<T>, value: (sample: T) => number): Split {
  const all = run.samples.map(value);
  return { all, quiet: all.filter((_, r) => run.stolen[r] === 0) };
}
