import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Piscina } from "piscina";
import { checkInteger, check } from "../core/errors.js";
import type { EpochShareResult, EpochTask } from "./epoch-share.js";
import type { SharedRun } from "./shared-state.js";

// In the repository the worker is TypeScript and needs the tsx loader in its thread (a test
// runner's transform does not reach threads piscina starts); the built package runs compiled .js.
const fromSource = import.meta.url.endsWith(".ts");
const workerFile = new URL(`../../workers/trainer.${fromSource ? "ts" : "js"}`, import.meta.url);
// Resolved from here, not from the working directory, so a run started in any folder finds tsx.
const tsxLoader = fromSource ? [pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href] : [];

/** More worker threads than this is surely a mistake (each one is an OS thread with its own heap). */
export const MAX_THREADS = 256;

/**
 * What a pool's thread is asked to do: its part of an epoch of a run (the run's shared memory comes
 * with the run's first epoch only: every thread takes one task of each epoch), or to let go of a
 * run's memory.
 */
export type PoolTask =
  | { readonly kind: "epoch"; readonly run: SharedRun | undefined; readonly runId: number; readonly task: EpochTask }
  | { readonly kind: "release"; readonly runId: number };

/**
 * @internal What a pool's threads run, for tests and benchmarks (not part of the public API): the
 * worker entry (tests give a fixture worker that wraps the real one), data handed to each thread
 * as `workerData`, and the benchmark-only private-weights variant (see SharedRun.privateWeights).
 */
export interface WorkerVariant {
  readonly file?: URL;
  readonly data?: unknown;
  readonly privateWeights?: boolean;
}

/** Options of {@link createPool}. */
export interface PoolOptions {
  /** Worker threads, an integer from 1 to 256. */
  threads: number;
}

let runIds = 0;

/**
 * Training threads that outlive a run: a run borrows all of them, and the next run finds them
 * started and warm. Runs on one pool take turns (a second `train()` waits for the first), since a
 * run's threads meet at barriers and must all be its own. Idle threads use no CPU and do not keep
 * the process alive; a thread that dies is replaced. `close()` ends them all.
 */
export class TrainingPool {
  /** Worker threads of this pool. */
  readonly threads: number;
  readonly #piscina: Piscina;
  #turn: Promise<void> = Promise.resolve();
  #closed: Promise<void> | undefined;
  /** The last run's shared memory, kept for the next run to reuse (see createSharedRun). */
  #held: SharedRun | undefined;

  /** @internal How this pool's threads differ from the real ones (tests and benchmarks only). */
  readonly variant: WorkerVariant;

  /** @internal Use {@link createPool}. */
  constructor(threads: number, variant: WorkerVariant = {}) {
    this.threads = threads;
    this.variant = variant;
    this.#piscina = new Piscina({
      filename: (variant.file ?? workerFile).href,
      workerData: variant.data,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1, // each epoch task of a run must hold its own thread (they meet at barriers)
      idleTimeout: Number.MAX_SAFE_INTEGER,
      execArgv: fromSource ? [...process.execArgv, "--import", ...tsxLoader] : process.execArgv,
    });
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Thread ids of the live threads (they stay the same from run to run unless one dies). */
  get threadIds(): number[] {
    return this.#piscina.threads.map((t) => t.threadId);
  }

  /**
   * Waits for this pool's turn and returns a lease of all its threads for one run; the run must
   * call `release()` when it ends, however it ends.
   */
  async lease(): Promise<PoolLease> {
    check(!this.closed, "this training pool is closed");
    let done!: () => void;
    const previous = this.#turn;
    this.#turn = new Promise<void>((resolve) => (done = resolve));
    await previous;
    if (this.closed) {
      done();
      throw new Error("this training pool was closed while a run waited for it");
    }
    const runId = ++runIds;
    const piscina = this.#piscina;
    const threads = this.threads;
    let released = false;
    return {
      held: this.#held,
      hold: (run) => void (this.#held = run),
      runEpoch: (run, task) => piscina.run({ kind: "epoch", run: task.epoch === 1 ? run : undefined, runId, task } satisfies PoolTask) as Promise<EpochShareResult>,
      release: async () => {
        if (released) return;
        released = true;
        // Each idle thread takes one of these (concurrentTasksPerWorker 1) and drops its views of the
        // run's memory, so the memory can be collected; a thread that is gone holds nothing.
        await Promise.allSettled(Array.from({ length: threads }, () => piscina.run({ kind: "release", runId } satisfies PoolTask)));
        done();
      },
    };
  }

  /** Ends every thread (after the run in progress, if any, has released them). Safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= this.#turn.then(() => {
      this.#held = undefined;
      return this.#piscina.destroy();
    });
    return this.#closed;
  }
}

/** One run's use of a pool's threads. */
export interface PoolLease {
  /** The shared memory of the pool's last run, for this run to reuse (createSharedRun's `previous`). */
  readonly held: SharedRun | undefined;
  /** Keeps this run's shared memory for the pool's next run. */
  hold(run: SharedRun): void;
  /** Runs worker `task.worker`'s part of an epoch of `run` on a thread of its own. */
  runEpoch(run: SharedRun, task: EpochTask): Promise<EpochShareResult>;
  /** Hands the threads back (and lets them drop the run's memory). */
  release(): Promise<void>;
}

/**
 * A pool of `threads` training threads that outlive each run: pass it to `train()` as `pool`, and
 * consecutive runs reuse the same started, warm threads. Close it when done (idle threads do not
 * keep the process alive, so a script may also just end).
 */
export function createPool(options: PoolOptions): TrainingPool {
  check(options !== null && typeof options === "object", "createPool needs an options object, e.g. { threads: 2 }");
  checkInteger("threads", options.threads);
  check(options.threads <= MAX_THREADS, `threads must be at most ${MAX_THREADS}, got ${options.threads}`);
  return new TrainingPool(options.threads);
}
