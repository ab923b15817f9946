/**
 * Activation functions σ, applied to a whole layer at once so the kernel makes one call per layer.
 * `scaleByDerivative` multiplies a vector by σ'(z) in place — the "⊙ σ'(z^l)" of BP1 and BP2.
 * It may use either z or a = σ(z), whichever is cheaper. Softmax is the one σ that is not
 * elementwise: each a_j depends on the whole layer, and it may only be the output layer's.
 */
/** A layer's values: float64 in the JS kernel, float32 views of wasm memory in the SIMD kernel. */
export type Vector = Float32Array | Float64Array;

export interface Activation {
  readonly name: ActivationName;
  /** a = σ(z) for the whole layer (elementwise, except softmax). */
  apply(z: Vector, a: Vector): void;
  /**
   * out ← J^T out, J = ∂a/∂z the Jacobian at z (a = σ(z) given too): out ⊙= σ'(z) for an elementwise σ,
   * whose J is diagonal.
   */
  scaleByDerivative(z: Vector, a: Vector, out: Vector): void;
}

export type ActivationName = "sigmoid" | "tanh" | "relu" | "identity" | "softmax";
export const activationNames: readonly ActivationName[] = ["sigmoid", "tanh", "relu", "identity", "softmax"];
/** The activations a hidden layer may have: all but softmax, which only an output layer may have. */
export const hiddenActivationNames: readonly ActivationName[] = activationNames.filter((name) => name !== "softmax");

const sigmoid: Activation = {
  name: "sigmoid",
  apply(z, a) {
    for (let i = 0; i < z.length; i++) a[i] = 1 / (1 + Math.exp(-z[i]!));
  },
  // σ'(z) = σ(z)(1 − σ(z))
  scaleByDerivative(_z, a, out) {
    for (let i = 0; i < a.length; i++) out[i]! *= a[i]! * (1 - a[i]!);
  },
};

const tanh: Activation = {
  name: "tanh",
  apply(z, a) {
    for (let i = 0; i < z.length; i++) a[i] = Math.tanh(z[i]!);
  },
  // tanh'(z) = 1 − tanh²(z)
  scaleByDerivative(_z, a, out) {
    for (let i = 0; i < a.length; i++) out[i]! *= 1 - a[i]! * a[i]!;
  },
};

const relu: Activation = {
  name: "relu",
  apply(z, a) {
    for (let i = 0; i < z.length; i++) a[i] = z[i]! > 0 ? z[i]! : 0;
  },
  // relu'(z) = 1 for z > 0, else 0
  scaleByDerivative(z, _a, out) {
    for (let i = 0; i < z.length; i++) if (!(z[i]! > 0)) out[i] = 0;
  },
};

const identity: Activation = {
  name: "identity",
  apply(z, a) {
    a.set(z);
  },
  scaleByDerivative() {
    // σ'(z) = 1
  },
};

/**
 * Softmax (chapter 3): a_j = e^(z_j) / Σ_k e^(z_k), outputs that are probabilities summing to 1.
 * Computed as e^(z_j − max z), the same ratio without overflow (e^1000 is Infinity in a double),
 * and summed in index order, so every thread gets the same bits. Both passes call Math.exp rather
 * than storing e^(z_j − max z) in `a`: a float32 `a` would round the terms before they are summed.
 */
const softmax: Activation = {
  name: "softmax",
  apply(z, a) {
    let max = -Infinity;
    for (let j = 0; j < z.length; j++) if (z[j]! > max) max = z[j]!;
    let sum = 0;
    for (let j = 0; j < z.length; j++) sum += Math.exp(z[j]! - max);
    for (let j = 0; j < z.length; j++) a[j] = Math.exp(z[j]! - max) / sum;
  },
  // ∂a_j/∂z_k = a_j(1[j = k] − a_k), so (J^T out)_k = a_k (out_k − Σ_j out_j a_j). Training never
  // calls this: log-likelihood, the only cost allowed with softmax, gives δ^L = a − y directly.
  scaleByDerivative(_z, a, out) {
    let dot = 0;
    for (let j = 0; j < a.length; j++) dot += out[j]! * a[j]!;
    for (let k = 0; k < a.length; k++) out[k] = a[k]! * (out[k]! - dot);
  },
};

const byName: Record<ActivationName, Activation> = { sigmoid, tanh, relu, identity, softmax };

/** The activation called `name`. */
export function activation(name: ActivationName): Activation {
  return byName[name];
}
