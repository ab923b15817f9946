import { argmax, backprop, createScratch } from "../core/backprop.js";
import { fillTarget, targetClass } from "../core/dataset.js";
import { countCorrect } from "../core/evaluate.js";
import { architectureOf } from "../core/network.js";
import { descend } from "../core/sgd.js";
import { WasmKernel } from "../core/wasm/wasm-kernel.js";
import { kernelLayoutOfRun, type RunViews, type SharedRun } from "./shared-state.js";

/** What worker k's step loop needs from a kernel, whichever it is. */
export interface StepKernel {
  /** Clears worker k's gradient region of this parity. */
  clear(parity: number): void;
  /** Adds training example i's gradient to worker k's region of this parity; returns its cost. */
  accumulate(i: number, parity: number): number;
  /** The SGD step on worker k's parameter copy: w −= scale · Σ every worker's region of this parity. False if a new value is not finite. */
  descend(parity: number, scale: number): boolean;
  /** How many of test examples [from, to) the network classifies correctly. */
  countCorrect(from: number, to: number): number;
}

/** The run's kernel for worker `worker` (its own parameter copy, gradient regions and scratch). */
export function stepKernel(run: SharedRun, views: RunViews, worker: number): StepKernel {
  const arch = architectureOf(run.spec);
  const { train, test } = views;
  const { threads } = run;
  const params = views.params[worker]!;
  const parities = [0, 1].map((p) => views.gradients.slice(p * threads, (p + 1) * threads));
  const y = new Float64Array(run.spec.sizes[run.spec.sizes.length - 1]!);
  const kernel = kernelLayoutOfRun(run);

  if (kernel === undefined) {
    const scratch = createScratch(run.spec.sizes);
    return {
      clear: (parity) => void parities[parity]![worker]!.fill(0),
      accumulate(i, parity) {
        fillTarget(train, i, scratch.y);
        return backprop(arch, params, train.inputs, i * train.inputSize, parities[parity]![worker]!, scratch);
      },
      descend: (parity, scale) => descend(params, parities[parity]!, 0, params.length, scale),
      countCorrect: (from, to) => (test ? countCorrect(arch, params, test, from, to, scratch) : 0),
    };
  }

  const { regions } = run;
  const wasm = new WasmKernel(
    run.memory, arch, kernel, regions.params + worker * regions.paramStride, regions.scratch + worker * regions.scratchStride,
  );
  const rowBytes = 4 * train.inputSize;
  const region = (parity: number, k: number): number => regions.gradients + (parity * threads + k) * regions.gradientStride;
  return {
    clear: (parity) => wasm.clear(region(parity, worker)),
    accumulate(i, parity) {
      fillTarget(train, i, y);
      return wasm.backprop(run.train.inputs + i * rowBytes, y, region(parity, worker));
    },
    descend: (parity, scale) => wasm.descend(region(parity, 0), threads, regions.gradientStride, scale),
    countCorrect(from, to) {
      let correct = 0;
      for (let i = from; i < to; i++) {
        if (test && argmax(wasm.forward(run.test!.inputs + i * rowBytes)) === targetClass(test, i)) correct++;
      }
      return correct;
    },
  };
}
