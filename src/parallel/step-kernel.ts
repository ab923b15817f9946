import { addGradient, forwardAndDeltas, createScratch, type Scratch } from "../core/backprop.js";
import { predictedClass } from "../core/classes.js";
import { fillTarget, targetClass } from "../core/dataset.js";
import { Dropout } from "../core/dropout.js";
import { countCorrect } from "../core/evaluate.js";
import { architectureOf } from "../core/network.js";
import { descend } from "../core/sgd.js";
import { share } from "../core/share.js";
import { adoptKernelModule, WasmKernel } from "../core/wasm/wasm-kernel.js";
import { kernelLayoutOfRun, type RunViews, type SharedRun } from "./shared-state.js";

/**
 * What a worker's step loop needs from a kernel, whichever it is. A mini-batch's examples go into
 * shared example slots; each worker owns a fixed part of the parameters ("its rows").
 */
export interface StepKernel {
  /**
   * With dropout (SharedRun.dropout), draws the mask that the forward and backward passes of
   * mini-batch `step` (0-based) of epoch `epoch` (1-based, from the run's start) use; every worker
   * draws the same one. Without dropout, nothing.
   */
  dropoutMask(epoch: number, step: number): void;
  /** Forward pass, BP1 and BP2 of training example i into example slot `slot`; returns its cost. */
  forwardAndDeltas(i: number, slot: number): number;
  /** BP3 and BP4 of the examples in slots [0, count), in slot order, added to this worker's rows of its gradient sum. */
  accumulate(count: number): void;
  /**
   * The SGD step on this worker's rows: w ← decay · w − scale · gradient sum (biases: b − scale ·
   * sum), zeroing it; with momentum (SharedRun.momentum) v ← μ · v − scale · sum, w ← decay · w + v.
   * False if a new value is not finite.
   */
  update(scale: number, decay: number): boolean;
  /**
   * A whole mini-batch in slots [0, count): accumulate(count) then update(scale, decay), or the same
   * sums and step fused (wasm). Needs a zero gradient sum. False if a new value is not finite.
   */
  step(count: number, scale: number, decay: number): boolean;
  /** How many of test examples [from, to) the network classifies correctly. */
  countCorrect(from: number, to: number): number;
}

/** The run's kernel for worker thread `worker`. */
export function stepKernel(run: SharedRun, views: RunViews, worker: number): StepKernel {
  const arch = architectureOf(run.spec);
  const { params, gradients, train, test } = views;
  const { regions, threads } = run;
  const kernel = kernelLayoutOfRun(run);
  const part = { index: worker, count: threads };
  // this worker's own copy of the mask, and of the unscaled activations of the example it runs
  const dropout = run.dropout && new Dropout(run.spec.sizes, run.dropout);
  const dropoutMask = (epoch: number, step: number): void => dropout?.draw(epoch, step);

  if (kernel === undefined) {
    // The TypeScript kernel, in the network's own layout: worker k owns a share of every layer's
    // neurons, i.e. their rows of w and their biases.
    const buffer = run.memory.buffer;
    const slots: Scratch[] = [];
    for (let s = 0; s < regions.slotCount; s++) slots.push(createScratch(run.spec.sizes, { buffer, offset: regions.slots + s * regions.slotStride }));
    const own = createScratch(run.spec.sizes);
    const gradient = gradients[worker]!;
    const momentum = run.momentum > 0 ? { velocity: views.velocities, mu: run.momentum } : undefined;
    const { sizes, weightOffsets, biasOffsets } = arch.layout;
    const ranges = sizes.slice(1).flatMap((n, l) => {
      const { from, to } = share(n, worker, threads);
      const nIn = sizes[l]!;
      return [
        { from: weightOffsets[l]! + from * nIn, to: weightOffsets[l]! + to * nIn, weights: true },
        { from: biasOffsets[l]! + from, to: biasOffsets[l]! + to, weights: false },
      ];
    });
    return {
      dropoutMask,
      forwardAndDeltas(i, s) {
        const slot = slots[s]!;
        fillTarget(train, i, slot.y);
        return forwardAndDeltas(arch, params, train.inputs, i * train.inputSize, slot, dropout);
      },
      accumulate(count) {
        for (let s = 0; s < count; s++) addGradient(arch, slots[s]!, gradient, part);
      },
      update(scale, decay) {
        let finite = true;
        // every range, even after a bad one; L2 decays weights, not biases
        for (const r of ranges) finite = descend(params, gradient, r.from, r.to, scale, r.weights ? decay : 1, momentum) && finite;
        return finite;
      },
      step(count, scale, decay) {
        this.accumulate(count);
        return this.update(scale, decay);
      },
      countCorrect: (from, to) => (test ? countCorrect(arch, params, test, from, to, own) : 0),
    };
  }

  if (typeof run.train.inputs === "number") throw new Error("a wasm run's training inputs are stored sparse");
  const gradientAt = regions.gradients + worker * regions.gradientStride;
  let paramsAt = regions.params;
  if (run.privateWeights && worker > 0) {
    // Benchmark-only (SharedRun.privateWeights): the gradient region, unused when every mini-batch
    // fits in the slots (createSharedRun checks), is this worker's own weights, copied at each epoch's start.
    paramsAt = gradientAt;
  }
  if (run.module) adoptKernelModule(run.module, kernel.dtype);
  const wasm = new WasmKernel(arch, kernel, {
    memory: run.memory,
    inputs: run.train.inputs,
    params: paramsAt,
    ...(run.momentum > 0 && { momentum: { velocities: regions.velocities, mu: run.momentum } }),
    gradient: gradientAt,
    slots: regions.slots,
    slotCount: regions.slotCount,
    scratch: regions.scratch + worker * regions.scratchStride,
  }, part);
  const y = new Float64Array(run.spec.sizes[run.spec.sizes.length - 1]!);
  const testInputs = run.test?.inputs;
  const rowBytes = kernel.bytes * train.inputSize; // the test inputs are dense, in the network's dtype (gather reads them)
  return {
    dropoutMask,
    forwardAndDeltas(i, s) {
      fillTarget(train, i, y);
      return wasm.forwardAndDeltas(i, y, s, dropout);
    },
    accumulate: (count) => wasm.accumulate(count),
    update: (scale, decay) => wasm.update(scale, decay),
    step: (count, scale, decay) => wasm.step(count, scale, decay),
    countCorrect(from, to) {
      let correct = 0;
      for (let i = from; i < to; i++) {
        if (test && typeof testInputs === "number" && predictedClass(wasm.forward(testInputs + i * rowBytes)) === targetClass(test, i)) correct++;
      }
      return correct;
    },
  };
}
