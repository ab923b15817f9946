import type { Dataset } from "../core/dataset.js";
import { fillTarget } from "../core/dataset.js";
import { nonZeroInputs } from "../core/backprop.js";
import { architectureOf, allocateParams, type Params } from "../core/network.js";
import { descend } from "../core/sgd.js";
import { share } from "../core/share.js";
import type { NeuronSplit } from "./neuron-split.js";
import type { RunViews, SharedRun } from "./shared-state.js";

/**
 * Thread k's part of a neuron split on the TypeScript kernel (any dtype, any elementwise hidden
 * activation, any output layer and cost): it owns hidden neurons [c0, c1) — rows c0 … c1 − 1 of w¹
 * and their biases, updated in place in the run's parameters (no other thread reads them) — and
 * keeps a private copy of the output layer, which every thread updates identically. Every sum is
 * made as backprop.ts makes it for the example split: z from the bias, inputs in order (layer 1:
 * the non-zero ones); BP2 over the output neurons in order, skipping a zero δ; each parameter's
 * gradient summed over the batch's examples in order, in the parameters' own type; then descend.
 * So the bits are those of the example split, and of the in-process path.
 */
export function jsNeuronSplit(run: SharedRun, views: RunViews, k: number): NeuronSplit {
  const regions = run.neurons;
  if (!regions) throw new Error("a neuron split needs its regions");
  const arch = architectureOf(run.spec);
  const [n0, n1, n2] = run.spec.sizes as [number, number, number];
  const { weightOffsets, biasOffsets } = arch.layout;
  const { from: c0, to: c1 } = share(n1, k, run.threads);
  const width = c1 - c0;
  const { params, velocities, order } = views;
  const train: Dataset = views.train;
  const buffer = run.memory.buffer;
  const m = regions.slotCount;
  const dtype = params instanceof Float32Array ? "float32" : "float64";
  const momentum = run.momentum > 0;
  // private: the output layer (w² then b², as in the network's layout), its velocities, and the gradients
  const layer2 = weightOffsets[1]!;
  const layer2Length = biasOffsets[1]! + n2 - layer2;
  const own2 = params.slice(layer2, layer2 + layer2Length);
  const ownVelocity2 = momentum ? velocities.slice(layer2, layer2 + layer2Length) : undefined;
  // its rows of layer 1's gradient, at their own places in the parameters' layout (so descend() takes them as they are)
  const gradient1 = allocateParams(dtype, params.length);
  const gradient2 = allocateParams(dtype, layer2Length);
  // per example of the batch (views made once): its non-zero inputs, its neurons' z¹ and δ¹, δ², and
  // its a¹ row in each exchange buffer, whole and its neurons' part
  const perSlot = <T>(make: (s: number) => T): T[] => Array.from({ length: m }, (_, s) => make(s));
  const xIndex = perSlot(() => new Int32Array(n0));
  const xValue = perSlot(() => new Float64Array(n0));
  const xCount = new Int32Array(m);
  const z1 = perSlot(() => new Float64Array(width));
  const delta1 = perSlot(() => new Float64Array(width));
  const delta2 = perSlot(() => new Float64Array(n2));
  const z2 = new Float64Array(n2);
  const a2 = new Float64Array(n2);
  const y = new Float64Array(n2);
  const rowsOf = (exchange: number): { whole: Float64Array[]; own: Float64Array[] } => {
    const whole = perSlot((s) => new Float64Array(buffer, exchange + s * regions.stride, n1));
    return { whole, own: whole.map((row) => row.subarray(c0, c1)) };
  };
  const exchangeRows = new Map(regions.exchange.map((at) => [at, rowsOf(at)] as const));
  const rows = (exchange: number): { whole: Float64Array[]; own: Float64Array[] } => exchangeRows.get(exchange)!;
  const w1 = weightOffsets[0]!;
  const b1 = biasOffsets[0]!;
  const b2 = biasOffsets[1]! - layer2; // in the private copy
  const sharedMomentum = momentum ? { velocity: velocities, mu: run.momentum } : undefined;
  const ownMomentum = ownVelocity2 ? { velocity: ownVelocity2, mu: run.momentum } : undefined;
  const copy2 = (from: Params, into: Params, out: boolean): void => {
    if (out) into.set(from, layer2);
    else into.set(from.subarray(layer2, layer2 + layer2Length));
  };
  return {
    exchange: regions.exchange,
    load() {
      copy2(params, own2, false);
      if (ownVelocity2) copy2(velocities, ownVelocity2, false);
    },
    store() {
      if (k !== 0) return;
      copy2(own2, params, true);
      if (ownVelocity2) copy2(ownVelocity2, velocities, true);
    },
    hidden(start, count, exchange) {
      const { own } = rows(exchange);
      for (let s = 0; s < count; s++) {
        const [index, value, z] = [xIndex[s]!, xValue[s]!, z1[s]!];
        const n = (xCount[s] = nonZeroInputs(train.inputs, order[start + s]! * n0, n0, index, value));
        for (let j = c0; j < c1; j++) {
          let sum = params[b1 + j]!;
          const row = w1 + j * n0;
          for (let t = 0; t < n; t++) sum += params[row + index[t]!]! * value[t]!;
          z[j - c0] = sum;
        }
        arch.hidden.apply(z, own[s]!); // a¹ = σ(z¹), elementwise
      }
    },
    output(start, count, exchange) {
      const { whole, own } = rows(exchange);
      let cost = 0;
      for (let s = 0; s < count; s++) {
        const a = whole[s]!;
        // z² = w²a¹ + b², a² = σ(z²), from its own copy of the output layer
        for (let j = 0; j < n2; j++) {
          let sum = own2[b2 + j]!;
          for (let i = 0; i < n1; i++) sum += own2[j * n1 + i]! * a[i]!;
          z2[j] = sum;
        }
        arch.output.apply(z2, a2);
        fillTarget(train, order[start + s]!, y);
        const d2 = delta2[s]!;
        arch.cost.outputDelta(z2, a2, y, arch.output, d2); // BP1
        // BP2 for its neurons: δ¹ = ((w²)ᵀ δ²) ⊙ σ'(z¹)
        const d1 = delta1[s]!;
        d1.fill(0);
        for (let j = 0; j < n2; j++) {
          const d = d2[j]!;
          if (d === 0) continue;
          for (let i = c0; i < c1; i++) d1[i - c0]! += own2[j * n1 + i]! * d;
        }
        arch.hidden.scaleByDerivative(z1[s]!, own[s]!, d1);
        cost += arch.cost.value(a2, y);
      }
      return cost;
    },
    update(count, scale, decay, exchange) {
      const { whole } = rows(exchange);
      // BP3 and BP4, summed over the batch's examples in order
      for (let s = 0; s < count; s++) {
        const [index, value, n, d1, d2, a] = [xIndex[s]!, xValue[s]!, xCount[s]!, delta1[s]!, delta2[s]!, whole[s]!];
        for (let j = 0; j < width; j++) {
          const d = d1[j]!;
          gradient1[b1 + c0 + j]! += d;
          if (d === 0) continue;
          const row = w1 + (c0 + j) * n0;
          for (let t = 0; t < n; t++) gradient1[row + index[t]!]! += d * value[t]!;
        }
        for (let j = 0; j < n2; j++) {
          const d = d2[j]!;
          gradient2[b2 + j]! += d;
          if (d === 0) continue;
          for (let i = 0; i < n1; i++) gradient2[j * n1 + i]! += d * a[i]!;
        }
      }
      // the SGD step (L2's decay on weights only; with momentum through the velocities), every range even after a bad one
      let finite = descend(params, gradient1, w1 + c0 * n0, w1 + c1 * n0, scale, decay, sharedMomentum);
      finite = descend(params, gradient1, b1 + c0, b1 + c1, scale, 1, sharedMomentum) && finite;
      finite = descend(own2, gradient2, 0, b2, scale, decay, ownMomentum) && finite;
      finite = descend(own2, gradient2, b2, b2 + n2, scale, 1, ownMomentum) && finite;
      return finite;
    },
  };
}
