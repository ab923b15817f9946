import type { Dataset } from "../core/dataset.js";
import { TrainingThreadError } from "../core/errors.js";
import { weightDecay } from "../core/sgd.js";
import { allocateParams, type Network } from "../core/network.js";
import { beginEpoch, markFailed, requestAbort, stepsDone } from "../parallel/barrier.js";
import type { EpochShareResult, StepPhases } from "../parallel/epoch-share.js";
import { TrainingPool } from "../parallel/pool.js";
import { createSharedRun, mapRun, readParams, writeParams } from "../parallel/shared-state.js";
import { PROGRESS_INTERVAL_MS, type Engine, type EpochOutcome } from "./engine.js";
import type { RunPlan } from "./options.js";

/**
 * The parallel path: `plan.threads` workers over shared memory, the threads of `pool` (started
 * once, warm from its last run, whose shared memory this run reuses when it can). Per epoch the coordinator writes the example order
 * and starts one long task per worker; the workers then run every mini-batch among themselves
 * (epoch-share.ts). The coordinator only awaits promises: it never blocks its thread, so a server's
 * event loop keeps running.
 */
export async function parallelEngine(
  net: Network,
  train: Dataset,
  test: Dataset | undefined,
  plan: RunPlan,
  signal: AbortSignal | undefined,
  pool: TrainingPool,
): Promise<Engine> {
  const { threads, miniBatchSize, kernel, parallelism } = plan;
  const privateWeights = pool.variant.privateWeights ?? false;
  if (privateWeights && (kernel !== "wasm" || parallelism !== "examples")) throw new Error("privateWeights is for the example split on the wasm kernel");
  const lease = await pool.lease();
  let run;
  try {
    run = createSharedRun(net.spec, net.params, train, test, {
      threads, miniBatchSize, kernel, privateWeights, parallelism, momentum: plan.momentum,
      ...(plan.dropout > 0 && { dropout: { rate: plan.dropout, seed: plan.seed } }),
    }, lease.held);
  } catch (error) {
    await lease.release();
    throw error;
  }
  lease.hold(run);
  const views = mapRun(run);
  const onAbort = (): void => requestAbort(views.control);
  signal?.addEventListener("abort", onAbort, { once: true });
  let epoch = 0;
  let closed: Promise<void> | undefined;

  return {
    async runEpoch(order, trainingEpoch, eta, progress, stopBefore = 0x7fffffff): Promise<EpochOutcome> {
      views.order.set(order);
      beginEpoch(views.control, stopBefore);
      epoch++;
      const tasks = Array.from({ length: threads }, (_, worker) =>
        lease.runEpoch(run, { worker, epoch, trainingEpoch, eta, decay: weightDecay(eta, plan.lambda, train.count) }).catch((error: unknown) => {
          markFailed(views.control); // a dead or failed worker must not leave the others at a barrier
          throw new TrainingThreadError(worker, error);
        }),
      );
      const timer = progress && setInterval(() => {
        progress(Math.min(stepsDone(views.control) * miniBatchSize, order.length));
      }, PROGRESS_INTERVAL_MS);
      const settled = await Promise.allSettled(tasks);
      clearInterval(timer);
      // The thread that failed rejects; the ones it stopped resolve as "peer-failed". The network
      // keeps the parameters of the last completed epoch: mid-step values are not copied.
      const failure = settled.find((s) => s.status === "rejected");
      if (failure) throw failure.reason as TrainingThreadError;
      const results = settled.map((s) => (s as PromiseFulfilledResult<EpochShareResult>).value);
      const stopped = results.findIndex((r) => r.end === "peer-failed");
      if (stopped >= 0) throw new TrainingThreadError(stopped, new Error("a training thread failed without reporting an error"));
      const end = results[0]!.end;
      readParams(run, views, net.architecture.layout, net.params);
      return {
        costSum: results.reduce((sum, r) => sum + r.costSum, 0),
        examples: results.reduce((sum, r) => sum + r.examples, 0),
        trainSeconds: Math.max(...results.map((r) => r.trainSeconds)),
        correct: test && end === "done" ? results.reduce((sum, r) => sum + r.correct, 0) : undefined,
        aborted: end === "aborted",
        divergedAt: results[0]!.divergedAt,
        divergedAfterUpdate: results[0]!.divergedAfterUpdate,
        phases: averagePhases(results.map((r) => r.phases)),
      };
    },
    load(params, velocities) {
      writeParams(run, views, net.architecture.layout, params);
      if (run.momentum > 0 && velocities) writeParams(run, views, net.architecture.layout, velocities, "velocities");
    },
    velocities() {
      if (run.momentum === 0) return undefined;
      const velocities = allocateParams(net.spec.dtype, net.params.length);
      readParams(run, views, net.architecture.layout, velocities, "velocities");
      return velocities;
    },
    close() {
      signal?.removeEventListener("abort", onAbort);
      closed ??= lease.release();
      return closed;
    },
  };
}

function averagePhases(phases: StepPhases[]): StepPhases {
  const mean = (key: keyof StepPhases): number => phases.reduce((sum, p) => sum + p[key], 0) / phases.length;
  return { compute: mean("compute"), synchronisation: mean("synchronisation"), update: mean("update") };
}
