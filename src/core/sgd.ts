import type { Params } from "./layout.js";

/** L2's weight decay for one step at learning rate `eta`: 1 − ηλ/n (exactly 1 when λ is 0). */
export function weightDecay(eta: number, lambda: number, trainingExamples: number): number {
  return lambda === 0 ? 1 : 1 - (eta * lambda) / trainingExamples;
}

/**
 * The gradient-descent step of mini-batch SGD over parameters [from, to):
 *   w ← decay · w − (η/m) Σ_x ∂C_x/∂w,  b ← b − (η/m) Σ_x ∂C_x/∂b
 * where `gradient` holds the mini-batch's per-example gradients already summed, `scale` is η/m and
 * `decay` is L2 regularisation's 1 − ηλ/n (network2.py; n the training set's size) for a range of
 * weights, 1 for biases (and without L2, when 1 · w is w, bit for bit). The consumed gradient
 * entries are reset to zero, ready for the next mini-batch.
 * Returns false if any new parameter is NaN or infinite (for the divergence guard).
 */
export function descend(params: Params, gradient: Params, from: number, to: number, scale: number, decay = 1): boolean {
  let finite = true;
  for (let i = from; i < to; i++) {
    params[i] = decay * params[i]! - scale * gradient[i]!;
    gradient[i] = 0;
    if (!Number.isFinite(params[i]!)) finite = false; // read back: a float32 store can overflow to ∞
  }
  return finite;
}
