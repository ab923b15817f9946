/**
 * Trainings as contenders: a long `train()` whose every turn is one more epoch, so the epochs of
 * several configurations are measured round by round (takeTurns), each keeping its worker threads
 * for the whole measurement, idle while the others train.
 */
import { sliceDataset, type Dataset } from "../core/dataset.js";
import { AbortError } from "../core/errors.js";
import type { Network } from "../core/network.js";
import type { EpochReport, TrainOptions, TrainResult } from "../train/options.js";
import { train } from "../train/train.js";
import { loadMnistDigits, type MnistSplit } from "../data/mnist.js";
import { Mailbox, takeTurns, type Contender, type Turns } from "./turns.js";

/** What a training contender needs of a shoal build: this repository's, or another checkout's (the ab suite). */
export interface Shoal {
  readonly train: typeof train;
  readonly AbortError: typeof AbortError;
}

/** This repository's shoal. */
export const thisShoal: Shoal = { train, AbortError };

/** One training of a measurement: a network, its data and options, and the shoal build that trains it. */
export interface Contestant {
  readonly network: Network;
  readonly data: Dataset;
  readonly options: Omit<TrainOptions, "epochs" | "signal" | "onEpoch">;
  readonly shoal?: Shoal;
}

/** The measured epochs of a training: `samples[r]` is its epoch of round r. */
export type SteadyRun = Turns<EpochReport>;

/**
 * A training that runs one epoch per turn: the first turn starts it, each later one lets it train
 * one more epoch, and close() aborts it (waiting in onEpoch between turns, so it is stopped cleanly).
 */
export function trainingContender({ network, data, options, shoal = thisShoal }: Contestant, name = ""): Contender<EpochReport> {
  const go = new Mailbox<boolean>(); // true: train one epoch more; false: stop
  const epochs = new Mailbox<EpochReport | Error>();
  const controller = new AbortController();
  let training: Promise<void> | undefined;
  const run = async (): Promise<void> => {
    try {
      await shoal.train(network, data, {
        ...options,
        epochs: 1_000_000,
        signal: controller.signal,
        onEpoch: async (report) => {
          epochs.put(report);
          if (!(await go.take())) controller.abort();
        },
      });
      throw new Error("a training ended before the benchmark stopped it");
    } catch (error) {
      if (controller.signal.aborted && error instanceof shoal.AbortError) return; // stopped, as asked
      const failure = error instanceof Error ? error : new Error(String(error));
      epochs.put(failure); // a turn may be waiting for this epoch
      throw failure;
    }
  };
  return {
    name,
    async turn() {
      if (training) go.put(true);
      else {
        training = run();
        training.catch(() => {}); // reported by the turn, and again by close()
      }
      const report = await epochs.take();
      if (report instanceof Error) throw report;
      return report;
    },
    async close() {
      go.put(false);
      await training;
    },
  };
}

/** When a training's epochs count as warm: at least `epochs` of them and `seconds` of training. */
export interface WarmUp {
  readonly epochs?: number;
  readonly seconds?: number;
}

/**
 * Trains several contestants at once, taking turns one epoch each (takeTurns), until each is past
 * its threads' JIT warm-up, then `rounds` rounds more are measured. Warm-up: at least 2 epochs and
 * 1 s of training each (by default). V8 optimises a function after enough calls, so a short epoch
 * (a large batch, a small network) needs more of them: W1 at batch 100 was still compiling in its
 * 7th epoch, and a 2-thread epoch during which a thread compiles runs at half speed (the other
 * waits at the barrier).
 */
export async function epochsInTurn(contestants: readonly Contestant[], rounds: number, warmUp: WarmUp = {}): Promise<SteadyRun[]> {
  const { epochs = 2, seconds = 1 } = warmUp;
  return takeTurns(
    contestants.map((c, i) => trainingContender(c, String(i))),
    { rounds, warm: (done) => done.every((reports) => reports.length >= epochs && reports.reduce((s, r) => s + r.seconds, 0) >= seconds) },
  );
}

/** The measured epochs of one training, past its JIT warm-up (see epochsInTurn). */
export async function steadyEpochs(contestant: Contestant, measured = 3, warmUp: WarmUp = {}): Promise<SteadyRun> {
  return (await epochsInTurn([contestant], measured, warmUp))[0]!;
}

/**
 * A "train" that trains `count` networks at once, each on its own thread and each a copy of the
 * given one, and reports one epoch when all have finished it: the examples of all of them over the
 * slowest one's time. They start each epoch together (each waits in onEpoch for the others): what
 * the machine gives `count` threads that never wait for each other.
 */
export function independentTrainings(count: number, shoal: Shoal = thisShoal): Shoal {
  const together: Shoal["train"] = async (network, trainingData, options) => {
    let waiting: { report: EpochReport; release: () => void }[] = [];
    const onEpoch = (report: EpochReport): Promise<void> =>
      new Promise<void>((release) => {
        waiting.push({ report, release });
        if (waiting.length < count) return;
        const done = waiting;
        waiting = [];
        const seconds = Math.max(...done.map((w) => w.report.seconds));
        const combined = { ...report, seconds, examplesPerSecond: (count * trainingData.count) / seconds };
        void Promise.resolve(options.onEpoch?.(combined)).finally(() => done.forEach((w) => w.release()));
      });
    const copies = Array.from({ length: count }, (_, k) => (k === 0 ? network : network.clone()));
    const ended = await Promise.allSettled(copies.map((copy) => shoal.train(copy, trainingData, { ...options, threads: 1, onEpoch })));
    const failed = ended.find((e): e is PromiseRejectedResult => e.status === "rejected");
    if (failed) throw failed.reason;
    return (ended[0] as PromiseFulfilledResult<TrainResult>).value;
  };
  return { train: together, AbortError: shoal.AbortError };
}

/**
 * Keeps the machine busy with `work` for `ms` before measuring: on the reference machine a process's
 * first second of load runs up to ~1.5× slower (the clock ramps up), which would otherwise bias
 * whichever configuration is measured first.
 */
export async function warmUpMachine(work: () => Promise<unknown>, ms = 2500): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < ms) await work();
}


/** How long a suite measures: full, or --quick (one round, barely warm: a smoke run whose numbers mean nothing). */
export interface Pace {
  /** Measured rounds per run. */
  readonly rounds: number;
  readonly warmUp: WarmUp;
  /** The machine's warm-up before the first measurement (warmUpMachine). */
  readonly machineMs: number;
  /** Pause between runs. */
  readonly pauseMs: number;
}

export const pace = (quick: boolean): Pace =>
  quick ? { rounds: 1, warmUp: { epochs: 1, seconds: 0 }, machineMs: 0, pauseMs: 0 } : { rounds: 3, warmUp: {}, machineMs: 2500, pauseMs: 300 };

/** The bundled digits (8,000 training, 2,000 test), or under --quick their first 500 and 100. */
export async function digits(quick: boolean): Promise<MnistSplit> {
  const split = await loadMnistDigits();
  return quick ? { train: sliceDataset(split.train, 0, 500), test: sliceDataset(split.test, 0, 100) } : split;
}
