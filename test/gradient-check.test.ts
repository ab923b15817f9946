import { describe, expect, it } from "vitest";
import type { ActivationName } from "../src/core/activations.js";
import { backprop, createScratch, feedforward, type Scratch } from "../src/core/backprop.js";
import type { CostName } from "../src/core/costs.js";
import { Network, type NetworkSpec } from "../src/core/network.js";
import { Rng } from "../src/core/rng.js";

/**
 * The seed notes' "error forward" idea made exact: nudge one parameter by Δ, watch ΔC, and
 * ∂C/∂θ ≈ ΔC/Δθ. We compare the kernel's backprop gradient with central finite differences of
 * C = cost.value(feedforward(...), y), in float64.
 *
 * The finite differences use the five-point central stencil (Richardson-extrapolated central
 * differences, error O(h⁴)) with h = 1e-3. Plain (C(θ+h) − C(θ−h))/2h with h = 1e-5 measured
 * relative errors above 1e-6 on gradient components of ~1e-7 — the oracle's own rounding noise, not
 * the kernel's. With the five-point stencil the worst case over these cases is ~1e-9, a wide margin
 * under the 1e-6 bound (and a 1e-7 relative error planted in BP2 does fail it).
 *
 * Conditioning, so the oracle itself is accurate:
 * - init "scaled-gaussian" keeps the outputs out of saturation (a saturated sigmoid makes C flat to
 *   the last bits, and the cross-entropy clamp makes it exactly flat). The gradient formulas do not
 *   depend on the init.
 * - relu kinks: each input x is redrawn (from a fixed seed, so deterministically) until every
 *   pre-activation z in every layer is at least {@link Z_MARGIN} away from 0 and every hidden layer
 *   has an active unit. On top of that, every perturbed forward pass checks that no z changed sign,
 *   and the test asserts there were no such flips, so no comparison straddles a kink.
 */

const SIZES: readonly (readonly number[])[] = [
  [5, 4, 3],
  [3, 6, 6, 2],
];
const ACTIVATIONS: readonly ActivationName[] = ["sigmoid", "tanh", "relu", "identity"];
const H = 1e-3;
const Z_MARGIN = 0.05;
const MAX_OUTPUT_Z = 4;
const TOLERANCE = 1e-6;

interface Case {
  sizes: readonly number[];
  activation: ActivationName;
  outputActivation: ActivationName;
  cost: CostName;
  seed: number;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const sizes of SIZES) {
    for (const activation of ACTIVATIONS) {
      // cross-entropy needs a sigmoid output, log-likelihood a softmax one; quadratic is checked with σ at the output too
      const combos: [CostName, ActivationName][] = [
        ["quadratic", activation],
        ["cross-entropy", "sigmoid"],
        ["log-likelihood", "softmax"],
      ];
      if (activation !== "sigmoid") combos.push(["quadratic", "sigmoid"]);
      for (const [cost, outputActivation] of combos) {
        for (const seed of [1, 2]) out.push({ sizes, activation, outputActivation, cost, seed });
      }
    }
  }
  return out;
}

function robustRelativeError(g: number, n: number): number {
  return Math.abs(g - n) / Math.max(1e-8, Math.abs(g) + Math.abs(n));
}

function zSigns(scratch: Scratch): string {
  return scratch.z.map((z) => Array.from(z, (v) => (v > 0 ? "+" : "-")).join("")).join("|");
}

/** An input x for which no pre-activation is near 0, every hidden layer has a positive z, and the output is not saturated. */
function wellConditionedInput(net: Network, rng: Rng, scratch: Scratch): Float64Array {
  const sizes = net.sizes;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const x = Float64Array.from({ length: sizes[0]! }, () => rng.uniform() * 2 - 1);
    feedforward(net.architecture, net.params, x, 0, scratch);
    const zs = scratch.z;
    const farFromKinks = zs.every((z) => z.every((v) => Math.abs(v) >= Z_MARGIN));
    const hiddenActive = zs.slice(0, -1).every((z) => z.some((v) => v > 0));
    const unsaturated = zs[zs.length - 1]!.every((v) => Math.abs(v) <= MAX_OUTPUT_Z);
    if (farFromKinks && hiddenActive && unsaturated) return x;
  }
  throw new Error("no well-conditioned input found");
}

function makeNet(c: Case): Network {
  return Network.create(c.sizes, {
    seed: c.seed,
    dtype: "float64",
    activation: c.activation,
    outputActivation: c.outputActivation,
    cost: c.cost,
    init: "scaled-gaussian",
  });
}

describe("backprop against finite differences (float64)", () => {
  const name = (c: Case) =>
    `${c.sizes.join("-")} ${c.activation} hidden, ${c.outputActivation} output, ${c.cost} cost, seed ${c.seed}`;

  it.each(cases().map((c) => [name(c), c] as const))("%s", (_name, c) => {
    const net = makeNet(c);
    const arch = net.architecture;
    const params = net.params as Float64Array;
    const scratch = createScratch(c.sizes);
    const rng = new Rng(1000 + c.seed);
    const x = wellConditionedInput(net, rng, scratch);
    // targets in [0, 1]: valid for every cost, and not one-hot so every output contributes (log-likelihood's
    // δ^L = a·Σy − y is its exact gradient for any y; test/softmax.test.ts checks one-hot targets)
    const y = Float64Array.from({ length: c.sizes[c.sizes.length - 1]! }, () => rng.uniform());

    scratch.y.set(y);
    const gradient = new Float64Array(params.length);
    const cost = backprop(arch, params, x, 0, gradient, scratch);
    const baseSigns = zSigns(scratch);

    // the returned cost is cost.value of the output
    const check = createScratch(c.sizes);
    expect(cost).toBe(arch.cost.value(feedforward(arch, params, x, 0, check), y));

    let flips = 0;
    const costAt = (i: number, delta: number): number => {
      const original = params[i]!;
      params[i] = original + delta;
      const c2 = arch.cost.value(feedforward(arch, params, x, 0, check), y);
      if (zSigns(check) !== baseSigns) flips++;
      params[i] = original;
      return c2;
    };

    let worst = 0;
    let worstAt = -1;
    for (let i = 0; i < params.length; i++) {
      // five-point central stencil: [8(C(θ+h) − C(θ−h)) − (C(θ+2h) − C(θ−2h))] / 12h
      const numeric = (8 * (costAt(i, H) - costAt(i, -H)) - (costAt(i, 2 * H) - costAt(i, -2 * H))) / (12 * H);
      const err = robustRelativeError(gradient[i]!, numeric);
      if (err > worst) {
        worst = err;
        worstAt = i;
      }
    }
    expect(flips).toBe(0);
    expect(worst, `worst at parameter ${worstAt}: backprop ${gradient[worstAt]}`).toBeLessThan(TOLERANCE);

    // the check is not vacuous: every layer's weights get a non-zero gradient
    const g = new Network(net.spec, gradient);
    for (let l = 0; l < g.layerCount; l++) {
      expect(g.weights(l).some((v) => v !== 0), `layer ${l} weights`).toBe(true);
    }
  });
});

/** σ'(z) written out from z alone, independently of the activation module. */
function derivative(name: ActivationName, z: number): number {
  switch (name) {
    case "sigmoid": {
      const s = 1 / (1 + Math.exp(-z));
      return s * (1 - s);
    }
    case "tanh":
      return 1 - Math.tanh(z) ** 2;
    case "relu":
      return z > 0 ? 1 : 0;
    case "identity":
      return 1;
    case "softmax":
      throw new Error("softmax is not elementwise: test/softmax.test.ts checks it");
  }
}

describe("BP1–BP4 term by term", () => {
  const relClose = (actual: number, expected: number) =>
    Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected));

  it.each(
    ACTIVATIONS.flatMap((activation) =>
      (["quadratic", "cross-entropy", "log-likelihood"] as const).map((cost) => [activation, cost] as const),
    ),
  )("%s hidden, %s cost", (activation, costName) => {
    const sizes = [3, 6, 6, 2];
    const outputActivation = costName === "cross-entropy" ? "sigmoid" : costName === "log-likelihood" ? "softmax" : activation;
    const net = Network.create(sizes, { seed: 7, dtype: "float64", activation, outputActivation, cost: costName });
    const scratch = createScratch(sizes);
    const rng = new Rng(77);
    const x = Float64Array.from({ length: 3 }, () => rng.uniform() * 2 - 1);
    scratch.y.set([1, 0]);
    const gradient = new Float64Array(net.params.length);
    backprop(net.architecture, net.params, x, 0, gradient, scratch);
    expect(gradient.some((v) => v !== 0)).toBe(true);
    const grad = new Network(net.spec, gradient);
    const last = sizes.length - 2;
    let compared = 0;

    // BP1: δ^L = (a − y) ⊙ σ'(z^L) for quadratic; a − y for cross-entropy with a sigmoid output and
    // for log-likelihood with a softmax one (y is one-hot here)
    const zL = scratch.z[last]!;
    const aL = scratch.a[last]!;
    for (let j = 0; j < zL.length; j++) {
      const dCda = aL[j]! - scratch.y[j]!;
      const expected = costName === "quadratic" ? dCda * derivative(outputActivation, zL[j]!) : dCda;
      expect(relClose(scratch.delta[last]![j]!, expected), `BP1 δ^L_${j}`).toBe(true);
      compared++;
    }

    for (let l = last; l >= 0; l--) {
      const delta = scratch.delta[l]!;
      const prev = l === 0 ? x : scratch.a[l - 1]!;
      // BP3: ∂C/∂b^l_j = δ^l_j (exactly: the gradient started at zero)
      expect(Array.from(grad.biases(l))).toEqual(Array.from(delta));
      // BP4: ∂C/∂w^l_jk = a^(l−1)_k δ^l_j
      const w = grad.weights(l);
      for (let j = 0; j < delta.length; j++) {
        for (let k = 0; k < prev.length; k++) {
          // (+ 0 turns −0 into 0: a zero δ_j skips the row, leaving +0 where δ_j·a_k would be −0)
          expect(w[j * prev.length + k]! + 0).toBe(delta[j]! * prev[k]! + 0);
          compared++;
        }
      }
      if (l === 0) continue;
      // BP2: δ^(l−1) = ((w^l)^T δ^l) ⊙ σ'(z^(l−1))
      const weights = net.weights(l);
      const below = scratch.delta[l - 1]!;
      for (let k = 0; k < below.length; k++) {
        let sum = 0;
        for (let j = 0; j < delta.length; j++) sum += weights[j * below.length + k]! * delta[j]!;
        expect(relClose(below[k]!, sum * derivative(activation, scratch.z[l - 1]![k]!)), `BP2 δ^${l - 1}_${k}`).toBe(true);
        compared++;
      }
    }
    expect(compared).toBe(2 + 66 + 12);
  });
});

describe("backprop accumulates", () => {
  const sizes = [3, 6, 6, 2];
  const net = Network.create(sizes, { seed: 3, dtype: "float64", activation: "tanh", outputActivation: "sigmoid", cost: "cross-entropy" });
  const inputs = Float64Array.of(0.1, -0.7, 0.4, 0.9, 0.2, -0.3); // two examples of 3 inputs
  const targets = [Float64Array.of(1, 0), Float64Array.of(0, 1)];

  function gradientOf(examples: number[]): { gradient: Float64Array; costs: number[] } {
    const scratch = createScratch(sizes);
    const gradient = new Float64Array(net.params.length);
    const costs = examples.map((e) => {
      scratch.y.set(targets[e]!);
      return backprop(net.architecture, net.params, inputs, e * 3, gradient, scratch);
    });
    return { gradient, costs };
  }

  it("adds each example's gradient into the buffer (g(0) then g(1) = g(0) + g(1))", () => {
    const g0 = gradientOf([0]).gradient;
    const g1 = gradientOf([1]).gradient;
    const both = gradientOf([0, 1]);
    expect(g0.some((v, i) => v !== g1[i])).toBe(true);
    // each entry receives one += per example, so the sum is bit-exact
    expect(Array.from(both.gradient)).toEqual(Array.from(g0, (v, i) => v + g1[i]!));
    expect(both.costs).toEqual([gradientOf([0]).costs[0], gradientOf([1]).costs[0]]);
  });

  it("the same example twice doubles the gradient, and does not read the buffer's old contents", () => {
    const once = gradientOf([0]).gradient;
    const twice = gradientOf([0, 0]).gradient;
    expect(Array.from(twice)).toEqual(Array.from(once, (v) => 2 * v));
    // starting from a non-zero buffer just offsets the result
    const scratch = createScratch(sizes);
    scratch.y.set(targets[0]!);
    const offset = new Float64Array(net.params.length).fill(0.5);
    backprop(net.architecture, net.params, inputs, 0, offset, scratch);
    expect(Array.from(offset)).toEqual(Array.from(once, (v) => 0.5 + v));
  });
});

describe("hand-computed cases pin the formulas of the notes", () => {
  function handNet(sizes: number[], params: number[], cost: NetworkSpec["cost"]): Network {
    const spec: NetworkSpec = { sizes, activation: "sigmoid", outputActivation: "sigmoid", cost, dtype: "float64" };
    return new Network(spec, Float64Array.from(params));
  }
  function run(net: Network, x: number[], y: number[]) {
    const scratch = createScratch(net.sizes);
    scratch.y.set(y);
    const gradient = new Float64Array(net.params.length);
    const cost = backprop(net.architecture, net.params, Float64Array.from(x), 0, gradient, scratch);
    return { cost, gradient, output: scratch.a[scratch.a.length - 1]![0]! };
  }

  // one sigmoid neuron, w = 0.5, b = −0.25, x = 2, y = 1: z = 0.75, a = σ(0.75) = 0.679178699175393
  it("1-1 sigmoid, quadratic: ∂C/∂w = (a − y) σ'(z) x, ∂C/∂b = (a − y) σ'(z)", () => {
    const { cost, gradient, output } = run(handNet([1, 1], [0.5, -0.25], "quadratic"), [2], [1]);
    expect(output).toBeCloseTo(0.679178699175393, 15);
    expect(cost).toBeCloseTo(0.0514631535313965, 15); // ½(a − y)²
    expect(gradient[0]).toBeCloseTo(-0.13981071068366963, 15);
    expect(gradient[1]).toBeCloseTo(-0.06990535534183481, 15);
  });

  it("1-1 sigmoid, cross-entropy: σ' cancels, ∂C/∂w = (a − y) x, ∂C/∂b = a − y", () => {
    const { cost, gradient } = run(handNet([1, 1], [0.5, -0.25], "cross-entropy"), [2], [1]);
    expect(cost).toBeCloseTo(0.38687100611489994, 15); // −ln a
    expect(gradient[0]).toBeCloseTo(-0.641642601649214, 15);
    expect(gradient[1]).toBeCloseTo(-0.320821300824607, 15);
  });

  // w¹ = 0.8, b¹ = 0.1, w² = −1.5, b² = 0.3, x = 0.5, y = 0:
  // δ² = (a² − y) σ'(z²), δ¹ = w² δ² σ'(z¹) (BP2), ∂C/∂w¹ = δ¹ x, ∂C/∂w² = δ² a¹
  it("1-1-1 sigmoid, quadratic: BP2 through one hidden neuron", () => {
    const { cost, gradient, output } = run(handNet([1, 1, 1], [0.8, 0.1, -1.5, 0.3], "quadratic"), [0.5], [0]);
    expect(output).toBeCloseTo(0.34667454020673716, 15);
    expect(cost).toBeCloseTo(0.06009161841377631, 15);
    expect(gradient[0]).toBeCloseTo(-0.013839151549163457, 15); // ∂C/∂w¹
    expect(gradient[1]).toBeCloseTo(-0.027678303098326914, 15); // ∂C/∂b¹
    expect(gradient[2]).toBeCloseTo(0.04887474010228251, 15); // ∂C/∂w²
    expect(gradient[3]).toBeCloseTo(0.07851876845980342, 15); // ∂C/∂b²
  });
});
