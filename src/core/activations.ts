/**
 * Activation functions σ, applied to a whole layer at once so the kernel makes one call per layer.
 * `scaleByDerivative` multiplies a vector by σ'(z) in place — the "⊙ σ'(z^l)" of BP1 and BP2.
 * It may use either z or a = σ(z), whichever is cheaper.
 */
/** A layer's values: float64 in the JS kernel, float32 views of wasm memory in the SIMD kernel. */
export type Vector = Float32Array | Float64Array;

export interface Activation {
  readonly name: ActivationName;
  /** a = σ(z), elementwise. */
  apply(z: Vector, a: Vector): void;
  /** out ⊙= σ'(z), elementwise, given z and a = σ(z). */
  scaleByDerivative(z: Vector, a: Vector, out: Vector): void;
}

export type ActivationName = "sigmoid" | "tanh" | "relu" | "identity";
export const activationNames: readonly ActivationName[] = ["sigmoid", "tanh", "relu", "identity"];

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

const byName: Record<ActivationName, Activation> = { sigmoid, tanh, relu, identity };

/** The activation called `name`. */
export function activation(name: ActivationName): Activation {
  return byName[name];
}
