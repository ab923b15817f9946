import { check, show } from "./errors.js";

/**
 * Dropout (Nielsen, chapter 3), per mini-batch and with inverted scaling: for each mini-batch every
 * neuron of every hidden layer is dropped with probability p — its activation is 0 for every example
 * of the batch — and a kept neuron's activation is scaled by 1/(1 − p), so the expected input of the
 * next layer is what the whole network gives and inference needs no change. Inputs and the output
 * layer are never dropped.
 *
 * Which neurons drop is a pure function of (run seed, epoch, mini-batch, layer, neuron): a
 * counter-based hash, not a random stream. Every thread computes the same mask for itself, so the
 * bits do not depend on the thread count, and a resumed run (which knows its absolute epoch) draws
 * the masks the uninterrupted run would have.
 */

/** Refuses a dropout rate p outside [0, 1) (at 1 every hidden neuron would drop). */
export function checkDropout(p: unknown): void {
  check(typeof p === "number" && p >= 0 && p < 1, `dropout must be a number in [0, 1), got ${show(p)}`);
}

/** What a run's workers need to draw its masks: the rate p, in (0, 1), and the run's seed. */
export interface DropoutPlan {
  readonly rate: number;
  readonly seed: number;
}

/** murmur3's 32-bit finaliser: a bijection on 32-bit integers whose every output bit depends on every input bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The hash so far, mixed with one more 32-bit word. */
function mixIn(h: number, word: number): number {
  return fmix32(((h ^ word) + 0x9e3779b9) | 0);
}

/**
 * The uniform number in [0, 1) (a multiple of 2⁻³²) that decides whether neuron `neuron` (0-based)
 * of layer `layer` (the network's numbering: 1 is the first hidden layer) drops in mini-batch `step`
 * (0-based, within the epoch) of epoch `epoch` (1-based, counted from the run's start) of a run
 * with seed `seed` (an integer, up to 2⁵³). The neuron drops when it is below p.
 */
export function dropoutDraw(seed: number, epoch: number, step: number, layer: number, neuron: number): number {
  return mixIn(hashPrefix(seed, epoch, step, layer), neuron) / 0x100000000;
}

/** The hash of (seed, epoch, step, layer): what every neuron of a layer's draw in a mini-batch starts from. */
function hashPrefix(seed: number, epoch: number, step: number, layer: number): number {
  let h = mixIn(0x2545f491, seed % 0x100000000);
  h = mixIn(h, Math.floor(seed / 0x100000000));
  h = mixIn(h, epoch);
  h = mixIn(h, step);
  return mixIn(h, layer);
}

/** Whether that neuron drops at rate p (see {@link dropoutDraw}). */
export function isDropped(rate: number, seed: number, epoch: number, step: number, layer: number, neuron: number): boolean {
  return dropoutDraw(seed, epoch, step, layer, neuron) < rate;
}

/**
 * One thread's dropout state: the current mini-batch's mask, and a private copy of the example's
 * unscaled hidden activations. A kernel keeps one per thread and draws the mask before each
 * mini-batch's forward passes.
 */
export class Dropout {
  /**
   * Per hidden layer, indexed as a scratch's layers (l = 0 is the network's layer 1): c_j, 0 when
   * neuron j is dropped in this mini-batch, 1/(1 − p) when it is kept.
   */
  readonly factors: Float64Array[];
  /**
   * Per hidden layer, the example's activations σ(z_j) before the mask scaled them: BP2's σ' is
   * that of the neuron's own activation. Private to the thread (the slot's `a` holds the scaled values).
   */
  readonly unscaled: Float64Array[];
  private readonly keep: number;

  /** For a network with layer sizes `sizes`, at `plan.rate`, with `plan.seed`'s masks. */
  constructor(sizes: readonly number[], private readonly plan: DropoutPlan) {
    const hidden = sizes.slice(1, -1);
    this.factors = hidden.map((n) => new Float64Array(n));
    this.unscaled = hidden.map((n) => new Float64Array(n));
    this.keep = 1 / (1 - plan.rate);
  }

  /** Draws the mask of mini-batch `step` (0-based) of epoch `epoch` (1-based, from the run's start). */
  draw(epoch: number, step: number): void {
    const { rate, seed } = this.plan;
    for (let l = 0; l < this.factors.length; l++) {
      const c = this.factors[l]!;
      // dropoutDraw's hash up to the layer, once per layer; then one more word per neuron (the same values)
      const prefix = hashPrefix(seed, epoch, step, l + 1);
      for (let j = 0; j < c.length; j++) c[j] = mixIn(prefix, j) / 0x100000000 < rate ? 0 : this.keep;
    }
  }

  /**
   * Applies the mask to hidden layer l's activations `a` (l a scratch index) of one example: keeps
   * their unscaled values, then a_j ← a_j · c_j (rounded to `a`'s precision: a float32 view rounds
   * each product, so the bits are defined).
   */
  scale(l: number, a: Float32Array | Float64Array): void {
    const c = this.factors[l]!;
    const u = this.unscaled[l]!;
    for (let j = 0; j < c.length; j++) {
      u[j] = a[j]!;
      a[j] = a[j]! * c[j]!;
    }
  }

  /** BP2's mask on hidden layer l's δ (already ⊙ σ'(z) of the unscaled activations): δ_j ← δ_j · c_j. */
  scaleDelta(l: number, delta: Float32Array | Float64Array): void {
    const c = this.factors[l]!;
    for (let j = 0; j < c.length; j++) delta[j] = delta[j]! * c[j]!;
  }
}
