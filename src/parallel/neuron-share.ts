import { share } from "../core/share.js";
import { abi } from "../core/wasm/abi.js";
import { instantiateKernel, kernelLayoutOf, type KernelExports } from "../core/wasm/wasm-kernel.js";
import { arrive, BAD_UPDATE, endStep, LIMIT, STOP } from "./barrier.js";
import type { EpochEnd, EpochShareResult, EpochTask, WorkerContext } from "./epoch-share.js";
import type { NeuronSplit } from "./neuron-split.js";
import { jsNeuronSplit } from "./neuron-split-js.js";
import type { NeuronPart, SharedRun } from "./shared-state.js";
import { stepKernel } from "./step-kernel.js";

/**
 * Worker k's part of one epoch of a neuron split (issue 17): the threads share each mini-batch by
 * the hidden layer's neurons, not by its examples. Thread k owns a block of hidden neurons — their
 * weights, as a block of the transposed layer, and biases — and its own copy of the output layer.
 * For each mini-batch of m examples:
 *   1. z¹ = w¹x + b¹ and a¹ = σ(z¹) of its neurons for every example, into the step's exchange rows;
 *   2. one barrier: every a¹ row is whole;
 *   3. for every example, from its own copy of the output layer: z², a², the cost, BP1's δ², and
 *      BP2's δ¹ of its own neurons — every thread does the same operations in the same order, so
 *      the copies of the output layer stay identical;
 *   4. BP3/BP4 and the SGD step on its block of layer 1 and on its copy of layer 2.
 * The exchange rows alternate with the step's parity: a thread that runs ahead into step s + 1
 * writes the other rows while a slower one still reads step s's. No weight crosses cores. Every
 * parameter's sum is made by the kernel functions the example split uses, over the same examples in
 * the same order, so the bits are those of the example split at any thread count.
 *
 * At the epoch's start each thread copies its block (and the output layer) out of the run's
 * parameters, which stay the coordinator's view; at its end, or wherever it stops, it writes them
 * back, and a last barrier makes them whole before the test set is evaluated.
 */
export function runNeuronEpoch(context: WorkerContext, task: EpochTask): EpochShareResult {
  const { run, views, beforeStep } = context;
  const k = task.worker;
  let splits = neuronSplits.get(context);
  if (!splits) neuronSplits.set(context, (splits = []));
  const split = (splits[k] ??= run.kernel === "wasm" ? neuronSplit(run, k) : jsNeuronSplit(run, context.views, k));
  const { control, order } = views;
  const { miniBatchSize, threads } = run;
  split.load();
  const started = performance.now();
  const tally = { costSum: 0, examples: 0, compute: 0, synchronisation: 0, update: 0 };
  let step = 0;
  const finish = (end: EpochEnd, divergedAt = -1, afterUpdate = false): EpochShareResult => {
    split.store();
    const t = performance.now();
    arrive(control, threads); // every block is back in the run's parameters
    tally.synchronisation += performance.now() - t;
    // An update that made a weight NaN or infinite in another thread's block is seen here, by all.
    const bad = Atomics.load(control, BAD_UPDATE);
    if (end !== "diverged" && bad !== 0) [end, divergedAt, afterUpdate] = ["diverged", bad - 1, true];
    const trainSeconds = (performance.now() - started) / 1000;
    const part = share(run.test?.count ?? 0, k, threads);
    const correct = end === "done" && run.test ? (context.kernels[k] ??= stepKernel(run, views, k)).countCorrect(part.from, part.to) : 0;
    return {
      costSum: tally.costSum, examples: tally.examples, trainSeconds, correct, end, divergedAt, divergedAfterUpdate: afterUpdate,
      phases: { compute: tally.compute / 1000, synchronisation: tally.synchronisation / 1000, update: tally.update / 1000 },
    };
  };
  const limit = Atomics.load(control, LIMIT);
  for (let start = 0; start < order.length; start += miniBatchSize, step++) {
    if (step >= limit) return finish("limit");
    beforeStep?.(k, step, task.epoch);
    const m = Math.min(miniBatchSize, order.length - start);
    const exchange = split.exchange[step & 1]!;
    const t0 = performance.now();
    split.hidden(start, m, exchange);
    const t1 = performance.now();
    arrive(control, threads, endStep); // every thread's a¹ is in the rows; STOP is set for all alike
    const t2 = performance.now();
    // A bad update of an earlier step: every thread's updates of those steps are done by now, so all
    // see it here. One of this very step, by a thread that ran ahead, is seen at the next barrier.
    const bad = Atomics.load(control, BAD_UPDATE);
    if (bad !== 0 && bad <= step) return finish("diverged", bad - 1, true);
    const cost = split.output(start, m, exchange);
    const t3 = performance.now();
    tally.compute += t1 - t0 + (t3 - t2);
    tally.synchronisation += t2 - t1;
    // every thread computed every example's cost: all agree to stop here, before the update
    if (!Number.isFinite(cost)) {
      if (k === 0) tally.costSum += cost;
      return finish("diverged", step);
    }
    if (k === 0) {
      tally.costSum += cost;
      tally.examples += m;
    }
    // the 1-based step whose update went bad (the first, if several threads' did)
    if (!split.update(m, task.eta / m, task.decay, exchange)) Atomics.compareExchange(control, BAD_UPDATE, 0, step + 1);
    tally.update += performance.now() - t3;
    if (Atomics.load(control, STOP) !== 0) {
      step++;
      return finish("aborted");
    }
  }
  return finish("done");
}

/** Each worker context's splits, one per worker index, made on first use (a context lives for one run). */
const neuronSplits = new WeakMap<WorkerContext, NeuronSplit[]>();

/**
 * Thread k's part of the neuron split on the WebAssembly kernel: its block of the hidden layer
 * (copied out of the run's parameters at the epoch's start, written back at its end) and its own
 * copy of the output layer, in regions of the shared memory (planNeurons).
 */
function neuronSplit(run: SharedRun, k: number): NeuronSplit {
  const regions = run.neurons;
  if (!regions || typeof run.train.inputs === "number") throw new Error("a neuron split needs its regions and the sparse training inputs of a wasm run");
  const wasm: KernelExports = instantiateKernel(run.memory);
  const p: NeuronPart = regions.parts[k]!;
  const { stride } = regions;
  const buffer = run.memory.buffer;
  const int32 = new Int32Array(buffer);
  const f32 = new Float32Array(buffer);
  const [n0, n1, n2] = run.spec.sizes as [number, number, number];
  const kernel = kernelLayoutOf(run.spec.sizes);
  const [np1, np2] = kernel.padded as [number, number];
  // Its block and copy of layer 2 come from (and go back to) the run's parameters, and with momentum
  // their velocities from the run's velocities, into the copies one gap further on.
  const copies = [{ from: run.regions.params / 4, gap: 0 }];
  if (run.momentum > 0) copies.push({ from: run.regions.velocities / 4, gap: p.vgap / 4 });
  const layer2Floats = kernel.paramCount - kernel.weightOffsets[1]!;
  const { offsets, indices, values } = run.train.inputs;
  const order = new Int32Array(buffer, run.regions.order, run.train.count);
  const targets = run.train.targets;
  const labels = targets.kind === "labels" ? new Int32Array(buffer, targets.labels, run.train.count) : undefined;
  const vectors = targets.kind === "vectors" ? new Float32Array(buffer, targets.vectors, run.train.count * n2) : undefined;
  const y = new Float64Array(buffer, p.y, n2);
  const ownLayer2 = p.w2 / 4; // w² then b², as in the kernel layout (planNeurons puts b2 right after w2)
  return {
    exchange: regions.exchange,
    load() {
      for (const { from, gap } of copies) {
        const [w1, b1, layer2] = [from + kernel.weightOffsets[0]!, from + kernel.biasOffsets[0]!, from + kernel.weightOffsets[1]!];
        for (let r = 0; r < n0; r++) f32.copyWithin(gap + p.w1 / 4 + r * p.width, w1 + r * np1 + p.c0, w1 + r * np1 + p.c0 + p.width);
        f32.copyWithin(gap + p.b1 / 4, b1 + p.c0, b1 + p.c0 + p.width);
        f32.copyWithin(gap + ownLayer2, layer2, layer2 + layer2Floats);
      }
    },
    store() {
      for (const { from, gap } of copies) {
        const [w1, b1, layer2] = [from + kernel.weightOffsets[0]!, from + kernel.biasOffsets[0]!, from + kernel.weightOffsets[1]!];
        for (let r = 0; r < n0; r++) f32.copyWithin(w1 + r * np1 + p.c0, gap + p.w1 / 4 + r * p.width, gap + p.w1 / 4 + (r + 1) * p.width);
        f32.copyWithin(b1 + p.c0, gap + p.b1 / 4, gap + p.b1 / 4 + p.width);
        if (k === 0) f32.copyWithin(layer2, gap + ownLayer2, gap + ownLayer2 + layer2Floats);
      }
    },
    hidden(start, m, exchange) {
      for (let s = 0; s < m; s++) {
        const i = order[start + s]!;
        const first = int32[(offsets >> 2) + i]!;
        const count = int32[(offsets >> 2) + i + 1]! - first;
        const slot = p.slots + s * stride;
        const idx = indices + 4 * first;
        const val = values + 4 * first;
        int32[(slot + abi.slotPositions) >> 2] = idx;
        int32[(slot + abi.slotValues) >> 2] = val;
        int32[(slot + abi.slotCount) >> 2] = count;
        // z¹ = w¹x + b¹ over its columns, a¹ = σ(z¹)
        wasm.forward(p.w1, p.b1, idx, val, count, p.z1, p.width);
        wasm.sigmoid(p.z1, exchange + s * stride + 4 * p.c0, p.nk);
      }
    },
    output(start, m, exchange) {
      let cost = 0;
      for (let s = 0; s < m; s++) {
        const slot = p.slots + s * stride;
        const a1 = exchange + s * stride;
        const i = order[start + s]!;
        wasm.forward(p.w2, p.b2, p.identity, a1, n1, p.z2, np2);
        wasm.sigmoid(p.z2, p.a2, n2);
        // the target as fillTarget (dataset.ts) makes it: one-hot, the label itself for one output, or the vector
        if (labels && n2 === 1) y[0] = labels[i]!;
        else if (labels) {
          y.fill(0);
          y[labels[i]!] = 1;
        } else for (let j = 0; j < n2; j++) y[j] = vectors![i * n2 + j]!;
        // BP1: δ² = (a² − y) ⊙ σ'(z²), and the cost
        cost += wasm.quadraticSigmoidOutput(p.a2, p.y, slot + p.delta2, n2);
        // BP2 for its neurons: δ¹ = ((w²)ᵀ δ²) ⊙ σ'(z¹), from its rows of the transposed w²
        wasm.backward(p.w2 + 4 * np2 * p.c0, p.nk, slot + p.delta2, slot + p.delta1, np2, a1 + 4 * p.c0);
      }
      return cost;
    },
    update(m, scale, decay, exchange) {
      // BP3, BP4 and w ← decay · w − (η/m) Σ (with momentum, through the velocities), on its block of layer 1 and its copy of layer 2
      const bad1 = wasm.stepLayer(p.w1, p.b1, p.slots, stride, m, p.delta1, -1, 0, n0, p.width, 1, scale, decay, p.list, p.heads, p.vgap, run.momentum);
      const bad2 = wasm.stepLayer(p.w2, p.b2, p.slots, stride, m, p.delta2, exchange - p.slots, 0, n1, np2, 1, scale, decay, p.list, p.heads, p.vgap, run.momentum);
      return (bad1 | bad2) === 0;
    },
  };
}
