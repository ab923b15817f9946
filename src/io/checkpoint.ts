import fsp from "node:fs/promises";
import { check, checkInteger, ModelFileError, show, ValidationError } from "../core/errors.js";
import { Network } from "../core/network.js";
import { checkLambda, checkMomentum } from "../core/sgd.js";
import { checkDropout } from "../core/dropout.js";
import { writeFileAtomic } from "./atomic-write.js";
import { parseModel, toModelJson, type ModelJson } from "./model-format.js";
import { checkEarlyStopping, checkEtaSchedule, checkScheduleState, type EarlyStopping, type EtaSchedule, type ScheduleState } from "../core/schedule.js";

/**
 * Everything needed to continue a training run exactly where it stopped: the parameters after
 * `epoch` completed epochs, the shuffle's RNG state and example order, and the run's options.
 * Resuming gives bit-identical weights to an uninterrupted run when both use the same kernel
 * (the thread count itself does not matter: each parameter's sum is made in example order).
 */
export interface Checkpoint {
  readonly network: Network;
  /** Epochs completed. */
  readonly epoch: number;
  readonly seed: number;
  /** The shuffle RNG's state after epoch `epoch`. */
  readonly rngState: readonly number[];
  /** The example order after epoch `epoch` (the next epoch shuffles this order further). */
  readonly order: Int32Array;
  readonly options: CheckpointOptions;
  /**
   * Free-form JSON the run attached (TrainOptions.checkpoint.metadata), stored and returned as is:
   * the CLI keeps its data source and output files here, so `--resume` alone continues the run.
   */
  readonly metadata?: Record<string, unknown>;
  /** With an etaSchedule or earlyStopping: where they stood after epoch `epoch` (η of the next epoch, the best accuracy …). */
  readonly schedule?: ScheduleState;
  /** With earlyStopping.restoreBest: the parameters of the best epoch so far (schedule.bestEpoch). */
  readonly bestParams?: Network["params"];
  /** With momentum: the velocities after epoch `epoch`, one per parameter in the network's layout. */
  readonly velocities?: Network["params"];
}

/** The training options a checkpoint records (and a resumed run reuses). */
export interface CheckpointOptions {
  readonly epochs: number;
  readonly miniBatchSize: number;
  readonly eta: number;
  readonly shuffle: boolean;
  readonly threads: number;
  /** The kernel the run computed with: "js" for every threads-0 run (the in-process path is TypeScript). */
  readonly kernel: "js" | "wasm";
  /** L2's λ (absent: 0). */
  readonly lambda?: number;
  /** Momentum's μ (absent: 0). */
  readonly momentum?: number;
  /** Dropout's rate p (absent: 0). */
  readonly dropout?: number;
  readonly etaSchedule?: EtaSchedule;
  readonly earlyStopping?: EarlyStopping;
}

/**
 * The file. Version 2 added `metadata`, and its model records its `init`; a version 1 file is
 * read as what it was: a network from N(0,1) weights (shoal's default then), and a threads-0 run
 * (which it recorded as "wasm" for float32) on the TypeScript kernel. Version 3 added the
 * options `lambda`, `etaSchedule` and `earlyStopping`, the `schedule` state and the `best` model
 * (a version 1 or 2 file is a run without them). Version 4 added the option `momentum` and the
 * `velocities` (as a model of the network's shape; a file of an earlier version is a run without
 * momentum), and the option `dropout` (absent: a run without dropout; its masks come from the
 * seed and the epoch, so nothing else is stored).
 */
interface CheckpointJson {
  format: "shoal-checkpoint";
  version: 1 | 2 | 3 | typeof VERSION;
  epoch: number;
  seed: number;
  rngState: number[];
  options: CheckpointOptions;
  order: number[];
  metadata?: Record<string, unknown>;
  schedule?: ScheduleState;
  best?: ModelJson;
  velocities?: ModelJson;
  model: ModelJson;
}

const VERSION = 4;

/** Writes a checkpoint atomically (temp file + rename): the file is always the old or the new one. */
export async function saveCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const json: CheckpointJson = {
    format: "shoal-checkpoint",
    version: VERSION,
    epoch: checkpoint.epoch,
    seed: checkpoint.seed,
    rngState: [...checkpoint.rngState],
    options: checkpoint.options,
    order: Array.from(checkpoint.order),
    ...(checkpoint.metadata !== undefined && { metadata: checkpoint.metadata }),
    ...(checkpoint.schedule !== undefined && { schedule: checkpoint.schedule }),
    ...(checkpoint.bestParams !== undefined && { best: toModelJson(new Network(checkpoint.network.spec, checkpoint.bestParams)) }),
    ...(checkpoint.velocities !== undefined && { velocities: toModelJson(new Network(checkpoint.network.spec, checkpoint.velocities)) }),
    model: toModelJson(checkpoint.network),
  };
  try {
    await writeFileAtomic(path, JSON.stringify(json) + "\n");
  } catch (error) {
    throw new ModelFileError(`cannot write checkpoint ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads and validates a checkpoint written by {@link saveCheckpoint}. */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  let value: unknown;
  try {
    value = JSON.parse(await fsp.readFile(path, "utf8"));
  } catch (error) {
    throw new ModelFileError(`cannot read checkpoint ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return parseCheckpoint(value, path);
  } catch (error) {
    if (error instanceof ValidationError) throw new ModelFileError(`${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

function parseCheckpoint(value: unknown, path: string): Checkpoint {
  const json = value as Partial<CheckpointJson> | null;
  check(json !== null && typeof json === "object" && json.format === "shoal-checkpoint", "not a shoal checkpoint (format is not \"shoal-checkpoint\")");
  check(json.version === 1 || json.version === 2 || json.version === 3 || json.version === VERSION, `checkpoint version ${show(json.version)} is not supported (1 to ${VERSION})`);
  checkInteger("epoch", json.epoch, 0);
  checkInteger("seed", json.seed, 0);
  check(
    Array.isArray(json.rngState) && json.rngState.length === 4 && json.rngState.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32),
    "rngState must be four 32-bit unsigned integers",
  );
  const o = json.options as Partial<CheckpointOptions> | undefined;
  check(o != null && typeof o === "object", `options must be an object, got ${show(o)}`);
  checkInteger("options.epochs", o.epochs);
  checkInteger("options.miniBatchSize", o.miniBatchSize);
  check(typeof o.eta === "number" && o.eta > 0, `options.eta must be a positive number, got ${show(o.eta)}`);
  check(typeof o.shuffle === "boolean", "options.shuffle must be a boolean");
  checkInteger("options.threads", o.threads, 0);
  check(o.kernel === "js" || o.kernel === "wasm", `options.kernel must be js or wasm, got ${show(o.kernel)}`);
  if (o.lambda !== undefined) checkLambda(o.lambda, "options.lambda");
  if (o.momentum !== undefined) checkMomentum(o.momentum);
  const momentum = o.momentum ?? 0;
  if (o.dropout !== undefined) checkDropout(o.dropout);
  check((momentum > 0) === (json.velocities !== undefined), momentum > 0 ? "a checkpoint of a run with momentum must hold its velocities" : "velocities without options.momentum");
  if (o.etaSchedule !== undefined) checkEtaSchedule(o.etaSchedule);
  if (o.earlyStopping !== undefined) checkEarlyStopping(o.earlyStopping);
  if (json.schedule !== undefined) checkScheduleState(json.schedule);
  const order = json.order;
  check(Array.isArray(order), "order must be an array");
  const seen = new Uint8Array(order.length);
  for (const i of order) {
    check(Number.isInteger(i) && i >= 0 && i < order.length && seen[i] === 0, "order must be a permutation of the example indices");
    seen[i] = 1;
  }
  const metadata: unknown = json.metadata;
  check(
    metadata === undefined || (typeof metadata === "object" && metadata !== null && !Array.isArray(metadata)),
    `metadata must be an object, got ${show(metadata)}`,
  );
  const parsed = parseModel(json.model, `${path} (model)`).network;
  const network = json.version === 1 && parsed.spec.init === undefined ? new Network({ ...parsed.spec, init: "gaussian" }, parsed.params) : parsed;
  const kernel = o.threads === 0 ? "js" : o.kernel;
  let bestParams: Network["params"] | undefined;
  if (json.best !== undefined) {
    const best = parseModel(json.best, `${path} (best model)`).network;
    check(best.sizes.join() === network.sizes.join() && best.spec.dtype === network.spec.dtype, "the best model is not of the checkpoint's network");
    bestParams = best.params;
  }
  let velocities: Network["params"] | undefined;
  if (json.velocities !== undefined) {
    const v = parseModel(json.velocities, `${path} (velocities)`).network;
    check(v.sizes.join() === network.sizes.join() && v.spec.dtype === network.spec.dtype, "the velocities are not of the checkpoint's network");
    velocities = v.params;
  }
  return {
    network,
    epoch: json.epoch,
    seed: json.seed,
    rngState: json.rngState,
    order: Int32Array.from(order),
    options: {
      epochs: o.epochs, miniBatchSize: o.miniBatchSize, eta: o.eta, shuffle: o.shuffle, threads: o.threads, kernel,
      ...(o.lambda !== undefined && o.lambda > 0 && { lambda: o.lambda }),
      ...(momentum > 0 && { momentum }),
      ...(o.dropout !== undefined && o.dropout > 0 && { dropout: o.dropout }),
      ...(o.etaSchedule !== undefined && { etaSchedule: o.etaSchedule }),
      ...(o.earlyStopping !== undefined && { earlyStopping: o.earlyStopping }),
    },
    ...(metadata !== undefined && { metadata: metadata as Record<string, unknown> }),
    ...(json.schedule !== undefined && { schedule: json.schedule }),
    ...(bestParams !== undefined && { bestParams }),
    ...(velocities !== undefined && { velocities }),
  };
}
