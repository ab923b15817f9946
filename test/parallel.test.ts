import { describe, expect, it } from "vitest";
import { Network, train, type DType } from "../src/index.js";
import { someDigits } from "./fixtures/digits.js";

// The in-process path (threads: 0) is the oracle: the pooled trainer runs the same kernel, so any
// disagreement comes from splitting, barriers, reduction or shared memory.
async function trained(dtype: DType, threads: number, seed = 7, miniBatchSize = 10): Promise<Network> {
  const { train: data } = await someDigits(300);
  const net = Network.create([784, 30, 10], { seed: 1, dtype });
  await train(net, data, { epochs: 2, miniBatchSize, eta: 3.0, seed, threads });
  return net;
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>, relative: boolean): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i]! - b[i]!);
    worst = Math.max(worst, relative ? diff / Math.max(1, Math.abs(a[i]!)) : diff);
  }
  return worst;
}

describe("parallel equals serial", () => {
  for (const threads of [1, 2, 3, 4]) {
    it(`float64, ${threads} thread(s): weights within 1e-10 of the in-process path`, async () => {
      const serial = await trained("float64", 0);
      const parallel = await trained("float64", threads);
      expect(maxDifference(serial.params, parallel.params, false)).toBeLessThan(1e-10);
      expect(maxDifference(serial.params, Network.create([784, 30, 10], { seed: 1, dtype: "float64" }).params, false)).toBeGreaterThan(0.1);
    });

    it(`float32, ${threads} thread(s): weights within 1e-4 relative of the in-process path`, async () => {
      const serial = await trained("float32", 0);
      const parallel = await trained("float32", threads);
      expect(maxDifference(serial.params, parallel.params, true)).toBeLessThan(1e-4);
    });
  }

  it("one thread reproduces the in-process path bit for bit (same summation order)", async () => {
    const serial = await trained("float64", 0);
    const parallel = await trained("float64", 1);
    expect(Buffer.from(parallel.params.buffer).equals(Buffer.from(serial.params.buffer))).toBe(true);
  });

  it("a batch size that does not divide the data (short last batch) still agrees", async () => {
    const serial = await trained("float64", 0, 7, 7);
    const parallel = await trained("float64", 3, 7, 7);
    expect(maxDifference(serial.params, parallel.params, false)).toBeLessThan(1e-10);
  });
});

describe("determinism", () => {
  it("same seed and threads give bit-identical weights; another seed gives different ones", async () => {
    const a = await trained("float32", 2, 11);
    const b = await trained("float32", 2, 11);
    const c = await trained("float32", 2, 12);
    expect(Buffer.from(a.params.buffer).equals(Buffer.from(b.params.buffer))).toBe(true);
    expect(Buffer.from(a.params.buffer).equals(Buffer.from(c.params.buffer))).toBe(false);
  });
});
