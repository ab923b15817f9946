/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so that initialisation and shuffling are
 * reproducible from one integer. The state is four 32-bit words and can be saved and restored.
 */
export class Rng {
  private s: Uint32Array;

  /**
   * Seeds the generator from a safe integer (|seed| < 2^53); different seeds give different
   * streams. The low 32 bits fill the state through splitmix32; bits above them, if any, are mixed
   * in by a second splitmix32 stream (so seeds below 2^32 give the streams they always gave).
   */
  constructor(seed: number) {
    const low = splitmix32(seed >>> 0);
    this.s = new Uint32Array([low(), low(), low(), low()]);
    const high = Math.trunc(seed / 2 ** 32);
    if (high !== 0) {
      const more = splitmix32((high ^ 0x6a09e667) >>> 0);
      for (let i = 0; i < 4; i++) this.s[i]! ^= more();
    }
  }

  /** The generator's state, to continue the same stream later with {@link Rng.fromState}. */
  state(): number[] {
    return Array.from(this.s);
  }

  /** A generator that continues from a saved {@link Rng.state}. */
  static fromState(state: readonly number[]): Rng {
    const rng = new Rng(0);
    rng.s = Uint32Array.from(state);
    return rng;
  }

  /** Next 32-bit unsigned integer (sfc32). */
  nextUint32(): number {
    const s = this.s;
    const a = s[0]!, b = s[1]!, c = s[2]!, d = s[3]!;
    const t = (((a + b) >>> 0) + d) >>> 0;
    s[3] = (d + 1) >>> 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) >>> 0;
    s[2] = ((c << 21) | (c >>> 11)) + t;
    return t;
  }

  /** Uniform in [0, 1), 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias. */
  below(n: number): number {
    const limit = Math.floor(0x100000000 / n) * n;
    let x: number;
    do x = this.nextUint32();
    while (x >= limit);
    return x % n;
  }

  /** Standard normal N(0, 1) by Box–Muller (one draw per call; the pair's twin is discarded so the state stays four words). */
  gaussian(): number {
    const u = 1 - this.uniform(); // (0, 1], so log(u) is finite
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** splitmix32 from state x: spreads a small seed over 32-bit words, one per call. */
function splitmix32(x: number): () => number {
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Shuffles `order` in place with Fisher–Yates, drawing from `rng`. */
export function shuffleInPlace(order: Int32Array, rng: Rng): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
}
