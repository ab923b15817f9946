import type { Params } from "./layout.js";

/**
 * The gradient-descent step of mini-batch SGD over parameters [from, to):
 *   w ← w − (η/m) Σ_x ∂C_x/∂w,  b ← b − (η/m) Σ_x ∂C_x/∂b
 * where `gradient` holds the mini-batch's per-example gradients already summed and `scale` is η/m.
 * The consumed gradient entries are reset to zero, ready for the next mini-batch.
 * Returns false if any new parameter is NaN or infinite (for the divergence guard).
 */
export function descend(params: Params, gradient: Params, from: number, to: number, scale: number): boolean {
  let finite = true;
  for (let i = from; i < to; i++) {
    params[i]! -= scale * gradient[i]!;
    gradient[i] = 0;
    if (!Number.isFinite(params[i]!)) finite = false; // read back: a float32 store can overflow to ∞
  }
  return finite;
}
