import { markFailed, PeerFailedError } from "./barrier.js";
import { peerFailedResult, runEpochShare, workerContext, type EpochShareResult, type StepHook, type WorkerContext } from "./epoch-share.js";
import { runNeuronEpoch } from "./neuron-share.js";
import type { PoolTask } from "./pool.js";

/**
 * A pool thread's task handler. A thread serves run after run: each epoch task carries its run's
 * shared memory, which the thread maps on the run's first task and keeps until the run releases
 * it; then it runs its share of every mini-batch, met by the other workers at shared-memory
 * barriers (CONTRACT.md). `beforeStep` is the tests' seam (a fixture worker injects faults with
 * it); the real worker (workers/trainer.ts) passes none.
 */
export function poolTaskHandler(beforeStep?: StepHook): (message: PoolTask) => EpochShareResult | undefined {
  let current: { readonly runId: number; readonly context: WorkerContext } | undefined;
  return (message) => {
    if (message.kind === "release") {
      if (current?.runId === message.runId) current = undefined;
      return undefined;
    }
    if (current?.runId !== message.runId) {
      if (message.run === undefined) throw new Error(`a training thread got run ${message.runId}'s epoch ${message.task.epoch} without its first epoch`);
      current = { runId: message.runId, context: workerContext(message.run, beforeStep) };
    }
    const { context } = current;
    try {
      return context.run.parallelism === "neurons" ? runNeuronEpoch(context, message.task) : runEpochShare(context, message.task);
    } catch (error) {
      if (error instanceof PeerFailedError) return peerFailedResult(); // another thread's failure: it reports its own error
      markFailed(context.views.control); // release the other workers from the barrier
      throw error;
    }
  };
}
