import { addGradient, argmax, backpropagate, createScratch, type Scratch } from "../core/backprop.js";
import { fillTarget, targetClass } from "../core/dataset.js";
import { countCorrect } from "../core/evaluate.js";
import { architectureOf } from "../core/network.js";
import { descend, share } from "../core/sgd.js";
import { WasmKernel } from "../core/wasm/wasm-kernel.js";
import { kernelLayoutOfRun, type RunViews, type SharedRun } from "./shared-state.js";

/**
 * What a worker's step loop needs from a kernel, whichever it is. A mini-batch's examples go into
 * shared example slots; the parameters are cut into `blocks` blocks (each a share of every layer's
 * rows), whose gradient sums and updates workers claim one block at a time.
 */
export interface StepKernel {
  /** Forward pass, BP1 and BP2 of training example i into example slot `slot`; returns its cost. */
  backpropagate(i: number, slot: number): number;
  /** BP3 and BP4 of the examples in slots [0, count), in slot order, added to block `block`'s rows of the gradient sum. */
  accumulate(block: number, count: number): void;
  /** The SGD step on block `block`'s rows: w −= scale · gradient sum, zeroing it. False if a new value is not finite. */
  update(block: number, scale: number): boolean;
  /** How many of test examples [from, to) the network classifies correctly. */
  countCorrect(from: number, to: number): number;
}

/**
 * The number of parameter blocks of a run with `threads` worker threads: one per thread. Each
 * worker claims its own block first and then any other block not yet claimed, so a worker that
 * reaches the gradient sum while another is still away (its core taken or slowed) does that one's
 * share too. More, smaller blocks balance finer but cost more calls and slot scans per step; at
 * batch 10 that cost more than it gained (W1, 2 threads, in-process ABBA, 10 pairs: 4 blocks per
 * thread 0.89× the examples/s of 1, 2 blocks per thread 0.76×).
 */
export function blockCount(threads: number): number {
  return threads;
}

/** The run's kernel for worker thread `worker`. */
export function stepKernel(run: SharedRun, views: RunViews, worker: number): StepKernel {
  const arch = architectureOf(run.spec);
  const { params, gradient, train, test } = views;
  const { regions } = run;
  const kernel = kernelLayoutOfRun(run);
  const blocks = blockCount(run.threads);

  if (kernel === undefined) {
    // The TypeScript kernel, in the network's own layout: block b is a share of every layer's
    // neurons, i.e. their rows of w and their biases.
    const buffer = run.memory.buffer;
    const slots: Scratch[] = [];
    for (let s = 0; s < regions.slotCount; s++) slots.push(createScratch(run.spec.sizes, { buffer, offset: regions.slots + s * regions.slotStride }));
    const own = createScratch(run.spec.sizes);
    const { sizes, weightOffsets, biasOffsets } = arch.layout;
    const parts = Array.from({ length: blocks }, (_, index) => ({ index, count: blocks }));
    const ranges = Array.from({ length: blocks }, (_, b) =>
      sizes.slice(1).flatMap((n, l) => {
        const { from, to } = share(n, b, blocks);
        const nIn = sizes[l]!;
        return [
          { from: weightOffsets[l]! + from * nIn, to: weightOffsets[l]! + to * nIn },
          { from: biasOffsets[l]! + from, to: biasOffsets[l]! + to },
        ];
      }),
    );
    return {
      backpropagate(i, s) {
        const slot = slots[s]!;
        fillTarget(train, i, slot.y);
        return backpropagate(arch, params, train.inputs, i * train.inputSize, slot);
      },
      accumulate(block, count) {
        for (let s = 0; s < count; s++) addGradient(arch, slots[s]!, gradient, parts[block]);
      },
      update(block, scale) {
        let finite = true;
        for (const r of ranges[block]!) finite = descend(params, gradient, r.from, r.to, scale) && finite; // every range, even after a bad one
        return finite;
      },
      countCorrect: (from, to) => (test ? countCorrect(arch, params, test, from, to, own) : 0),
    };
  }

  if (typeof run.train.inputs === "number") throw new Error("a wasm run's training inputs are stored sparse");
  const wasm = new WasmKernel(arch, kernel, {
    memory: run.memory,
    inputs: run.train.inputs,
    params: regions.params,
    gradient: regions.gradient,
    slots: regions.slots,
    slotCount: regions.slotCount,
    scratch: regions.scratch + worker * regions.scratchStride,
  }, blocks);
  const y = new Float64Array(run.spec.sizes[run.spec.sizes.length - 1]!);
  const testInputs = run.test?.inputs;
  const rowBytes = 4 * train.inputSize;
  return {
    backpropagate(i, s) {
      fillTarget(train, i, y);
      return wasm.backpropagate(i, y, s);
    },
    accumulate: (block, count) => wasm.accumulate(block, count),
    update: (block, scale) => wasm.update(block, scale),
    countCorrect(from, to) {
      let correct = 0;
      for (let i = from; i < to; i++) {
        if (test && typeof testInputs === "number" && argmax(wasm.forward(testInputs + i * rowBytes)) === targetClass(test, i)) correct++;
      }
      return correct;
    },
  };
}
