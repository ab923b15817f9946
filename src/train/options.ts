import type { Dataset } from "../core/dataset.js";
import type { StepPhases } from "../parallel/epoch-share.js";
import type { Checkpoint } from "../io/checkpoint.js";
import { NEURON_MAX_BATCH, type KernelName, type Parallelism } from "../parallel/shared-state.js";
import { MAX_THREADS, TrainingPool } from "../parallel/pool.js";
import { check, checkInteger, checkKnownKeys, checkOneOf, checkPositive, show } from "../core/errors.js";
import { randomSeed, type DType, type NetworkSpec } from "../core/network.js";
import { chooseParallelism, chooseThreads, inputDensity, type ThreadChoice, type Workload } from "./auto-threads.js";
import { checkEarlyStopping, checkEtaSchedule, monitorFlags, type EarlyStopping, type EtaSchedule, type Monitor, type MonitorFlag, type StopReason } from "../core/schedule.js";
import { checkLambda, checkMomentum } from "../core/sgd.js";
import { checkDropout } from "../core/dropout.js";

/** Options of {@link train}. `epochs`, `miniBatchSize` and `eta` are required, as in network.py's SGD. */
export interface TrainOptions {
  /** Passes over the training data. */
  epochs: number;
  /** Examples per gradient step (m). The last batch of an epoch may be shorter; it steps with η/its length. */
  miniBatchSize: number;
  /** Learning rate η. */
  eta: number;
  /**
   * L2 regularisation λ (default 0: none), network2.py's rule: w ← (1 − ηλ/n)·w − (η/m)·Σ ∂C/∂w
   * with n the training set's size; biases do not decay.
   */
  lambda?: number;
  /**
   * Momentum μ in [0, 1) (default 0: plain SGD), chapter 3's rule: v ← μ·v − (η/m)·Σ ∂C/∂w,
   * w ← w + v, for weights and biases alike, from zero velocities. With `lambda` too the weights
   * decay first: w ← (1 − ηλ/n)·w + v. The velocities are kept in checkpoints.
   */
  momentum?: number;
  /**
   * Dropout rate p in [0, 1) (default 0: none; chapter 3 uses 0.5): for each mini-batch, every
   * neuron of every hidden layer is dropped with probability p (its activation is 0 for the whole
   * batch, so its weights and bias get no gradient) and a kept one's activation is scaled by
   * 1/(1 − p), so evaluation and predictions use the whole network unchanged. Which neurons drop is
   * drawn from `seed`, the epoch and the mini-batch: the same at any thread count and after
   * `resume`. Not with parallelism "neurons".
   */
  dropout?: number;
  /** Seed of the per-epoch shuffle and of dropout's masks (default: random; the seed used is reported in the result). */
  seed?: number;
  /** Shuffle the examples each epoch (default true); false keeps the data order. */
  shuffle?: boolean;
  /**
   * Worker threads: `"auto"` (default) = the count a cost model predicts is fastest for this
   * network, batch size and kernel on this machine (see TrainResult.threadsReason; the count never
   * changes the result's bits); an integer ≥ 1; 0 = in-process reference path.
   */
  threads?: number | "auto";
  /**
   * Train on this pool's threads (see createPool): started once, warm from the last run, kept for
   * the next. The run uses all of them (leave `threads` out, or give the same count); a run on a
   * pool that is busy waits for it. Without a pool, a run uses the default pool (see train()).
   */
  pool?: TrainingPool;
  /**
   * The worker threads' kernel: `"wasm"` (WebAssembly SIMD, of the network's dtype), `"js"`
   * (TypeScript), or `"auto"` (default: wasm, except js for a float64 network split by neurons).
   * threads: 0 always runs the TypeScript kernel in process. On float64 the two kernels give the
   * same bits; on float32 each has its own.
   */
  kernel?: "auto" | KernelName;
  /**
   * How the worker threads share each mini-batch: `"examples"` (each thread takes some of the
   * batch's examples; the default) or `"neurons"` (each thread takes some of the hidden layer's
   * neurons for every example: one barrier a step and no weight crossing cores, which pays at small
   * batches; one hidden layer, batches of at most 1,024; on the wasm kernel sigmoid layers with the
   * quadratic cost, on the TypeScript kernel any), or `"auto"` (the default): on the wasm kernel the
   * one the cost model predicts is faster, where the neuron split can run (TrainResult.threadsReason
   * says), else the example split. Both give the same bits.
   */
  parallelism?: Parallelism | "auto";
  /** Evaluated after each epoch; its accuracy goes into the epoch report. */
  testData?: Dataset;
  /**
   * Held-out examples evaluated after each epoch (in the calling thread), for `earlyStopping` and
   * `etaSchedule` to watch instead of the test data; their accuracy goes into the epoch report.
   */
  validationData?: Dataset;
  /** How η changes over the epochs (default: it stays `eta`); see {@link EtaSchedule}. */
  etaSchedule?: EtaSchedule;
  /** Stop when the monitored accuracy stops improving; see {@link EarlyStopping}. */
  earlyStopping?: EarlyStopping;
  /**
   * What else to measure after each epoch, in the calling thread (each costs a pass over its data):
   * `"training-accuracy"`, `"test-cost"`, `"validation-cost"` (network2.py's monitor flags; the
   * training cost and the test and validation accuracies are always reported).
   */
  monitor?: readonly MonitorFlag[];
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
  /** The learning rate the epoch trained with (it changes only with an `etaSchedule`). */
  eta: number;
  /** Test accuracy after the epoch (only with `testData`). */
  accuracy?: number;
  /** Correctly classified test examples (only with `testData`). */
  correct?: number;
  /** Accuracy on the training data after the epoch (monitor "training-accuracy"). */
  trainingAccuracy?: number;
  /** Mean cost over the test data after the epoch (monitor "test-cost"). */
  testCost?: number;
  /** Mean cost over the validation data after the epoch (monitor "validation-cost"). */
  validationCost?: number;
  /** Validation accuracy after the epoch (only with `validationData`). */
  validationAccuracy?: number;
  /** Correctly classified validation examples (only with `validationData`). */
  validationCorrect?: number;
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
  /**
   * Why that many, for people: with `threads: "auto"` the cost model's reasoning (e.g. "1 thread:
   * a 784-30-10 step at batch 10 (wasm kernel) is ~30 µs on 1 thread, too short for 2 threads to pay
   * for their barriers and weight exchange (~18 µs a step): 2 would run at ~0.76× the speed of 1"),
   * else "2 threads, as asked", "in process, as asked", "2 threads: the pool's" or "…, as the checkpoint's run".
   */
  readonly threadsReason: string;
  /** How the threads shared each mini-batch ("examples" also for runs in process). */
  readonly parallelism: Parallelism;
  /** Set when the run ended before its last epoch: after which epoch, and why. */
  readonly stopped?: { readonly epoch: number; readonly reason: StopReason };
  /** With `earlyStopping.restoreBest`: the epoch whose parameters the network holds (the best monitored accuracy; the first such epoch on a tie). */
  readonly bestEpoch?: number;
}

/** Options after validation and defaults. */
export interface RunPlan {
  readonly epochs: number;
  readonly miniBatchSize: number;
  readonly eta: number;
  /** L2's λ (0: none). */
  readonly lambda: number;
  /** Momentum's μ (0: none). */
  readonly momentum: number;
  /** Dropout's rate p (0: none). */
  readonly dropout: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly threads: number;
  /** Why that many threads (see TrainResult.threadsReason). */
  readonly threadsReason: string;
  /** Kernel of the worker threads (unused when threads is 0). */
  readonly kernel: KernelName;
  /** How the threads share each mini-batch (unused when threads is 0). */
  readonly parallelism: Parallelism;
  readonly etaSchedule: EtaSchedule | undefined;
  readonly earlyStopping: EarlyStopping | undefined;
  /** The accuracy the schedule and early stopping watch (undefined when neither is asked for). */
  readonly watched: Monitor | undefined;
  /** What else to measure after each epoch (TrainOptions.monitor, without repeats). */
  readonly monitor: readonly MonitorFlag[];
}


/** Every key of TrainOptions (the type makes this list complete). */
const trainOptionKeys: Record<keyof TrainOptions, true> = {
  epochs: true, miniBatchSize: true, eta: true, lambda: true, momentum: true, dropout: true, seed: true, shuffle: true, threads: true, pool: true, kernel: true, parallelism: true, testData: true,
  validationData: true, etaSchedule: true, earlyStopping: true, monitor: true, onEpoch: true, onProgress: true, signal: true, checkpoint: true, resume: true,
};

/** What a run's thread count depends on besides its options: the network's shape and the training data. */
export interface RunShape {
  readonly sizes: readonly number[];
  readonly dtype: DType;
  readonly data: Dataset;
  /** The network's activations and cost (default: network.py's sigmoid and quadratic cost), which the neuron split needs. */
  readonly layers?: Pick<NetworkSpec, "activation" | "outputActivation" | "cost">;
}

/**
 * The thread count a run's options come to, and why: a pool's own count, the count given, or for
 * `"auto"` (the default) the cost model's choice for this network, batch and kernel on this
 * machine (auto-threads.ts). Unchecked: planRun refuses a count that is no good.
 */
export function threadChoice(options: Pick<TrainOptions, "threads" | "pool" | "kernel" | "miniBatchSize" | "parallelism" | "dropout">, shape: RunShape): ThreadChoice {
  const threads = options.threads ?? "auto";
  const kernel = kernelChoice(options.kernel, shape.dtype, threads, options.parallelism);
  const asked = options.parallelism ?? "auto";
  const layers = shape.layers ?? networkPyLayers;
  const work = (): Workload => ({
    sizes: shape.sizes, miniBatchSize: options.miniBatchSize, kernel, dtype: shape.dtype, inputDensity: inputDensity(shape.data),
    // the cost model's neuron split is the wasm kernel's (measured); the TypeScript kernel's runs when asked for
    neuronSplit: asked !== "examples" && kernel === "wasm" && neuronSplitRuns(shape.sizes, kernel, layers, options.miniBatchSize, options.dropout, shape.dtype),
  });
  // a count given (or the pool's): shared as asked, or as the model predicts is faster on that many
  const fixed = (count: number, reason: string): ThreadChoice => ({
    threads: count, reason, parallelism: asked !== "auto" ? asked : count > 0 ? chooseParallelism(work(), count) : "examples",
  });
  if (threads !== "auto") return fixed(threads, `${threadsText(threads)}, as asked`);
  const pool = options.pool;
  if (pool instanceof TrainingPool) return fixed(pool.threads, `${threadsText(pool.threads)}: the pool's`);
  const choice = chooseThreads(work());
  // the count the model chose for its own strategy; one asked for runs on it all the same
  return asked === "auto" || asked === choice.parallelism ? choice : { ...choice, parallelism: asked };
}

/**
 * The kernel a run's `kernel` option comes to: the one given, or for "auto" the wasm kernel of the
 * network's dtype on worker threads — but the TypeScript kernel in process (threads 0), and for a
 * float64 network split by neurons, which only the TypeScript kernel's split does for float64 (with
 * the same bits as the float64 wasm kernel's example split).
 */
export function kernelChoice(kernel: TrainOptions["kernel"], dtype: DType, threads: number | "auto", parallelism: TrainOptions["parallelism"]): KernelName {
  if (kernel === "js" || kernel === "wasm") return kernel;
  return threads === 0 || (dtype === "float64" && parallelism === "neurons") ? "js" : "wasm";
}

/** A network's activations and cost, as the neuron split needs to know them. */
type Layers = Pick<NetworkSpec, "activation" | "outputActivation" | "cost">;

/** network.py's: what a shape that names no layers has. */
const networkPyLayers: Layers = { activation: "sigmoid", outputActivation: "sigmoid", cost: "quadratic" };

/**
 * Why the neuron split cannot run a network of these sizes and layers on this kernel and batch (with
 * this dropout rate), or undefined when it can.
 */
export function neuronSplitRefusal(sizes: readonly number[], kernel: KernelName, layers: Layers, miniBatchSize: number, dropout = 0, dtype: DType = "float32"): string | undefined {
  const output = layers.outputActivation ?? layers.activation;
  if (sizes.length !== 3) return `parallelism neurons takes networks of one hidden layer, this one is ${sizes.join("-")}`;
  if (kernel === "wasm" && dtype !== "float32") return `parallelism neurons on the wasm kernel takes float32 networks; kernel "js" splits a ${dtype} network by neurons (with the wasm kernel's bits)`;
  // the TypeScript kernel's split takes any layers and cost; the wasm kernel's runs the output layer and BP1 in wasm
  if (kernel === "wasm" && (layers.activation !== "sigmoid" || output !== "sigmoid" || layers.cost !== "quadratic")) {
    return `parallelism neurons on the wasm kernel takes network.py's sigmoid layers and quadratic cost, this network has ${layers.activation} / ${output} layers and the ${layers.cost} cost (kernel "js" takes them)`;
  }
  if (miniBatchSize > NEURON_MAX_BATCH) return `parallelism neurons takes mini-batches of at most ${NEURON_MAX_BATCH}, got ${miniBatchSize}`;
  if (dropout > 0) return `parallelism neurons does not take dropout (its kernels have no masks): use parallelism examples, or leave it out`;
  return undefined;
}

/** Whether the neuron split can run a network of these sizes and layers on this kernel and batch (with this dropout rate). */
export function neuronSplitRuns(sizes: readonly number[], kernel: KernelName, layers: Layers, miniBatchSize: number, dropout = 0, dtype: DType = "float32"): boolean {
  return neuronSplitRefusal(sizes, kernel, layers, miniBatchSize, dropout, dtype) === undefined;
}

/** "in process" (threads 0), "1 thread", "2 threads". */
function threadsText(threads: number): string {
  return threads === 0 ? "in process" : `${threads} thread${threads === 1 ? "" : "s"}`;
}

/** Validates options (before any thread starts) and fills in defaults; `shape` decides what `threads: "auto"` comes to. */
export function planRun(options: TrainOptions, shape: RunShape): RunPlan {
  const dtype = shape.dtype;
  check(options != null && typeof options === "object", "train options must be an object");
  checkKnownKeys("train option", options, trainOptionKeys);
  checkInteger("epochs", options.epochs);
  checkInteger("miniBatchSize", options.miniBatchSize);
  checkPositive("eta", options.eta);
  const lambda = options.lambda ?? 0;
  checkLambda(lambda);
  const momentum = options.momentum ?? 0;
  checkMomentum(momentum);
  const dropout = options.dropout ?? 0;
  checkDropout(dropout);
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
  const { etaSchedule, earlyStopping } = options;
  if (etaSchedule !== undefined) checkEtaSchedule(etaSchedule);
  if (earlyStopping !== undefined) checkEarlyStopping(earlyStopping);
  const watched = watchedAccuracy(options);
  const flags = options.monitor ?? [];
  check(Array.isArray(flags), `monitor must be a list such as ["training-accuracy", "test-cost"], got ${show(flags)}`);
  for (const flag of flags) checkOneOf("monitor", flag, monitorFlags);
  check(!flags.includes("test-cost") || options.testData !== undefined, "monitor test-cost needs testData");
  check(!flags.includes("validation-cost") || options.validationData !== undefined, "monitor validation-cost needs validationData");
  checkOneOf("parallelism", options.parallelism ?? "auto", ["auto", "examples", "neurons"]);
  const choice = threadChoice({ ...options, dropout }, shape);
  check(kernel !== "wasm" || threads !== 0, "kernel wasm runs on worker threads; threads 0 is the in-process TypeScript path");
  // threads 0 runs the TypeScript kernel whatever the dtype: record that, so a checkpoint says what really ran
  const chosen = kernelChoice(kernel, dtype, threads, options.parallelism);
  const parallelism = choice.parallelism;
  if (options.parallelism === "neurons") {
    check(choice.threads !== 0, "parallelism neurons runs on worker threads; threads 0 is the in-process path");
    const refusal = neuronSplitRefusal(shape.sizes, chosen, shape.layers ?? networkPyLayers, options.miniBatchSize, dropout, dtype);
    check(refusal === undefined, refusal ?? "");
  }
  return {
    kernel: chosen,
    epochs: options.epochs,
    miniBatchSize: options.miniBatchSize,
    eta: options.eta,
    lambda,
    momentum,
    dropout,
    seed,
    shuffle,
    threads: choice.threads,
    threadsReason: choice.reason,
    parallelism,
    etaSchedule,
    earlyStopping,
    watched,
    monitor: [...new Set(flags)],
  };
}

/**
 * The accuracy early stopping and a plateau schedule watch: earlyStopping.monitor, else the
 * validation data when given, else the test data; refused when that data is missing.
 */
function watchedAccuracy(options: Pick<TrainOptions, "etaSchedule" | "earlyStopping" | "testData" | "validationData">): Monitor | undefined {
  const watches = options.earlyStopping !== undefined || options.etaSchedule?.kind === "plateau";
  if (!watches) return undefined;
  const monitor = options.earlyStopping?.monitor ?? (options.validationData !== undefined ? "validation" : "test");
  const what = options.earlyStopping !== undefined ? "earlyStopping" : "a plateau etaSchedule";
  check(monitor !== "validation" || options.validationData !== undefined, `${what} monitors the validation accuracy: give validationData`);
  check(monitor !== "test" || options.testData !== undefined, `${what} needs an accuracy to watch: give validationData or testData`);
  return monitor;
}

/**
 * {@link planRun} for a run resumed from `resume`: options left out are the checkpoint's, and one
 * that would change the weights (batch, η, λ, μ, dropout, shuffle, seed, schedule, and a float32
 * network's kernel) must equal the checkpoint's. A float64 run may resume on either kernel, in
 * process or on threads: they give the same bits.
 */
export function planResumedRun(options: TrainOptions | ResumeTrainOptions, resume: Checkpoint, shape: RunShape): RunPlan {
  const o = resume.options;
  const threads = options.threads ?? o.threads;
  const float64 = shape.dtype === "float64";
  // float64: "auto" picks again (both kernels have the same bits); float32: the checkpoint's kernel
  const kernel = options.kernel === undefined || options.kernel === "auto" ? (float64 ? "auto" : o.kernel) : options.kernel;
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
      lambda: options.lambda ?? o.lambda ?? 0,
      momentum: options.momentum ?? o.momentum ?? 0,
      dropout: options.dropout ?? o.dropout ?? 0,
      shuffle: options.shuffle ?? o.shuffle,
      seed: options.seed ?? resume.seed,
      threads,
      kernel,
      ...(o.etaSchedule !== undefined && options.etaSchedule === undefined && { etaSchedule: o.etaSchedule }),
      ...(o.earlyStopping !== undefined && options.earlyStopping === undefined && { earlyStopping: o.earlyStopping }),
    },
    shape,
  );
  const recorded = {
    miniBatchSize: o.miniBatchSize, eta: o.eta, lambda: o.lambda ?? 0, momentum: o.momentum ?? 0, dropout: o.dropout ?? 0, shuffle: o.shuffle, seed: resume.seed,
    kernel: float64 ? plan.kernel : o.kernel,
    etaSchedule: o.etaSchedule, earlyStopping: o.earlyStopping,
  };
  for (const key of Object.keys(recorded) as (keyof typeof recorded)[]) {
    check(
      same(plan[key], recorded[key]),
      `${key} ${show(plan[key])} is not the checkpoint's ${show(recorded[key])}: a resumed run keeps what decides its weights (leave ${key} out to use the checkpoint's)`,
    );
  }
  // left out, threads are the count the checkpoint's run used (any count gives the same bits)
  if (options.threads === undefined && options.pool === undefined) return { ...plan, threadsReason: `${threadsText(plan.threads)}, as the checkpoint's run` };
  return plan;
}

/** Equal values, or equal plain objects of values (a schedule read from a file is another object). */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  const keys = (x: object): string[] => Object.keys(x).filter((k) => (x as Record<string, unknown>)[k] !== undefined).sort();
  const ka = keys(a);
  return ka.join() === keys(b).join() && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
