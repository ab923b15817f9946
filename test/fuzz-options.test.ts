/**
 * Property tests of option validation: Network.create(sizes, options) and train(network, data,
 * options) with random option objects — every option valid, missing, of the wrong type or out of
 * range, and unknown keys (a ValidationError unless their value is undefined). Each case is judged
 * against the documented rules (`createIsValid`, `trainIsValid` below): a valid call gives a
 * correct network or run, an invalid one a ValidationError naming the problem; never a TypeError
 * or RangeError from inside.
 *
 * train() is fuzzed in two ways, so no random case trains for long: with an already-aborted
 * signal (all validation happens first, so a valid call ends in AbortError before any thread
 * starts: checked by counting the process's threads), and for real with threads 0, ≤ 2 epochs and
 * a few examples.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AbortError,
  createDataset,
  DivergenceError,
  Network,
  train,
  ValidationError,
  type ActivationName,
  type Dataset,
  type NetworkOptions,
  type TrainOptions,
} from "../src/index.js";
import { expectClearError, fuzzSettings, outcomeOf, settled } from "./fixtures/fuzz-helpers.js";

const activations: ActivationName[] = ["sigmoid", "tanh", "relu", "identity"];

/** Values of the wrong type or range for almost any option. */
const junk: fc.Arbitrary<unknown> = fc.constantFrom(null, NaN, Infinity, -Infinity, -1, 0, 0.5, 1.5, 2 ** 53 + 2, "1", "", "auto", true, false, [], {}, [2, 2], () => 1);
/** An option's value: mostly valid ones, sometimes junk, sometimes absent. */
const optionally = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> =>
  fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: junk }, { weight: 2, arbitrary: fc.constant(undefined) });

/** A random option object and, if it is a valid one with one key then replaced by junk, that key. */
interface Case {
  value: Record<string, unknown>;
  changed?: string;
  /** The valid object before `changed` was replaced. */
  base?: Record<string, unknown>;
}
/** Valid objects (each key valid or absent), valid ones with one key replaced by junk, and wild ones (any key may be anything). */
function cases(valid: fc.Arbitrary<Record<string, unknown>>, wild: fc.Arbitrary<Record<string, unknown>>, keys: readonly string[]): fc.Arbitrary<Case> {
  return fc.oneof(
    { weight: 2, arbitrary: valid.map((value) => ({ value })) },
    { weight: 3, arbitrary: fc.tuple(valid, fc.constantFrom(...keys), junk).map(([v, key, j]): Case => ({ value: { ...v, [key]: j }, changed: key, base: v })) },
    { weight: 1, arbitrary: wild.map((value) => ({ value })) },
  );
}

const isInt = (v: unknown, min: number): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= min;
/** `??` semantics: a null option means its default, as an absent one. */
const given = (v: unknown): boolean => v !== undefined && v !== null;

/** Layer sizes: valid ones, and invalid ones (bounded: huge sizes have a regression test at the end). */
const sizes: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 4 }) },
  { weight: 2, arbitrary: fc.array(fc.oneof(fc.integer({ min: -2, max: 6 }), junk), { maxLength: 4 }) },
  { weight: 1, arbitrary: junk },
);

const createKeys = ["sizes", "seed", "dtype", "activation", "outputActivation", "cost", "init"] as const;
/** `{ sizes, ...options }` of Network.create. */
const createCases = cases(
  fc.record(
    {
      sizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 4 }),
      seed: fc.oneof(fc.nat(), fc.constant(2 ** 31), fc.constant(2 ** 40 + 3)),
      dtype: fc.constantFrom("float32", "float64"),
      activation: fc.constantFrom(...activations),
      outputActivation: fc.constantFrom(...activations, "softmax"),
      cost: fc.constantFrom("quadratic", "cross-entropy", "log-likelihood"),
      init: fc.constantFrom("gaussian", "scaled-gaussian"),
    },
    { requiredKeys: ["sizes"] },
  ),
  fc.record(
    {
      sizes,
      seed: optionally(fc.oneof(fc.nat(), fc.constant(2 ** 31), fc.constant(2 ** 53))),
      dtype: optionally(fc.constantFrom("float32", "float64", "float16")),
      activation: optionally(fc.constantFrom(...activations, "softmax")),
      outputActivation: optionally(fc.constantFrom(...activations, "softmax")),
      cost: optionally(fc.constantFrom("quadratic", "cross-entropy", "log-likelihood", "QuadraticCost")),
      init: optionally(fc.constantFrom("gaussian", "scaled-gaussian", "xavier")),
      // an unknown key is a ValidationError (an unknown key whose value is undefined is ignored)
      learningRate: fc.option(fc.double(), { nil: undefined }),
    },
    { requiredKeys: ["sizes"] },
  ),
  createKeys,
);

/** No key of `o` outside `known` has a value (an unknown key set to undefined is ignored). */
const onlyKnownKeys = (o: Record<string, unknown>, known: readonly string[]): boolean =>
  Object.keys(o).every((key) => known.includes(key) || o[key] === undefined);

/** Network.create's documented rules. */
function createIsValid(s: unknown, o: Record<string, unknown>): boolean {
  const activation = o.activation ?? "sigmoid";
  const output = o.outputActivation ?? activation;
  return (
    onlyKnownKeys(o, ["seed", "dtype", "activation", "outputActivation", "cost", "init"]) &&
    Array.isArray(s) && s.length >= 2 && s.every((n) => isInt(n, 1)) &&
    (!given(o.seed) || isInt(o.seed, 0)) &&
    ["float32", "float64"].includes((o.dtype ?? "float32") as string) &&
    activations.includes(activation as ActivationName) && [...activations, "softmax"].includes(output as ActivationName) &&
    ["quadratic", "cross-entropy", "log-likelihood"].includes((o.cost ?? "quadratic") as string) &&
    (o.cost !== "cross-entropy" || output === "sigmoid") &&
    // softmax and log-likelihood only together, and softmax over at least 2 outputs
    (o.cost === "log-likelihood") === (output === "softmax") &&
    (output !== "softmax" || (s as number[])[(s as number[]).length - 1]! >= 2) &&
    ["gaussian", "scaled-gaussian"].includes((o.init ?? "gaussian") as string)
  );
}

/** OS threads of this process (Linux): a started worker thread is one more. */
const threadCount = (): number => Number(/Threads:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);

/** XOR-like examples with 2 inputs and 2 classes (or 2-vector targets). */
function tinyData(count: number, vectors: boolean): Dataset {
  const inputs = Array.from({ length: count }, (_, i) => [i % 2, (i >> 1) % 2]);
  const labels = inputs.map(([a, b]) => a! ^ b!);
  return vectors ? createDataset({ inputs, targets: labels.map((y) => [1 - y, y]) }) : createDataset({ inputs, labels, classes: 2 });
}

describe("Network.create with random sizes and options (fast-check)", () => {
  it("a network of exactly the spec asked for (finite, reproducible from its seed), or a ValidationError", () => {
    fc.assert(
      fc.property(createCases, ({ value: { sizes: s, ...o }, changed, base }) => {
        const got = outcomeOf(() => Network.create(s as number[], o as NetworkOptions));
        if (!createIsValid(s, o)) {
          if (!("error" in got)) return expect.fail(`created ${JSON.stringify(got.value.spec)} from ${JSON.stringify([s, o])}`);
          expectClearError(got.error);
          expect(got.error).toBeInstanceOf(ValidationError);
          // one bad option in otherwise valid ones: the message names it
          if (changed && base && createIsValid(base.sizes, base)) expect((got.error as Error).message.toLowerCase()).toContain(changed.toLowerCase());
          return;
        }
        if ("error" in got) throw got.error;
        const net = got.value;
        const sz = s as number[];
        const activation = (o.activation ?? "sigmoid") as string;
        expect(net.spec).toEqual({
          sizes: sz,
          dtype: o.dtype ?? "float32",
          activation,
          outputActivation: o.outputActivation ?? activation,
          cost: o.cost ?? "quadratic",
          init: o.init ?? "scaled-gaussian",
        });
        expect(net.params).toBeInstanceOf(o.dtype === "float64" ? Float64Array : Float32Array);
        expect(net.params.length).toBe(sz.slice(1).reduce((n, out, l) => n + out * (sz[l]! + 1), 0));
        expect(net.params.every(Number.isFinite)).toBe(true);
        if (given(o.seed)) expect(Network.create(sz, o as NetworkOptions).params).toEqual(net.params);
      }),
      fuzzSettings(1000),
    );
  });
});

describe("train() with random options (fast-check)", () => {
  const data = tinyData(8, false);

  const trainKeys = ["epochs", "miniBatchSize", "eta", "seed", "shuffle", "threads", "kernel", "testData", "onEpoch", "onProgress", "checkpoint", "signal"] as const;
  /** Random train options; `signal` is always an aborted signal or junk, so a valid call never trains. */
  const trainCases = cases(
    fc.record(
      {
        epochs: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(1e9)),
        miniBatchSize: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constant(2 ** 31)),
        eta: fc.oneof(fc.double({ min: 1e-6, max: 100, noNaN: true }), fc.constantFrom(1e300, Number.MIN_VALUE)),
        seed: fc.nat(),
        shuffle: fc.boolean(),
        threads: fc.oneof(fc.constant("auto"), fc.integer({ min: 0, max: 4 })),
        kernel: fc.constantFrom("auto", "js", "wasm"),
        testData: fc.constant("matching"),
        onEpoch: fc.constant(() => {}),
        onProgress: fc.constant(() => {}),
        checkpoint: fc.record({ path: fc.constant("/nonexistent/c.json"), every: fc.integer({ min: 1, max: 3 }) }, { requiredKeys: ["path"] }),
        signal: fc.constant("aborted"),
      },
      { requiredKeys: ["epochs", "miniBatchSize", "eta", "signal"] },
    ),
    fc.record(
      {
        epochs: optionally(fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(1e9))),
        miniBatchSize: optionally(fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constant(2 ** 31))),
        eta: optionally(fc.oneof(fc.double({ min: 1e-6, max: 100, noNaN: true }), fc.constantFrom(1e300, Number.MIN_VALUE))),
        seed: optionally(fc.nat()),
        shuffle: optionally(fc.boolean()),
        threads: optionally(fc.oneof(fc.constantFrom("auto"), fc.integer({ min: 0, max: 4 }))),
        kernel: optionally(fc.constantFrom("auto", "js", "wasm", "simd")),
        testData: optionally(fc.constantFrom("matching", "other input size", "more classes", "empty object")),
        onEpoch: optionally(fc.constant(() => {})),
        onProgress: optionally(fc.constant(() => {})),
        checkpoint: optionally(
          fc.record({ path: fc.oneof(fc.constant("/nonexistent/c.json"), junk), every: optionally(fc.integer({ min: 1, max: 3 })) }, { requiredKeys: [] }),
        ),
        signal: fc.constant("aborted"),
        // a typo'd or unknown option is a ValidationError (ignored only when its value is undefined)
        epoch: fc.option(fc.nat(), { nil: undefined }),
      },
      { requiredKeys: ["signal"] },
    ),
    trainKeys,
  );

  const testSets: Record<string, unknown> = {
    matching: tinyData(4, false),
    "other input size": createDataset({ inputs: [[1, 2, 3]], labels: [0] }),
    "more classes": createDataset({ inputs: [[1, 2]], labels: [2] }),
    "empty object": {},
  };

  /** The options as train() gets them: "aborted" and the test set names replaced by the real things. */
  function prepare(raw: Record<string, unknown>): Record<string, unknown> {
    const o = { ...raw };
    if (o.signal === "aborted") o.signal = AbortSignal.abort();
    if (typeof o.testData === "string" && o.testData in testSets) o.testData = testSets[o.testData];
    return o;
  }

  /** train()'s documented rules for `o`, on a float32 or float64 2-…-2 network and `data`. */
  function trainIsValid(o: Record<string, unknown>, dtype: string): boolean {
    const threads = o.threads ?? "auto";
    const kernel = o.kernel ?? "auto";
    const cp = o.checkpoint as { path?: unknown; every?: unknown } | undefined | null;
    return (
      onlyKnownKeys(o, [...trainKeys, "resume"]) &&
      isInt(o.epochs, 1) && isInt(o.miniBatchSize, 1) &&
      typeof o.eta === "number" && Number.isFinite(o.eta) && o.eta > 0 &&
      (!given(o.seed) || isInt(o.seed, 0)) &&
      (!given(o.shuffle) || typeof o.shuffle === "boolean") &&
      (threads === "auto" || (isInt(threads, 0) && (threads as number) <= 256)) &&
      ["auto", "js", "wasm"].includes(kernel as string) &&
      !(kernel === "wasm" && threads === 0) &&
      (o.onEpoch === undefined || typeof o.onEpoch === "function") &&
      (o.onProgress === undefined || typeof o.onProgress === "function") &&
      (o.signal === undefined || o.signal instanceof AbortSignal) &&
      (cp === undefined || (typeof cp === "object" && cp !== null && typeof cp.path === "string" && cp.path !== "" && (cp.every === undefined || isInt(cp.every, 1)))) &&
      (o.testData === undefined || o.testData === testSets.matching)
    );
  }

  it("validation only: a valid call ends in AbortError before any thread starts, an invalid one in a ValidationError", async () => {
    const threadsBefore = threadCount();
    await fc.assert(
      fc.asyncProperty(trainCases, fc.constantFrom("float32", "float64" as const), async ({ value: raw, changed, base }, dtype) => {
        // (signal junk is never null or undefined: that would start a real run)
        if (changed === "signal") fc.pre(raw.signal != null);
        // testData: null has a regression test at the end of this file
        if (changed === "testData") fc.pre(raw.testData !== null);
        const o = prepare(raw);
        const net = Network.create([2, 3, 2], { seed: 1, dtype });
        const before = net.params.slice();
        const got = await settled(train(net, data, o as unknown as TrainOptions));
        if (!("error" in got)) return expect.fail(`trained with ${JSON.stringify(raw)}`);
        expectClearError(got.error);
        expect(got.error).toBeInstanceOf(trainIsValid(o, dtype) ? AbortError : ValidationError);
        // one bad option in otherwise valid ones: the message names it
        if (changed && base && got.error instanceof ValidationError && trainIsValid(prepare(base), dtype)) {
          expect(got.error.message.toLowerCase()).toContain(changed.toLowerCase());
        }
        expect(net.params).toEqual(before); // nothing was trained
      }),
      fuzzSettings(1000),
    );
    expect(threadCount()).toBe(threadsBefore);
  });

  it("real runs with random valid options (threads 0, ≤ 2 epochs, ≤ 10 examples): the run asked for, reproducible, or a DivergenceError", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          hidden: fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 2 }),
          activation: fc.constantFrom(...activations),
          outputActivation: fc.constantFrom(...activations, "softmax"),
          dtype: fc.constantFrom("float32" as const, "float64" as const),
          count: fc.integer({ min: 1, max: 10 }),
          vectors: fc.boolean(),
          withTest: fc.boolean(),
        }),
        fc.record(
          {
            epochs: fc.integer({ min: 1, max: 2 }),
            miniBatchSize: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constant(2 ** 31 - 1)),
            eta: fc.oneof(fc.double({ min: 1e-3, max: 50, noNaN: true }), fc.constant(1e6)),
            seed: fc.nat(),
            shuffle: fc.boolean(),
            kernel: fc.constantFrom("auto" as const, "js" as const),
          },
          { requiredKeys: ["epochs", "miniBatchSize", "eta"] },
        ),
        async (shape, options) => {
          const trainSet = tinyData(shape.count, shape.vectors);
          const testData = shape.withTest ? tinyData(4, shape.vectors) : undefined;
          const sizes = [2, ...shape.hidden, 2];
          const cost = shape.outputActivation === "softmax" ? "log-likelihood" : undefined; // softmax's one cost
          const net = Network.create(sizes, { seed: 3, dtype: shape.dtype, activation: shape.activation, outputActivation: shape.outputActivation, cost });
          const twin = net.clone();
          const reports: number[] = [];
          const run = (n: Network, seed = options.seed) =>
            train(n, trainSet, { ...options, seed, threads: 0, testData, onEpoch: (r) => void (n === net && reports.push(r.epoch)) });
          const got = await settled(run(net));
          expect(net.params.every(Number.isFinite)).toBe(true); // also after a divergence: the last good weights
          // the seed given, or the one reported, reproduces the run bit for bit
          const seed = options.seed ?? ("value" in got ? got.value.seed : undefined);
          if (seed !== undefined) {
            const again = await settled(run(twin, seed));
            expect(Buffer.from(twin.params.buffer).equals(Buffer.from(net.params.buffer))).toBe(true);
            expect("error" in again && (again.error as Error).message).toBe("error" in got && (got.error as Error).message);
          }
          if ("error" in got) {
            expectClearError(got.error);
            expect(got.error).toBeInstanceOf(DivergenceError); // the only way a valid run may fail
            return;
          }
          const result = got.value;
          expect(result.threads).toBe(0);
          if (options.seed !== undefined) expect(result.seed).toBe(options.seed);
          expect(result.epochs.map((r) => r.epoch)).toEqual(Array.from({ length: options.epochs }, (_, i) => i + 1));
          expect(reports).toEqual(result.epochs.map((r) => r.epoch));
          for (const r of result.epochs) {
            expect(Number.isFinite(r.cost) && r.cost >= 0).toBe(true);
            if (testData) expect(r.accuracy! >= 0 && r.accuracy! <= 1 && r.correct! <= testData.count).toBe(true);
            else expect(r.accuracy).toBeUndefined();
          }
        },
      ),
      fuzzSettings(150),
    );
  });
});

describe("regressions: bugs these properties found (fixed)", () => {
  const data = tinyData(4, false);
  const aborted = { epochs: 1, miniBatchSize: 2, eta: 1, signal: AbortSignal.abort() };
  const errorOf = async (f: () => unknown): Promise<unknown> => {
    const got = await settled(Promise.resolve().then(f));
    return "error" in got ? got.error : undefined;
  };

  it("Network.create with sizes whose product is huge is a ValidationError", async () => {
    expect(await errorOf(() => Network.create([100_000, 100_000]))).toBeInstanceOf(ValidationError);
  });
  it("Network.create(sizes, null) is a ValidationError", async () => {
    expect(await errorOf(() => Network.create([2, 2], null as unknown as NetworkOptions))).toBeInstanceOf(ValidationError);
  });
  it("train(net, data, null / undefined) is a ValidationError", async () => {
    const net = Network.create([2, 2], { seed: 1 });
    expect(await errorOf(() => train(net, data, null as unknown as TrainOptions))).toBeInstanceOf(ValidationError);
    expect(await errorOf(() => train(net, data, undefined as unknown as TrainOptions))).toBeInstanceOf(ValidationError);
  });
  it("train() with a `resume` that is not a checkpoint is a ValidationError", async () => {
    const net = Network.create([2, 2], { seed: 1 });
    expect(await errorOf(() => train(net, data, { ...aborted, resume: {} as never }))).toBeInstanceOf(ValidationError);
  });
  it("train() with testData null, or a dataset with targets null, is a ValidationError", async () => {
    const net = Network.create([2, 2], { seed: 1 });
    expect(await errorOf(() => train(net, data, { ...aborted, testData: null as never }))).toBeInstanceOf(ValidationError);
    const noTargets = { count: 0, inputSize: 2, inputs: new Float32Array(0), targets: null } as unknown as Dataset;
    expect(await errorOf(() => train(net, data, { ...aborted, testData: noTargets }))).toBeInstanceOf(ValidationError);
  });
  it("train() refuses an absurd thread count up front", async () => {
    // aborted, so nothing starts: the call shows only whether validation accepted the option
    const net = Network.create([2, 2], { seed: 1 });
    expect(await errorOf(() => train(net, data, { ...aborted, threads: 1e9 }))).toBeInstanceOf(ValidationError);
  });
  it("createDataset refuses a label ≥ 2^31", async () => {
    expect(await errorOf(() => createDataset({ inputs: [[1]], labels: [2 ** 32] }))).toBeInstanceOf(ValidationError);
  });
});
