import { argmax, backprop, createScratch } from "../core/backprop.js";
import { fillTarget, targetClass } from "../core/dataset.js";
import { countCorrect } from "../core/evaluate.js";
import { architectureOf } from "../core/network.js";
import { descend } from "../core/sgd.js";
import { WasmKernel } from "../core/wasm/wasm-kernel.js";
import { kernelLayoutOfRun, type RunViews, type SharedRun } from "./shared-state.js";

/** What a worker's step loop needs from a kernel, whichever it is. */
export interface StepKernel {
  /** Parameters are sliced among workers in multiples of this many values. */
  readonly granularity: number;
  /** Adds training example i's gradient to gradient region `region`; returns its cost. */
  accumulate(i: number, region: number): number;
  /** The SGD step over parameters [from, to): w −= scale · Σ regions, zeroing them. False if a new value is not finite. */
  descend(from: number, to: number, scale: number): boolean;
  /** How many of test examples [from, to) the network classifies correctly. */
  countCorrect(from: number, to: number): number;
}

/** The run's kernel for one worker thread (its own scratch memory). */
export function stepKernel(run: SharedRun, views: RunViews, worker: number): StepKernel {
  const arch = architectureOf(run.spec);
  const { params, gradients, train, test } = views;
  const y = new Float64Array(run.spec.sizes[run.spec.sizes.length - 1]!);
  const kernel = kernelLayoutOfRun(run);

  if (kernel === undefined) {
    const scratch = createScratch(run.spec.sizes);
    return {
      granularity: 1,
      accumulate(i, region) {
        fillTarget(train, i, scratch.y);
        return backprop(arch, params, train.inputs, i * train.inputSize, gradients[region]!, scratch);
      },
      descend: (from, to, scale) => descend(params, gradients, from, to, scale),
      countCorrect: (from, to) => (test ? countCorrect(arch, params, test, from, to, scratch) : 0),
    };
  }

  const { regions } = run;
  const wasm = new WasmKernel(
    run.memory, arch, kernel, regions.params, regions.gradients, regions.gradientStride, run.threads,
    regions.scratch + worker * regions.scratchStride,
  );
  const rowBytes = 4 * train.inputSize;
  return {
    granularity: 4,
    accumulate(i, region) {
      fillTarget(train, i, y);
      return wasm.backprop(run.train.inputs + i * rowBytes, y, region);
    },
    descend: (from, to, scale) => wasm.descend(from, to, scale),
    countCorrect(from, to) {
      let correct = 0;
      for (let i = from; i < to; i++) {
        if (test && argmax(wasm.forward(run.test!.inputs + i * rowBytes)) === targetClass(test, i)) correct++;
      }
      return correct;
    },
  };
}
