/**
 * Worker-thread entry of a training pool. A thread serves run after run: each epoch task carries
 * its run's shared memory, which the thread maps on the run's first task and keeps until the run
 * releases it; then it runs its share of every mini-batch, met by the other workers at
 * shared-memory barriers (src/parallel/CONTRACT.md).
 */
import { markFailed, PeerFailedError } from "../src/parallel/barrier.js";
import { peerFailed, runEpochShare, workerContext, type EpochShareResult, type WorkerContext } from "../src/parallel/epoch-share.js";
import type { PoolTask } from "../src/parallel/pool.js";

let current: { readonly runId: number; readonly context: WorkerContext } | undefined;

export default function handle(message: PoolTask): EpochShareResult | undefined {
  if (message.kind === "release") {
    if (current?.runId === message.runId) current = undefined;
    return undefined;
  }
  if (current?.runId !== message.runId) current = { runId: message.runId, context: workerContext(message.run) };
  const { context } = current;
  try {
    return runEpochShare(context, message.task);
  } catch (error) {
    if (error instanceof PeerFailedError) return peerFailed(); // another thread's failure: it reports its own error
    markFailed(context.views.control); // release the other workers from the barrier
    throw error;
  }
}
