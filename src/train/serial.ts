import { setImmediate as nextTurn } from "node:timers/promises";
import { backprop, createScratch } from "../core/backprop.js";
import { fillTarget, type Dataset } from "../core/dataset.js";
import { Dropout } from "../core/dropout.js";
import { countCorrect } from "../core/evaluate.js";
import type { Network } from "../core/network.js";
import { descend, weightDecay } from "../core/sgd.js";
import { PROGRESS_INTERVAL_MS, type Engine, type EpochOutcome } from "./engine.js";
import type { RunPlan } from "./options.js";

// The in-process loop gives the event loop a turn this often, so an AbortSignal fired from a timer
// or a request handler is seen between mini-batches.
const YIELD_EVERY_MS = 20;

/**
 * The in-process reference path (threads: 0): network.py's update_mini_batch, one example at a
 * time on the calling thread. The parallel path must agree with it.
 */
export function serialEngine(net: Network, train: Dataset, test: Dataset | undefined, plan: RunPlan, signal?: AbortSignal): Engine {
  const { architecture: arch, params } = net;
  const gradient = params instanceof Float32Array ? new Float32Array(params.length) : new Float64Array(params.length);
  const momentum = plan.momentum > 0 ? { velocity: gradient.slice(), mu: plan.momentum } : undefined;
  const scratch = createScratch(net.sizes);
  const dropout = plan.dropout > 0 ? new Dropout(net.sizes, { rate: plan.dropout, seed: plan.seed }) : undefined;
  const { miniBatchSize } = plan;
  // kept across epochs, so many short epochs still give the event loop a turn every YIELD_EVERY_MS
  let lastTurn = performance.now();
  /** The SGD step on every layer: its weights with L2's decay, its biases without (with momentum, both through their velocities); every range even after a bad one. */
  const { weightOffsets, biasOffsets, sizes } = arch.layout;
  const step = (scale: number, decay: number): boolean => {
    let finite = true;
    for (let l = 0; l + 1 < sizes.length; l++) {
      finite = descend(params, gradient, weightOffsets[l]!, biasOffsets[l]!, scale, decay, momentum) && finite;
      finite = descend(params, gradient, biasOffsets[l]!, biasOffsets[l]! + sizes[l + 1]!, scale, 1, momentum) && finite;
    }
    return finite;
  };

  return {
    async runEpoch(order, epoch, eta, progress, stopBefore = Infinity): Promise<EpochOutcome> {
      const started = performance.now();
      let lastProgress = started;
      let costSum = 0;
      let examples = 0;
      for (let start = 0; start < order.length && start / miniBatchSize < stopBefore; start += miniBatchSize) {
        const end = Math.min(start + miniBatchSize, order.length);
        let batchCost = 0;
        dropout?.draw(epoch, start / miniBatchSize);
        for (let p = start; p < end; p++) {
          const i = order[p]!;
          fillTarget(train, i, scratch.y);
          batchCost += backprop(arch, params, train.inputs, i * train.inputSize, gradient, scratch, dropout);
        }
        costSum += batchCost;
        if (!Number.isFinite(batchCost)) {
          // divergence guard: do not apply a step computed from NaN or infinite values
          const trainSeconds = (performance.now() - started) / 1000;
          return { costSum, examples, trainSeconds, correct: undefined, aborted: false, divergedAt: start / miniBatchSize, divergedAfterUpdate: false };
        }
        if (!step(eta / (end - start), weightDecay(eta, plan.lambda, train.count))) { // a short last batch steps with η/len
          const trainSeconds = (performance.now() - started) / 1000;
          return { costSum, examples, trainSeconds, correct: undefined, aborted: false, divergedAt: start / miniBatchSize, divergedAfterUpdate: true };
        }
        examples += end - start;

        if (performance.now() - lastTurn > YIELD_EVERY_MS) {
          if (progress && lastTurn - lastProgress >= PROGRESS_INTERVAL_MS) {
            progress(examples);
            lastProgress = lastTurn;
          }
          await nextTurn();
          lastTurn = performance.now();
        }
        if (signal?.aborted) {
          return { costSum, examples, trainSeconds: (performance.now() - started) / 1000, correct: undefined, aborted: true, divergedAt: -1, divergedAfterUpdate: false };
        }
      }
      const trainSeconds = (performance.now() - started) / 1000;
      const correct = test ? countCorrect(arch, params, test, 0, test.count, scratch) : undefined;
      return { costSum, examples, trainSeconds, correct, aborted: false, divergedAt: -1, divergedAfterUpdate: false };
    },
    load(values, velocities) {
      params.set(values);
      if (momentum && velocities) momentum.velocity.set(velocities);
    },
    velocities: () => momentum?.velocity.slice(),
    async close() {},
  };
}
