/**
 * Worker-thread entry of the training pool. It maps the run's shared buffers once (from piscina's
 * workerData) and then runs one task per epoch: its share of every mini-batch, met by the other
 * workers at shared-memory barriers (src/parallel/CONTRACT.md).
 */
import { workerData } from "node:worker_threads";
import { markFailed, PeerFailedError } from "../src/parallel/barrier.js";
import { peerFailed, runEpochShare, workerContext, type EpochShareResult, type EpochTask } from "../src/parallel/epoch-share.js";
import type { SharedRun } from "../src/parallel/shared-state.js";

const context = workerContext(workerData as SharedRun);

export default function runEpoch(task: EpochTask): EpochShareResult {
  try {
    return runEpochShare(context, task);
  } catch (error) {
    if (error instanceof PeerFailedError) return peerFailed(); // another thread's failure: it reports its own error
    markFailed(context.views.control); // release the other workers from the barrier
    throw error;
  }
}
