import { jobRun, modelMetadataOfSpec, trainOptionsOfSpec } from "../service/spec-run.js";
import type { Network } from "../core/network.js";
import { toModelJson, type ModelJson } from "../io/model-format.js";
import { prepareSpec, type JobSpec, type SpecLimits, defaultSpecLimits } from "../service/spec.js";
import type { EpochReport, Progress, TrainResult } from "../train/options.js";
import type { PoolSet } from "../train/pool-set.js";
import { train, trainOn } from "../train/train.js";

/** Options of {@link trainSpec}. */
export interface TrainSpecOptions {
  /** Threads for a spec that names none (a worker's `--threads`); default "auto". */
  threads?: number | "auto";
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  onEpoch?: (report: EpochReport) => void | Promise<void>;
  limits?: SpecLimits;
  /** Warm worker threads to train on (a worker keeps one set across its jobs); default: train()'s default pool. */
  pools?: PoolSet;
}

/** A trained job: the network, train()'s result, and the model file's JSON (metadata: `job`). */
export interface TrainedJob {
  network: Network;
  result: TrainResult;
  model: ModelJson;
}

/**
 * Trains one job spec here, exactly as the background trainer does: the same checks, the same data,
 * `Network.create` and `train` with the spec's seed (through src/service/spec-run.ts, shared with the background trainer). This is what a worker runs and what a sweep
 * without Redis runs, so a spec with a seed and a thread count gives bit-identical weights wherever
 * it is trained.
 */
export async function trainSpec(spec: JobSpec, options: TrainSpecOptions = {}, metadata: Record<string, unknown> = {}): Promise<TrainedJob> {
  const { spec: prepared } = prepareSpec(spec, options.limits ?? defaultSpecLimits);
  const limits = options.limits ?? defaultSpecLimits;
  const { data, network, sets } = await jobRun(prepared, limits.maxJobWork, options.signal);
  const trainOptions = trainOptionsOfSpec(prepared, sets, { signal: options.signal, onProgress: options.onProgress, onEpoch: options.onEpoch, threads: options.threads ?? "auto" });
  const result = await (options.pools ? trainOn(options.pools, network, sets.train, trainOptions) : train(network, sets.train, trainOptions));
  return { network, result, model: toModelJson(network, { ...modelMetadataOfSpec(prepared, data), ...metadata, spec: prepared.summary }) };
}
