import type { Activation, Vector } from "./activations.js";

/**
 * A cost function C(a, y) for one example, and its part in BP1: δ^L = ∇_a C ⊙ σ'(z^L).
 */
export interface Cost {
  readonly name: CostName;
  /** The name network2.py writes in its model files. */
  readonly fileName: "QuadraticCost" | "CrossEntropyCost" | "LogLikelihoodCost";
  /** C for one example with output a and target y. */
  value(a: Vector, y: Vector): number;
  /** Writes δ^L (BP1) into `delta`, given the output layer's z, a = σ(z) and the target y. */
  outputDelta(z: Vector, a: Vector, y: Vector, output: Activation, delta: Vector): void;
}

export type CostName = "quadratic" | "cross-entropy" | "log-likelihood";
export const costNames: readonly CostName[] = ["quadratic", "cross-entropy", "log-likelihood"];

const quadratic: Cost = {
  name: "quadratic",
  fileName: "QuadraticCost",
  // C = ½‖y − a‖²
  value(a, y) {
    let sum = 0;
    for (let j = 0; j < a.length; j++) sum += (a[j]! - y[j]!) ** 2;
    return 0.5 * sum;
  },
  // ∇_a C = a − y, so δ^L = (a − y) ⊙ σ'(z^L)
  outputDelta(z, a, y, output, delta) {
    for (let j = 0; j < a.length; j++) delta[j] = a[j]! - y[j]!;
    output.scaleByDerivative(z, a, delta);
  },
};

// Keeps ln() finite when a sigmoid output saturates to exactly 0 or 1 (network2.py uses nan_to_num).
const EPSILON = 1e-12;

const crossEntropy: Cost = {
  name: "cross-entropy",
  fileName: "CrossEntropyCost",
  // C = −Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)]
  value(a, y) {
    let sum = 0;
    for (let j = 0; j < a.length; j++) {
      const aj = Math.min(Math.max(a[j]!, EPSILON), 1 - EPSILON);
      const yj = y[j]!;
      if (yj !== 0) sum -= yj * Math.log(aj);
      if (yj !== 1) sum -= (1 - yj) * Math.log(1 - aj);
    }
    return sum;
  },
  // With a sigmoid output, ∇_a C ⊙ σ'(z) = (a − y)/(a(1 − a)) · a(1 − a) = a − y: the σ' cancels.
  // The network only allows cross-entropy on a sigmoid output layer (outputs must lie in (0, 1)).
  outputDelta(_z, a, y, _output, delta) {
    for (let j = 0; j < a.length; j++) delta[j] = a[j]! - y[j]!;
  },
};

const logLikelihood: Cost = {
  name: "log-likelihood",
  // network2.py has no such class: its load() cannot read a softmax model, which it could not run anyway
  fileName: "LogLikelihoodCost",
  // C = −Σ_j y_j ln a_j: −ln a_y for a one-hot y (chapter 3). The clamp keeps it finite when a_y underflows to 0.
  value(a, y) {
    let sum = 0;
    for (let j = 0; j < a.length; j++) {
      const yj = y[j]!;
      if (yj !== 0) sum -= yj * Math.log(Math.max(a[j]!, EPSILON));
    }
    return sum;
  },
  // With a softmax output, δ^L_j = Σ_k ∂C/∂a_k · ∂a_k/∂z_j = a_j Σ_k y_k − y_j: a − y when y sums to 1
  // (a one-hot y: every labelled example), and with the same bits, as a_j · 1 = a_j exactly. The
  // softmax Jacobian is never formed. The network only allows log-likelihood on a softmax output layer.
  outputDelta(_z, a, y, _output, delta) {
    let total = 0;
    for (let k = 0; k < y.length; k++) total += y[k]!;
    for (let j = 0; j < a.length; j++) delta[j] = a[j]! * total - y[j]!;
  },
};

const byName: Record<CostName, Cost> = { quadratic, "cross-entropy": crossEntropy, "log-likelihood": logLikelihood };

/** The cost called `name`. */
export function cost(name: CostName): Cost {
  return byName[name];
}
