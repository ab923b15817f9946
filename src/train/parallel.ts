import type { Dataset } from "../core/dataset.js";
import { TrainingThreadError } from "../core/errors.js";
import type { Network } from "../core/network.js";
import { ABORT, BAD_UPDATE, CLAIM, DIVERGED, LIMIT, markFailed, PEER_FAILED, STEPS } from "../parallel/barrier.js";
import type { EpochShareResult, StepPhases } from "../parallel/epoch-share.js";
import { createPool } from "../parallel/pool.js";
import { createSharedRun, mapRun, readParams, writeParams, type TestFault } from "../parallel/shared-state.js";
import { PROGRESS_INTERVAL_MS, type Engine, type EpochOutcome } from "./engine.js";
import type { RunPlan } from "./options.js";

/**
 * The parallel path: a piscina pool of `plan.threads` workers over shared memory. Per epoch the
 * coordinator writes the example order and starts one long task per worker; the workers then run
 * every mini-batch among themselves (epoch-share.ts). The coordinator only awaits promises: it never
 * blocks its thread, so a server's event loop keeps running.
 */
export function parallelEngine(
  net: Network,
  train: Dataset,
  test: Dataset | undefined,
  plan: RunPlan,
  signal: AbortSignal | undefined,
  testFault: TestFault | undefined,
): Engine {
  const { threads, miniBatchSize, eta, kernel, privateWeights } = plan;
  const run = createSharedRun(net.spec, net.params, train, test, { threads, miniBatchSize, eta, testFault, kernel, privateWeights });
  const views = mapRun(run);
  const pool = createPool(run);
  const onAbort = (): void => void Atomics.store(views.control, ABORT, 1);
  signal?.addEventListener("abort", onAbort, { once: true });
  let epoch = 0;
  let closed: Promise<void> | undefined;

  return {
    async runEpoch(order, progress, stopBefore = 0x7fffffff): Promise<EpochOutcome> {
      views.order.set(order);
      Atomics.store(views.control, STEPS, 0);
      Atomics.store(views.control, DIVERGED, 0);
      Atomics.store(views.control, BAD_UPDATE, 0);
      Atomics.store(views.control, LIMIT, stopBefore);
      Atomics.store(views.control, CLAIM, 0);
      epoch++;
      const tasks = Array.from({ length: threads }, (_, worker) =>
        (pool.run({ worker, epoch }) as Promise<EpochShareResult>).catch((error: unknown) => {
          markFailed(views.control); // a dead or failed worker must not leave the others at a barrier
          throw new TrainingThreadError(worker, error);
        }),
      );
      const timer = progress && setInterval(() => {
        progress(Math.min(Atomics.load(views.control, STEPS) * miniBatchSize, order.length));
      }, PROGRESS_INTERVAL_MS);
      const settled = await Promise.allSettled(tasks);
      clearInterval(timer);
      const failures = settled.flatMap((s) => (s.status === "rejected" ? [s.reason as TrainingThreadError] : []));
      if (failures.length > 0) {
        // The network keeps the parameters of the last completed epoch: mid-step values are not copied.
        throw failures.find((f) => !f.message.endsWith(PEER_FAILED)) ?? failures[0];
      }
      const results = settled.map((s) => (s as PromiseFulfilledResult<EpochShareResult>).value);
      readParams(run, views, net.architecture.layout, net.params);
      return {
        costSum: results.reduce((sum, r) => sum + r.costSum, 0),
        examples: results.reduce((sum, r) => sum + r.examples, 0),
        trainSeconds: Math.max(...results.map((r) => r.trainSeconds)),
        correct: test && !results[0]!.stopped && results[0]!.divergedAt < 0 ? results.reduce((sum, r) => sum + r.correct, 0) : undefined,
        aborted: results[0]!.stopped,
        divergedAt: results[0]!.divergedAt,
        divergedAfterUpdate: results[0]!.divergedAfterUpdate,
        phases: averagePhases(results.map((r) => r.phases)),
      };
    },
    load(params) {
      writeParams(run, views, net.architecture.layout, params);
    },
    close() {
      signal?.removeEventListener("abort", onAbort);
      closed ??= pool.destroy();
      return closed;
    },
  };
}

function averagePhases(phases: StepPhases[]): StepPhases {
  const mean = (key: keyof StepPhases): number => phases.reduce((sum, p) => sum + p[key], 0) / phases.length;
  return { compute: mean("compute"), synchronisation: mean("synchronisation"), update: mean("update") };
}
