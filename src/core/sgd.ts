import { check, show } from "./errors.js";
import type { Params } from "./layout.js";

/** L2's weight decay for one step at learning rate `eta`: 1 − ηλ/n (exactly 1 when λ is 0). */
export function weightDecay(eta: number, lambda: number, trainingExamples: number): number {
  return lambda === 0 ? 1 : 1 - (eta * lambda) / trainingExamples;
}

/** Refuses an L2 λ that is not a finite number ≥ 0 (`name` as the message should call it). */
export function checkLambda(lambda: unknown, name = "lambda"): void {
  check(typeof lambda === "number" && Number.isFinite(lambda) && lambda >= 0, `${name} must be a finite number ≥ 0, got ${show(lambda)}`);
}

/** Refuses a momentum μ outside [0, 1) (at 1 the velocities never decay; above, they grow). */
export function checkMomentum(momentum: unknown): void {
  check(typeof momentum === "number" && momentum >= 0 && momentum < 1, `momentum must be a number in [0, 1), got ${show(momentum)}`);
}

/** Momentum's state for a range of parameters: their velocities and μ (chapter 3). */
export interface Momentum {
  /** One velocity per parameter, in the parameters' layout. */
  readonly velocity: Params;
  /** μ, in (0, 1). */
  readonly mu: number;
}

/**
 * The gradient-descent step of mini-batch SGD over parameters [from, to):
 *   w ← decay · w − (η/m) Σ_x ∂C_x/∂w,  b ← b − (η/m) Σ_x ∂C_x/∂b
 * where `gradient` holds the mini-batch's per-example gradients already summed, `scale` is η/m and
 * `decay` is L2 regularisation's 1 − ηλ/n (network2.py; n the training set's size) for a range of
 * weights, 1 for biases (and without L2, when 1 · w is w, bit for bit). With `momentum` it is
 * chapter 3's rule instead:
 *   v ← μ · v − (η/m) Σ_x ∂C_x/∂w,  w ← decay · w + v
 * (the new v as stored, so a float32 run adds the velocity it keeps). The consumed gradient entries
 * are reset to zero, ready for the next mini-batch.
 * Returns false if any new parameter is NaN or infinite (for the divergence guard).
 */
export function descend(params: Params, gradient: Params, from: number, to: number, scale: number, decay = 1, momentum?: Momentum): boolean {
  let finite = true;
  if (momentum) {
    const { velocity, mu } = momentum;
    for (let i = from; i < to; i++) {
      velocity[i] = mu * velocity[i]! - scale * gradient[i]!;
      params[i] = decay * params[i]! + velocity[i]!;
      gradient[i] = 0;
      if (!Number.isFinite(params[i]!)) finite = false;
    }
    return finite;
  }
  for (let i = from; i < to; i++) {
    params[i] = decay * params[i]! - scale * gradient[i]!;
    gradient[i] = 0;
    if (!Number.isFinite(params[i]!)) finite = false; // read back: a float32 store can overflow to ∞
  }
  return finite;
}
