import { dataMetadata } from "../io/model-metadata.js";
import type { Dataset } from "../core/dataset.js";
import { holdOut } from "../core/hold-out.js";
import { Network } from "../core/network.js";
import type { TrainOptions } from "../train/options.js";
import { AbortError } from "../core/errors.js";
import { loadJobData, type JobData } from "./data.js";
import { checkJobWork, type PreparedSpec } from "./spec.js";

/**
 * The one place a prepared job spec becomes a network and train() options, so the background
 * trainer, `shoal worker` and `shoal sweep` train a spec identically: with the same seed and
 * thread count their weights are bit-identical.
 */
export function networkOfSpec(spec: PreparedSpec): Network {
  const { layers, seed, activation, outputActivation, cost, init, dtype } = spec;
  return Network.create(layers, { seed, activation, outputActivation, cost, init, dtype });
}

/**
 * What a job trains, made ready: its data loaded (in its network's dtype) and its size checked
 * against `maxJobWork`, its network, and its {@link jobDatasets}. An abort while the data loads
 * throws AbortError.
 */
export async function jobRun(spec: PreparedSpec, maxJobWork: number | undefined, signal?: AbortSignal): Promise<{ data: JobData; network: Network; sets: ReturnType<typeof jobDatasets> }> {
  const data = await loadJobData(spec.data, spec.dtype);
  checkJobWork(spec.epochs, data.train.count, maxJobWork);
  if (signal?.aborted) throw new AbortError();
  return { data, network: networkOfSpec(spec), sets: jobDatasets(spec, data) };
}

/**
 * The datasets a job trains on: its training set, less the validation examples the spec holds out
 * (as `shoal train --validation` does: `validationSplit` random by the job's seed, or the last ones).
 */
export function jobDatasets(spec: PreparedSpec, data: Pick<JobData, "train" | "test">): { train: Dataset; test?: Dataset; validation?: Dataset } {
  if (spec.validation === undefined) return { train: data.train, ...(data.test && { test: data.test }) };
  const { train, validation } = holdOut(data.train, spec.validation, spec.validationSplit ?? "random", spec.seed);
  return { train, validation, ...(data.test && { test: data.test }) };
}

/** train() options for a prepared spec on its {@link jobDatasets}; `run` adds the caller's signal and callbacks, and a thread count for specs that name none. */
export function trainOptionsOfSpec(
  spec: PreparedSpec,
  sets: { readonly test?: Dataset; readonly validation?: Dataset },
  run: Pick<TrainOptions, "signal" | "onProgress" | "onEpoch"> & { threads?: TrainOptions["threads"] },
): TrainOptions {
  return {
    epochs: spec.epochs,
    miniBatchSize: spec.miniBatchSize,
    eta: spec.eta,
    ...(spec.lambda !== undefined && { lambda: spec.lambda }),
    ...(spec.momentum !== undefined && { momentum: spec.momentum }),
    ...(spec.dropout !== undefined && { dropout: spec.dropout }),
    seed: spec.seed,
    shuffle: spec.shuffle,
    threads: spec.threads ?? run.threads,
    testData: spec.evaluate === false ? undefined : sets.test,
    ...(sets.validation && { validationData: sets.validation }),
    ...(spec.parallelism !== undefined && { parallelism: spec.parallelism }),
    ...(spec.etaSchedule !== undefined && { etaSchedule: spec.etaSchedule }),
    ...(spec.monitor !== undefined && { monitor: spec.monitor }),
    ...(spec.earlyStopping !== undefined && { earlyStopping: spec.earlyStopping }),
    signal: run.signal,
    onProgress: run.onProgress,
    onEpoch: run.onEpoch,
  };
}

/**
 * What a job's model file says about its data, as `shoal train` writes it (the same builder), so
 * `shoal evaluate` and `shoal predict` on a model saved by a job trainer use the job's dataset and
 * class names. Paths are the ones the job record shows (relative to the trainer's data folder).
 */
export function modelMetadataOfSpec(spec: PreparedSpec, data: Pick<JobData, "classNames">): Record<string, unknown> {
  const ref = spec.summary.data;
  const source =
    "name" in ref ? ref.name
    : "idx" in ref ? ref.idx
    : "csv" in ref ? ref.csv
    : spec.summary.dataset;
  const csv = "csv" in ref ? { labelColumn: ref.labelColumn, scale: ref.scale, testData: ref.test, separator: ref.separator } : undefined;
  return dataMetadata({ data: source, ...(csv && { csv }), ...(data.classNames && { classNames: data.classNames }) });
}
