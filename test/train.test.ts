import { describe, expect, it } from "vitest";
import { AbortError, createDataset, Network, train, ValidationError, type EpochReport, type Progress } from "../src/index.js";
import { someDigits } from "./fixtures/digits.js";

const xor = createDataset({ inputs: [[0, 0], [0, 1], [1, 0], [1, 1]], labels: [0, 1, 1, 0], classes: 2 });

describe("training", () => {
  it("learns XOR, in process and on threads", async () => {
    for (const threads of [0, 2]) {
      const net = Network.create([2, 4, 2], { seed: 3 });
      const result = await train(net, xor, { epochs: 2000, miniBatchSize: 4, eta: 3, seed: 1, threads, testData: xor });
      expect(net.evaluate(xor)).toEqual({ correct: 4, total: 4, accuracy: 1 });
      expect(result.epochs.at(-1)!.cost).toBeLessThan(0.01);
      expect(result.epochs[0]!.cost).toBeGreaterThan(result.epochs.at(-1)!.cost);
    }
  });

  it("reports every epoch, with test accuracy when testData is given", async () => {
    const { train: data, test } = await someDigits(200, 100);
    const reports: EpochReport[] = [];
    const net = Network.create([784, 30, 10], { seed: 2 });
    const result = await train(net, data, {
      epochs: 3, miniBatchSize: 10, eta: 3, seed: 5, threads: 2, testData: test, onEpoch: (r) => void reports.push(r),
    });
    expect(reports.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(result.epochs).toEqual(reports);
    expect(result).toMatchObject({ seed: 5, threads: 2 });
    for (const r of reports) {
      expect(r.cost).toBeGreaterThan(0);
      expect(r.examplesPerSecond).toBeGreaterThan(0);
      expect(r.seconds).toBeGreaterThan(0);
      expect(r.correct).toBe(Math.round(r.accuracy! * 100));
    }
    expect(reports.at(-1)!.correct).toBe(net.evaluate(test).correct);
  });

  for (const threads of [0, 2]) {
    it(`threads ${threads}: reports progress within epochs, at a bounded rate`, async () => {
      const { train: data } = await someDigits(8000);
      // wide enough that an epoch lasts several progress intervals (100 ms), also on warm threads
      const net = Network.create([784, threads === 0 ? 100 : 400, 10], { seed: 1 });
      const calls: Progress[] = [];
      const started = performance.now();
      const result = await train(net, data, {
        epochs: 2, miniBatchSize: 10, eta: 3, threads, onProgress: (p) => void calls.push({ ...p }),
      });
      const elapsed = performance.now() - started;
      expect(calls.length).toBeGreaterThan(0); // an epoch on 8,000 digits takes well over 100 ms
      expect(calls.length).toBeLessThanOrEqual(elapsed / 100 + 2);
      for (const [i, p] of calls.entries()) {
        expect(p.examples).toBe(8000);
        expect(p.examplesDone).toBeGreaterThanOrEqual(0);
        expect(p.examplesDone).toBeLessThanOrEqual(8000);
        expect([1, 2]).toContain(p.epoch);
        const before = calls[i - 1];
        if (before && before.epoch === p.epoch) expect(p.examplesDone).toBeGreaterThanOrEqual(before.examplesDone);
      }
      const phases = result.epochs[0]!.phases;
      if (threads === 0) expect(phases).toBeUndefined();
      else {
        expect(phases!.compute).toBeGreaterThan(0);
        expect(phases!.synchronisation).toBeGreaterThanOrEqual(0);
        expect(phases!.update).toBeGreaterThan(0);
        expect(phases!.compute + phases!.synchronisation + phases!.update).toBeLessThanOrEqual(result.epochs[0]!.seconds * 1.05);
      }
    });
  }

  it("a short last batch steps with η/len(batch), as network.py does", async () => {
    // One example in a batch of up to 10 must take the same step as a batch of exactly 1.
    const one = createDataset({ inputs: [[0.5, -1]], labels: [1], classes: 2 });
    const a = Network.create([2, 3, 2], { seed: 4, dtype: "float64" });
    const b = a.clone();
    await train(a, one, { epochs: 1, miniBatchSize: 10, eta: 2, threads: 0 });
    await train(b, one, { epochs: 1, miniBatchSize: 1, eta: 2, threads: 0 });
    expect(Array.from(a.params)).toEqual(Array.from(b.params));
  });

  it("shuffle: false keeps the data order, so the seed does not matter", async () => {
    const { train: data } = await someDigits(100);
    const runs = await Promise.all(
      [1, 2].map(async (seed) => {
        const net = Network.create([784, 10, 10], { seed: 1 });
        await train(net, data, { epochs: 1, miniBatchSize: 10, eta: 3, seed, shuffle: false, threads: 0 });
        return net.params;
      }),
    );
    expect(Array.from(runs[0]!)).toEqual(Array.from(runs[1]!));
  });

  it("uses the seed it reports when none is given", async () => {
    const net = Network.create([2, 2, 2], { seed: 1 });
    const result = await train(net, xor, { epochs: 1, miniBatchSize: 2, eta: 1, threads: 0 });
    const again = Network.create([2, 2, 2], { seed: 1 });
    await train(again, xor, { epochs: 1, miniBatchSize: 2, eta: 1, threads: 0, seed: result.seed });
    expect(Array.from(again.params)).toEqual(Array.from(net.params));
  });
});

describe("abort", () => {
  for (const threads of [0, 2]) {
    it(`threads ${threads}: aborting after epoch 1 rejects with AbortError and keeps epoch 1's weights`, async () => {
      const { train: data } = await someDigits(200);
      const controller = new AbortController();
      const net = Network.create([784, 20, 10], { seed: 1, dtype: "float64" });
      const run = train(net, data, {
        epochs: 3, miniBatchSize: 10, eta: 3, seed: 9, threads, signal: controller.signal, onEpoch: () => controller.abort(),
      });
      await expect(run).rejects.toBeInstanceOf(AbortError);
      const reference = Network.create([784, 20, 10], { seed: 1, dtype: "float64" });
      await train(reference, data, { epochs: 1, miniBatchSize: 10, eta: 3, seed: 9, threads });
      expect(Array.from(net.params)).toEqual(Array.from(reference.params));
    });

    it(`threads ${threads}: an abort during an epoch stops between mini-batches`, async () => {
      const { train: data } = await someDigits(8000);
      const controller = new AbortController();
      const net = Network.create([784, 30, 10], { seed: 1 });
      const before = net.params.slice();
      const started = performance.now();
      setTimeout(() => controller.abort(new Error("enough")), 100);
      const error = await train(net, data, { epochs: 30, miniBatchSize: 10, eta: 3, threads, signal: controller.signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AbortError);
      expect((error as AbortError).cause).toEqual(new Error("enough"));
      expect(performance.now() - started).toBeLessThan(5000); // 30 epochs would take far longer
      expect(net.params.every(Number.isFinite)).toBe(true);
      expect(Array.from(net.params)).not.toEqual(Array.from(before)); // the completed steps are kept
    });
  }

  it("an already-aborted signal rejects before any work", async () => {
    const net = Network.create([2, 2, 2], { seed: 1 });
    const before = Array.from(net.params);
    await expect(train(net, xor, { epochs: 1, miniBatchSize: 1, eta: 1, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    expect(Array.from(net.params)).toEqual(before);
  });
});

describe("invalid options are rejected before any thread starts", () => {
  const net = Network.create([2, 2, 2], { seed: 1 });
  const good = { epochs: 1, miniBatchSize: 1, eta: 1, threads: 2 };
  const cases: [string, Record<string, unknown>, string][] = [
    ["eta 0", { eta: 0 }, "eta must be a positive finite number, got 0"],
    ["eta negative", { eta: -1 }, "eta must be a positive finite number, got -1"],
    ["eta NaN", { eta: NaN }, "eta must be a positive finite number, got NaN"],
    ["batch size 0", { miniBatchSize: 0 }, "miniBatchSize must be a positive integer, got 0"],
    ["batch size 2.5", { miniBatchSize: 2.5 }, "miniBatchSize must be a positive integer, got 2.5"],
    ["epochs missing", { epochs: undefined }, "epochs must be a positive integer, got undefined"],
    ["threads -1", { threads: -1 }, "threads must be an integer ≥ 0, got -1"],
    ["threads 'many'", { threads: "many" }, 'threads must be an integer ≥ 0, got "many"'],
    ["seed -3", { seed: -3 }, "seed must be an integer ≥ 0, got -3"],
    ["shuffle 'yes'", { shuffle: "yes" }, 'shuffle must be true or false, got "yes"'],
    [
      "a misspelt option",
      { minibatchSize: 5 },
      'unknown train option "minibatchSize" (did you mean miniBatchSize?); known: epochs, miniBatchSize, eta, lambda, momentum, dropout, seed, shuffle, threads, pool, ' +
        "kernel, parallelism, testData, validationData, etaSchedule, earlyStopping, monitor, onEpoch, onProgress, signal, checkpoint, resume",
    ],
  ];
  for (const [what, change, message] of cases) {
    it(what, async () => {
      const error = await train(net, xor, { ...good, ...change } as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toBe(message);
    });
  }

  it("training data that does not fit the network", async () => {
    const wide = createDataset({ inputs: [[1, 2, 3]], labels: [0], classes: 2 });
    await expect(train(net, wide, good)).rejects.toThrow("training data has 3 inputs per example, the network expects 2");
    const many = createDataset({ inputs: [[1, 2]], labels: [4], classes: 5 });
    await expect(train(net, many, good)).rejects.toThrow("training data has 5 classes, the network has 2 outputs");
  });

  it("test data with a NaN names the example", async () => {
    const bad = createDataset({ inputs: [[0, 0], [0, 1]], labels: [0, 1], classes: 2 });
    bad.inputs[3] = NaN;
    await expect(train(net, xor, { ...good, testData: bad })).rejects.toThrow("testData: input 1 of example 1 is NaN, expected a finite number");
  });

  it("a label out of range names the example", async () => {
    const bad = createDataset({ inputs: [[0, 0], [0, 1], [1, 0], [1, 1]], labels: [0, 1, 1, 0], classes: 2 });
    (bad.targets as { labels: Int32Array }).labels[3] = 11;
    await expect(train(net, bad, good)).rejects.toThrow("training data: label 11 out of range 0..1 at example 3");
  });
});
