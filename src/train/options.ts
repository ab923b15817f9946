import { availableParallelism } from "node:os";
import type { Dataset } from "../core/dataset.js";
import type { StepPhases } from "../parallel/epoch-share.js";
import type { Checkpoint } from "../io/checkpoint.js";
import type { KernelName } from "../parallel/shared-state.js";
import { MAX_THREADS, TrainingPool } from "../parallel/pool.js";
import { check, checkInteger, checkKnownKeys, checkOneOf, checkPositive, show } from "../core/errors.js";
import { randomSeed, type DType } from "../core/network.js";

/** Options of {@link train}. `epochs`, `miniBatchSize` and `eta` are required, as in network.py's SGD. */
export interface TrainOptions {
  /** Passes over the training data. */
  epochs: number;
  /** Examples per gradient step (m). The last batch of an epoch may be shorter; it steps with η/its length. */
  miniBatchSize: number;
  /** Learning rate η. */
  eta: number;
  /** Seed of the per-epoch shuffle (default: random; the seed used is reported in the result). */
  seed?: number;
  /** Shuffle the examples each epoch (default true); false keeps the data order. */
  shuffle?: boolean;
  /** Worker threads: `"auto"` (default) = os.availableParallelism(); an integer ≥ 1; 0 = in-process reference path. */
  threads?: number | "auto";
  /**
   * Train on this pool's threads (see createPool): started once, warm from the last run, kept for
   * the next. The run uses all of them (leave `threads` out, or give the same count); a run on a
   * pool that is busy waits for it. Without a pool, a run starts its own threads and ends them.
   */
  pool?: TrainingPool;
  /**
   * The worker threads' kernel: `"wasm"` (WebAssembly SIMD, float32 networks only), `"js"`
   * (TypeScript), or `"auto"` (default: wasm for float32, js for float64). threads: 0 always runs
   * the TypeScript kernel in process.
   */
  kernel?: "auto" | KernelName;
  /** Evaluated after each epoch; its accuracy goes into the epoch report. */
  testData?: Dataset;
  /** Called after each epoch; training waits for a returned promise. */
  onEpoch?: (report: EpochReport) => void | Promise<void>;
  /** Called during each epoch, at most every 100 ms, with the examples done so far. */
  onProgress?: (progress: Progress) => void;
  /** Stops training between mini-batches; `train` then rejects with an AbortError. */
  signal?: AbortSignal;
  /**
   * Writes a checkpoint (atomically) every `every` epochs (default 1) and after the last one, to
   * continue later with `resume`. `metadata` (any JSON object) is stored in it as is; a resumed
   * run that gives none keeps its checkpoint's.
   */
  checkpoint?: { path: string; every?: number; metadata?: Record<string, unknown> };
  /**
   * Continues a run from a checkpoint (see loadCheckpoint): the network gets the checkpoint's
   * parameters, and the shuffle continues where it stopped; `epochs` counts from the run's start
   * (give more than the checkpoint's to train longer). Options left out are the checkpoint's
   * (`threads` too); a `miniBatchSize`, `eta`, `shuffle`, `seed` or `kernel` other than the
   * checkpoint's is a ValidationError, as it would change the run. The result is then bit-identical
   * to a run that was never interrupted: at any thread count on the TypeScript kernel (float64, and
   * float32 runs made with threads 0), at any count ≥ 1 on the WebAssembly one.
   */
  resume?: Checkpoint;
}

/** Options of {@link train} when resuming: what the checkpoint records may be left out. */
export type ResumeTrainOptions = Omit<TrainOptions, "epochs" | "miniBatchSize" | "eta" | "resume"> &
  Partial<Pick<TrainOptions, "epochs" | "miniBatchSize" | "eta">> & { resume: Checkpoint };

/** Progress within an epoch. */
export interface Progress {
  /** 1-based epoch number. */
  epoch: number;
  /** Training examples of this epoch done so far. */
  examplesDone: number;
  /** Training examples per epoch. */
  examples: number;
}

/** One epoch's figures. */
export interface EpochReport {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean cost C per training example, each measured in its forward pass during the epoch. */
  cost: number;
  /** Test accuracy after the epoch (only with `testData`). */
  accuracy?: number;
  /** Correctly classified test examples (only with `testData`). */
  correct?: number;
  /** Training examples per second over the epoch's training steps. */
  examplesPerSecond: number;
  /** Wall time of the epoch including evaluation, in seconds. */
  seconds: number;
  /**
   * Threaded runs only: where a worker's step time went, in seconds over the epoch (mean over
   * workers): `compute` the forward pass, BP1 and BP2 of the examples it took, `synchronisation`
   * waiting at barriers, `update` its rows' BP3/BP4 sums over the batch and their SGD step.
   */
  phases?: StepPhases;
}

/** What {@link train} resolves to; the network itself has been updated in place. */
export interface TrainResult {
  readonly epochs: EpochReport[];
  /** The shuffle seed used (the given one, or the random one chosen). */
  readonly seed: number;
  /** Worker threads used (0 = in-process). */
  readonly threads: number;
}

/** Options after validation and defaults. */
export interface RunPlan {
  readonly epochs: number;
  readonly miniBatchSize: number;
  readonly eta: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly threads: number;
  /** Kernel of the worker threads (unused when threads is 0). */
  readonly kernel: KernelName;
}


/** Every key of TrainOptions (the type makes this list complete). */
const trainOptionKeys: Record<keyof TrainOptions, true> = {
  epochs: true, miniBatchSize: true, eta: true, seed: true, shuffle: true, threads: true, pool: true, kernel: true, testData: true,
  onEpoch: true, onProgress: true, signal: true, checkpoint: true, resume: true,
};

/** The thread count a `threads` option asks for: `"auto"` (the default) is every core. */
export function threadCount(threads: TrainOptions["threads"]): number {
  return threads === undefined || threads === "auto" ? availableParallelism() : threads;
}

/** Validates options (before any thread starts) and fills in defaults. */
export function planRun(options: TrainOptions, dtype: DType): RunPlan {
  check(options != null && typeof options === "object", "train options must be an object");
  checkKnownKeys("train option", options, trainOptionKeys);
  checkInteger("epochs", options.epochs);
  checkInteger("miniBatchSize", options.miniBatchSize);
  checkPositive("eta", options.eta);
  const seed = options.seed ?? randomSeed();
  checkInteger("seed", seed, 0);
  const shuffle = options.shuffle ?? true;
  check(typeof shuffle === "boolean", `shuffle must be true or false, got ${show(shuffle)}`);
  const pool = options.pool;
  check(pool === undefined || pool instanceof TrainingPool, `pool must be a training pool from createPool(), got ${show(pool)}`);
  check(!pool?.closed, "pool is closed");
  const asked = options.threads ?? "auto";
  const threads = pool && asked === "auto" ? pool.threads : asked;
  if (threads !== "auto") {
    checkInteger("threads", threads, 0);
    check(threads <= MAX_THREADS, `threads must be at most ${MAX_THREADS}, got ${threads}`);
  }
  check(pool === undefined || threads === pool.threads, `threads ${threads} does not match the pool's ${pool?.threads} threads: leave threads out to use the pool's`);
  check(options.onEpoch === undefined || typeof options.onEpoch === "function", "onEpoch must be a function");
  check(options.onProgress === undefined || typeof options.onProgress === "function", "onProgress must be a function");
  check(
    options.signal === undefined || options.signal instanceof AbortSignal,
    `signal must be an AbortSignal, got ${show(options.signal)}`,
  );
  if (options.checkpoint !== undefined) {
    check(typeof options.checkpoint?.path === "string" && options.checkpoint.path !== "", "checkpoint.path must be a file path");
    if (options.checkpoint.every !== undefined) checkInteger("checkpoint.every", options.checkpoint.every);
    const metadata: unknown = options.checkpoint.metadata;
    check(
      metadata === undefined || (typeof metadata === "object" && metadata !== null && !Array.isArray(metadata)),
      `checkpoint.metadata must be a plain object, got ${show(metadata)}`,
    );
  }
  const kernel = options.kernel ?? "auto";
  checkOneOf("kernel", kernel, ["auto", "js", "wasm"]);
  check(kernel !== "wasm" || dtype === "float32", `kernel wasm needs a float32 network, this one is ${dtype}`);
  check(kernel !== "wasm" || threads !== 0, "kernel wasm runs on worker threads; threads 0 is the in-process TypeScript path");
  // threads 0 runs the TypeScript kernel whatever the dtype: record that, so a checkpoint says what really ran
  const chosen = kernel === "auto" ? (dtype === "float32" && threads !== 0 ? "wasm" : "js") : kernel;
  return {
    kernel: chosen,
    epochs: options.epochs,
    miniBatchSize: options.miniBatchSize,
    eta: options.eta,
    seed,
    shuffle,
    threads: threadCount(threads),
  };
}

/**
 * {@link planRun} for a run resumed from `resume`: options left out are the checkpoint's, and one
 * that would change the weights (batch, η, shuffle, seed, kernel) must equal the checkpoint's.
 */
export function planResumedRun(options: TrainOptions | ResumeTrainOptions, resume: Checkpoint, dtype: DType): RunPlan {
  const o = resume.options;
  const threads = options.threads ?? o.threads;
  const kernel = options.kernel === undefined || options.kernel === "auto" ? o.kernel : options.kernel;
  check(
    !(kernel === "wasm" && threads === 0),
    "threads 0 runs the in-process TypeScript kernel, but the checkpoint's run used the wasm kernel: resume it on threads ≥ 1 to continue it bit-identically",
  );
  const plan = planRun(
    {
      ...options,
      epochs: options.epochs ?? o.epochs,
      miniBatchSize: options.miniBatchSize ?? o.miniBatchSize,
      eta: options.eta ?? o.eta,
      shuffle: options.shuffle ?? o.shuffle,
      seed: options.seed ?? resume.seed,
      threads,
      kernel,
    },
    dtype,
  );
  const recorded = { miniBatchSize: o.miniBatchSize, eta: o.eta, shuffle: o.shuffle, seed: resume.seed, kernel: o.kernel };
  for (const key of Object.keys(recorded) as (keyof typeof recorded)[]) {
    check(
      plan[key] === recorded[key],
      `${key} ${show(plan[key])} is not the checkpoint's ${show(recorded[key])}: a resumed run keeps what decides its weights (leave ${key} out to use the checkpoint's)`,
    );
  }
  return plan;
}
