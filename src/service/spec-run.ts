import type { Dataset } from "../core/dataset.js";
import { Network } from "../core/network.js";
import type { TrainOptions } from "../train/options.js";
import type { PreparedSpec } from "./spec.js";

/**
 * The one place a prepared job spec becomes a network and train() options, so the background
 * trainer, `shoal worker` and `shoal sweep` train a spec identically: with the same seed and
 * thread count their weights are bit-identical.
 */
export function networkOfSpec(spec: PreparedSpec): Network {
  const { layers, seed, activation, outputActivation, cost, init, dtype } = spec;
  return Network.create(layers, { seed, activation, outputActivation, cost, init, dtype });
}

/** train() options for a prepared spec; `run` adds the caller's signal and callbacks, and a thread count for specs that name none. */
export function trainOptionsOfSpec(
  spec: PreparedSpec,
  test: Dataset | undefined,
  run: Pick<TrainOptions, "signal" | "onProgress" | "onEpoch"> & { threads?: TrainOptions["threads"] },
): TrainOptions {
  return {
    epochs: spec.epochs,
    miniBatchSize: spec.miniBatchSize,
    eta: spec.eta,
    seed: spec.seed,
    shuffle: spec.shuffle,
    threads: spec.threads ?? run.threads,
    testData: spec.evaluate === false ? undefined : test,
    signal: run.signal,
    testFault: spec.testFault,
    onProgress: run.onProgress,
    onEpoch: run.onEpoch,
  };
}
