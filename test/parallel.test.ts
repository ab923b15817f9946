import { describe, expect, it, onTestFinished } from "vitest";
import { sliceDataset } from "../src/core/dataset.js";
import { createDataset, Network, train, type Dataset, type DType } from "../src/index.js";
import { planRun, type RunPlan } from "../src/train/options.js";
import { parallelEngine } from "../src/train/parallel.js";
import { TrainingPool } from "../src/parallel/pool.js";
import { someDigits } from "./fixtures/digits.js";

// The in-process path (threads: 0) is the oracle: the pooled trainer runs the same kernel, so any
// disagreement comes from splitting, barriers, the gradient sums or shared memory.
async function trained(dtype: DType, threads: number, seed = 7, miniBatchSize = 10, kernel: "auto" | "js" = "auto"): Promise<Network> {
  const { train: data } = await someDigits(300);
  const net = Network.create([784, 30, 10], { seed: 1, dtype });
  await train(net, data, { epochs: 2, miniBatchSize, eta: 3.0, seed, threads, kernel });
  return net;
}

const sameBits = (a: Network, b: Network): boolean => Buffer.from(a.params.buffer).equals(Buffer.from(b.params.buffer));

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
    it(`float64, ${threads} thread(s): bit-identical to the in-process path (each sum in example order, by one thread)`, async () => {
      const serial = await trained("float64", 0);
      const parallel = await trained("float64", threads);
      expect(sameBits(parallel, serial)).toBe(true);
      expect(maxDifference(serial.params, Network.create([784, 30, 10], { seed: 1, dtype: "float64" }).params, false)).toBeGreaterThan(0.1);
    });

    it(`float32, ${threads} thread(s): weights within 1e-4 relative of the in-process path`, async () => {
      const serial = await trained("float32", 0);
      const parallel = await trained("float32", threads);
      expect(maxDifference(serial.params, parallel.params, true)).toBeLessThan(1e-4);
    });
  }

  it("float32 on the TypeScript kernel: bit-identical to the in-process path at 1, 2 and 3 threads", async () => {
    const serial = await trained("float32", 0, 7, 10, "js");
    for (const threads of [1, 2, 3]) expect(sameBits(await trained("float32", threads, 7, 10, "js"), serial)).toBe(true);
  });

  it("a batch size that does not divide the data (short last batch) is still bit-identical", async () => {
    const serial = await trained("float64", 0, 7, 7);
    expect(sameBits(await trained("float64", 3, 7, 7), serial)).toBe(true);
  });

  it("a batch larger than the run's 256 example slots (done in chunks) is still bit-identical", async () => {
    const serial = await trained("float64", 0, 7, 300);
    expect(sameBits(await trained("float64", 2, 7, 300), serial)).toBe(true);
    expect(sameBits(await trained("float32", 3, 7, 300), await trained("float32", 1, 7, 300))).toBe(true);
  });

  it("bit-identical over a longer run (2,000 examples, 200 steps of examples claimed by whichever thread is free)", async () => {
    const { train: data } = await someDigits(2000);
    const run = async (threads: number, dtype: DType) => {
      const net = Network.create([784, 30, 10], { seed: 1, dtype });
      await train(net, data, { epochs: 1, miniBatchSize: 10, eta: 3.0, seed: 7, threads });
      return net;
    };
    expect(sameBits(await run(2, "float64"), await run(0, "float64"))).toBe(true);
    expect(sameBits(await run(2, "float32"), await run(1, "float32"))).toBe(true);
  });

  it("dense inputs (no zero to skip) on the WebAssembly kernel: the same bits at 1 and 3 threads, close to the in-process path", async () => {
    // every input of every example is non-zero: the kernel's per-step lists are as long as they get
    const inputs = Array.from({ length: 240 }, (_, i) => Array.from({ length: 50 }, (_, k) => 0.1 + ((i * 7 + k * 13) % 17) / 20));
    const data = createDataset({ inputs, labels: inputs.map((_, i) => i % 3) });
    const run = async (threads: number) => {
      const net = Network.create([50, 12, 3], { seed: 2 });
      await train(net, data, { epochs: 2, miniBatchSize: 40, eta: 1, seed: 5, threads });
      return net;
    };
    const one = await run(1);
    expect(sameBits(await run(3), one)).toBe(true);
    expect(maxDifference((await run(0)).params, one.params, true)).toBeLessThan(1e-4);
  });

  it("a batch smaller than the thread count (idle threads at a step) is still bit-identical", async () => {
    const serial = await trained("float64", 0, 7, 1);
    expect(sameBits(await trained("float64", 3, 7, 1), serial)).toBe(true);
  });
});

describe("determinism", () => {
  it("the reported epoch costs are the same numbers at 0, 2 and 3 threads (summed in example order)", async () => {
    const { train: data } = await someDigits(300);
    const costs = async (threads: number) => {
      const net = Network.create([784, 30, 10], { seed: 1, dtype: "float64" });
      const result = await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 3.0, seed: 7, threads });
      return result.epochs.map((e) => e.cost);
    };
    const serial = await costs(0);
    expect(await costs(2)).toEqual(serial);
    expect(await costs(3)).toEqual(serial);
  });

  it("the WebAssembly kernel gives the same bits at 1, 2, 3 and 4 threads", async () => {
    const one = await trained("float32", 1);
    for (const threads of [2, 3, 4]) expect(sameBits(await trained("float32", threads), one)).toBe(true);
  });

  it("same seed and threads give bit-identical weights; another seed gives different ones", async () => {
    const a = await trained("float32", 2, 11);
    const b = await trained("float32", 2, 11);
    const c = await trained("float32", 2, 12);
    expect(sameBits(a, b)).toBe(true);
    expect(sameBits(a, c)).toBe(false);
  });
});

describe("privateWeights (benchmark-only: bench/ceiling.ts, through a pool of that variant)", () => {
  const run = async (threads: number, privateWeights: boolean): Promise<Network> => {
    const { train: data } = await someDigits(300);
    const net = Network.create([784, 30, 10], { seed: 1 });
    const pool = new TrainingPool(threads, { privateWeights });
    try {
      await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 3.0, seed: 7, pool, parallelism: "examples" });
    } finally {
      await pool.close();
    }
    return net;
  };

  it("changes nothing on one thread (worker 0 always uses the shared weights)", async () => {
    expect(sameBits(await run(1, true), await run(1, false))).toBe(true);
  });

  it("on two threads, trains a different network, as documented: no update crosses between the cores", async () => {
    const real = await run(2, false);
    const probe = await run(2, true);
    expect(sameBits(probe, real)).toBe(false);
    expect(probe.params.every(Number.isFinite)).toBe(true);
  });
});

// An abort during an epoch: test/train.test.ts ("an abort during an epoch stops between mini-batches").
describe("how a threaded epoch ends (src/parallel/CONTRACT.md)", () => {
  const plan = (threads: number, data: Dataset): RunPlan =>
    planRun({ epochs: 1, miniBatchSize: 10, eta: 3, seed: 1, threads, kernel: "js" }, { sizes: [784, 10, 10], dtype: "float64", data });

  it("a replay limit is not an abort: it stops after that many steps and reads their parameters back", async () => {
    const { train: data } = await someDigits(100);
    const order = Int32Array.from({ length: data.count }, (_, i) => i);
    const limited = Network.create([784, 10, 10], { seed: 1, dtype: "float64" });
    const pool = new TrainingPool(2);
    onTestFinished(() => pool.close());
    const engine = await parallelEngine(limited, data, undefined, plan(2, data), undefined, pool);
    try {
      const outcome = await engine.runEpoch(order, 1, 3, undefined, 3);
      expect(outcome.aborted).toBe(false);
      expect(outcome.examples).toBe(30);
    } finally {
      await engine.close();
    }
    // the same three steps in process
    const serial = Network.create([784, 10, 10], { seed: 1, dtype: "float64" });
    await train(serial, sliceDataset(data, 0, 30), { epochs: 1, miniBatchSize: 10, eta: 3, shuffle: false, threads: 0 });
    expect(sameBits(limited, serial)).toBe(true);
  });
});
