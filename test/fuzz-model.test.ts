/**
 * Property tests of the model and checkpoint readers (fromModelJson, loadNetwork, loadModel,
 * loadCheckpoint). Random networks must survive the save format exactly; damaged files — a value
 * anywhere replaced by NaN, ±Infinity, a string, null, an array, an out-of-range number; keys and
 * array entries removed or repeated; the text truncated or its bytes overwritten — and random JSON
 * shapes must either load to exactly what the file says (checked value by value) or fail with a
 * ModelFileError: never another error, never a network of another shape, never a non-finite weight.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  fromModelJson,
  loadCheckpoint,
  loadModel,
  ModelFileError,
  Network,
  parseModel,
  saveCheckpoint,
  toModelJson,
  type ActivationName,
  type Checkpoint,
  type CostName,
  type DType,
  type ParsedModel,
} from "../src/index.js";
import { expectClearError, fuzzSettings, memory, MiB, outcomeOf, settled } from "./fixtures/fuzz-helpers.js";

const dir = mkdtempSync(path.join(tmpdir(), "shoal-fuzz-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function write(text: string | Uint8Array): string {
  const file = path.join(dir, `m${fileNo++}.json`);
  writeFileSync(file, text);
  return file;
}

const activations: ActivationName[] = ["sigmoid", "tanh", "relu", "identity"];
const costFileNames: Record<string, CostName> = { QuadraticCost: "quadratic", CrossEntropyCost: "cross-entropy", LogLikelihoodCost: "log-likelihood" };

/** A random small network of any kind the format can hold. */
const network: fc.Arbitrary<Network> = fc
  .record({
    sizes: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 4 }),
    dtype: fc.constantFrom<DType>("float32", "float64"),
    activation: fc.constantFrom(...activations),
    outputActivation: fc.constantFrom(...activations),
    cost: fc.constantFrom<CostName>("quadratic", "cross-entropy", "log-likelihood"),
    init: fc.constantFrom("gaussian" as const, "scaled-gaussian" as const),
    seed: fc.nat(),
  })
  .map(({ sizes, cost, outputActivation, ...options }) => {
    // cross-entropy needs a sigmoid output; log-likelihood a softmax one, over at least 2 outputs
    if (cost === "log-likelihood") return Network.create([...sizes.slice(0, -1), Math.max(2, sizes.at(-1)!)], { ...options, cost, outputActivation: "softmax" });
    return Network.create(sizes, { ...options, cost, outputActivation: cost === "cross-entropy" ? "sigmoid" : outputActivation });
  });

const metadata = fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), { nil: undefined });

/** Values that do not belong in a model file, or only just do. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, null, undefined, true, false, "", "1", "NaN", "0.5", -0, 0, 1, -1, 1.5, 2 ** 53, 3.5e38, -1e300, 1e-46),
  fc.constantFrom([], {}, [[]], [1], [[1]], [[1, 2]], [null], { 0: 1 }),
  fc.double(),
  fc.string({ maxLength: 5 }),
  fc.jsonValue({ maxDepth: 2 }),
);
/**
 * What may replace a layer size. Sizes are checked to be positive integers, but nothing bounds their
 * product: huge sizes have their own regression test at the end of this file, so here a size stays small.
 */
const sizeJunk: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -3, max: 64 }),
  fc.constantFrom(NaN, Infinity, null, "3", 1.5, -0, [], {}, true),
);

/** A path to a node of a JSON tree: the keys and indices from the root. */
type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

type Edit = { kind: "replace"; by: unknown; sizeBy: unknown } | { kind: "remove" } | { kind: "repeat" } | { kind: "add key"; key: string; by: unknown };
const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("replace" as const), by: junk, sizeBy: sizeJunk }) },
  fc.constant({ kind: "remove" as const }),
  fc.constant({ kind: "repeat" as const }),
  fc.record({ kind: fc.constant("add key" as const), key: fc.constantFrom("format", "version", "dtype", "activation", "metadata", "init", "extra"), by: junk }),
);

/** A deep copy of `tree` with one edit at the path chosen by `pick`. */
function applyEdit(tree: unknown, pick: number, e: Edit): unknown {
  const root = structuredClone(tree) as Record<string, unknown>;
  const paths = pathsOf(root).slice(1); // not the root itself
  const at = paths[pick % paths.length]!;
  const parent = at.slice(0, -1).reduce<any>((node, key) => node[key], root);
  const key = at[at.length - 1]!;
  const inSizes = at[0] === "sizes";
  switch (e.kind) {
    case "replace":
      parent[key] = inSizes && at.length === 2 ? e.sizeBy : inSizes ? [e.sizeBy] : e.by;
      break;
    case "remove":
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case "repeat":
      if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(parent[key as number]));
      else parent[key] = [parent[key]];
      break;
    case "add key":
      if (typeof parent[key] === "object" && parent[key] !== null && !Array.isArray(parent[key])) parent[key][e.key] = e.by;
      else root[e.key] = e.by;
      break;
  }
  return root;
}

/**
 * A model read from `file` must be exactly what the file says: its spec with network2.py's defaults,
 * and every weight and bias the file's number, rounded to the dtype.
 */
function expectMatchesFile(parsed: ParsedModel, file: any): void {
  const { network: net } = parsed;
  expect(net.sizes).toEqual(file.sizes);
  const dtype = file.dtype ?? "float64";
  const activation = file.activation ?? "sigmoid";
  expect(net.spec).toEqual({
    sizes: file.sizes, dtype, activation, outputActivation: file.outputActivation ?? activation, cost: costFileNames[file.cost],
    ...(file.init !== undefined && { init: file.init }),
  });
  if ("format" in file || "version" in file) {
    expect(file.format).toBe("shoal-model");
    expect([1, 2]).toContain(file.version);
  }
  expect(net.params.length).toBe(net.architecture.layout.paramCount);
  expect(net.params.every(Number.isFinite)).toBe(true);
  const cast = dtype === "float32" ? Math.fround : (v: number) => v;
  for (let l = 0; l < net.layerCount; l++) {
    const cols = net.sizes[l]!;
    const w = net.weights(l);
    const b = net.biases(l);
    expect(file.weights[l]).toHaveLength(net.sizes[l + 1]!);
    expect(file.biases[l]).toHaveLength(net.sizes[l + 1]!);
    for (let j = 0; j < net.sizes[l + 1]!; j++) {
      expect(file.weights[l][j]).toHaveLength(cols);
      for (let k = 0; k < cols; k++) expect(Object.is(w[j * cols + k], cast(file.weights[l][j][k]))).toBe(true);
      expect(file.biases[l][j]).toHaveLength(1);
      expect(Object.is(b[j], cast(file.biases[l][j][0]))).toBe(true);
    }
  }
  expect(file.weights).toHaveLength(net.layerCount);
  expect(parsed.metadata).toEqual(file.metadata);
}

/** The bytes of a parameter vector. */
const bytesOf = (net: Network): Buffer => Buffer.from(net.params.buffer, net.params.byteOffset, net.params.byteLength);

describe("model files (fast-check)", () => {
  it("any network (sizes, activations, cost, dtype) and metadata survive toModelJson → JSON → fromModelJson exactly", () => {
    fc.assert(
      fc.property(network, metadata, (net, meta) => {
        const json = JSON.parse(JSON.stringify(toModelJson(net, meta)));
        const back = parseModel(json, "fuzz");
        expect(back.network.spec).toEqual(net.spec);
        expect(bytesOf(back.network).equals(bytesOf(net))).toBe(true);
        expect(back.metadata).toEqual(meta === undefined ? undefined : JSON.parse(JSON.stringify(meta)));
      }),
      fuzzSettings(300),
    );
  });

  it("one edit anywhere in a model (in memory: NaN, ±Infinity, -0 allowed): exactly the edited model, or a ModelFileError", () => {
    fc.assert(
      fc.property(network, metadata, fc.nat(), edit, (net, meta, pick, e) => {
        const damaged = applyEdit(toModelJson(net, meta), pick, e);
        const got = outcomeOf(() => parseModel(damaged, "fuzz.json"));
        if ("error" in got) {
          expectClearError(got.error);
          expect(got.error).toBeInstanceOf(ModelFileError);
          expect((got.error as Error).message).toMatch(/^fuzz\.json: /);
          return;
        }
        expectMatchesFile(got.value, damaged);
      }),
      fuzzSettings(600),
    );
  });

  it("one edit, then saved as JSON text and loaded from the file: exactly the edited model, or a ModelFileError", async () => {
    await fc.assert(
      fc.asyncProperty(network, fc.nat(), edit, async (net, pick, e) => {
        const text = JSON.stringify(applyEdit(toModelJson(net), pick, e));
        const file = write(text);
        const got = await settled(loadModel(file));
        if ("error" in got) {
          expectClearError(got.error);
          expect(got.error).toBeInstanceOf(ModelFileError);
          return;
        }
        expectMatchesFile(got.value, JSON.parse(text)); // what the file says after JSON (NaN → null, -0 → 0)
      }),
      fuzzSettings(300),
    );
  });

  it("truncated text or overwritten bytes: a ModelFileError, or exactly what the damaged file still says", async () => {
    const damage = fc.oneof(
      fc.record({ truncate: fc.nat() }),
      fc.record({ overwrite: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 3 }) }),
      fc.record({ digit: fc.nat(), value: fc.constantFrom(..."0123456789-.e+") }),
    );
    await fc.assert(
      fc.asyncProperty(network, damage, async (net, d) => {
        const bytes = Buffer.from(JSON.stringify(toModelJson(net)) + "\n");
        let damaged: Buffer;
        if ("truncate" in d) damaged = bytes.subarray(0, d.truncate % bytes.length);
        else if ("overwrite" in d) {
          damaged = Buffer.from(bytes);
          for (const { at, value } of d.overwrite) damaged[at % damaged.length] = value;
        } else {
          // change one character of a number: the file stays JSON more often
          damaged = Buffer.from(bytes);
          const digits = [...damaged.keys()].filter((i) => /[0-9]/.test(String.fromCharCode(damaged[i]!)));
          damaged[digits[d.digit % digits.length]!] = d.value.charCodeAt(0);
        }
        const file = write(damaged);
        const got = await settled(loadModel(file));
        let parsed: unknown;
        try {
          parsed = JSON.parse(damaged.toString("utf8"));
        } catch {
          parsed = undefined; // not JSON any more: must be an error
        }
        if ("error" in got) {
          expectClearError(got.error);
          expect(got.error).toBeInstanceOf(ModelFileError);
          return;
        }
        expect(parsed).toBeDefined();
        expectMatchesFile(got.value, parsed);
      }),
      fuzzSettings(300),
    );
  });

  it("random JSON shapes: a ModelFileError, or exactly the model they describe", () => {
    const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> => fc.oneof({ weight: 3, arbitrary: a }, { weight: 1, arbitrary: junk });
    const matrix = fc.array(fc.array(maybe(fc.double({ noNaN: true, min: -10, max: 10 })), { maxLength: 3 }), { maxLength: 3 });
    const shaped = fc.record(
      {
        format: maybe(fc.constant("shoal-model")),
        version: maybe(fc.constantFrom(1, 2)),
        sizes: fc.oneof(fc.array(sizeJunk, { maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 3 })),
        weights: maybe(fc.array(matrix, { maxLength: 3 })),
        biases: maybe(fc.array(matrix, { maxLength: 3 })),
        cost: maybe(fc.constantFrom("QuadraticCost", "CrossEntropyCost", "quadratic", "toString", "__proto__")),
        activation: maybe(fc.constantFrom(...activations, "constructor", "hasOwnProperty")),
        outputActivation: maybe(fc.constantFrom(...activations)),
        dtype: maybe(fc.constantFrom("float32", "float64", "int8")),
        metadata: maybe(fc.object({ maxDepth: 1 })),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(shaped, fc.anything({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 })), (value) => {
        const got = outcomeOf(() => parseModel(value, "shape"));
        if ("error" in got) {
          expectClearError(got.error);
          expect(got.error).toBeInstanceOf(ModelFileError);
          return;
        }
        expectMatchesFile(got.value, value);
      }),
      fuzzSettings(1000),
    );
  });

  // Was a bug found by this fuzzing (now fixed): parseModel allocates the parameter vector from `sizes` before it
  // checks that `weights` and `biases` have those shapes, so a file of a few dozen bytes can allocate
  // gigabytes, or crash with a RangeError. Shapes are now checked first.
  it("regression: a tiny model file with huge sizes is a ModelFileError, without allocating for those sizes", () => {
    const crash = outcomeOf(() => fromModelJson({ sizes: [100_000, 100_000], weights: [], biases: [], cost: "QuadraticCost" }));
    expect("error" in crash && crash.error).toBeInstanceOf(ModelFileError); // now: RangeError: Invalid typed array length
    const before = memory();
    const big = outcomeOf(() => fromModelJson({ sizes: [4000, 4000], weights: [], biases: [], cost: "QuadraticCost" }));
    expect("error" in big && big.error).toBeInstanceOf(ModelFileError);
    expect(memory().arrayBuffers - before.arrayBuffers).toBeLessThan(32 * MiB); // now: 122 MiB for a 70-byte file
  });
});

describe("checkpoint files (fast-check)", () => {
  const checkpoint: fc.Arbitrary<Checkpoint> = fc
    .record({
      net: network,
      epoch: fc.nat({ max: 5 }),
      seed: fc.nat(),
      rngState: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 4, maxLength: 4 }),
      order: fc.integer({ min: 1, max: 6 }).chain((n) => fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n })),
      options: fc.record({
        epochs: fc.integer({ min: 5, max: 9 }),
        miniBatchSize: fc.integer({ min: 1, max: 10 }),
        eta: fc.double({ min: 0.01, max: 10, noNaN: true }),
        shuffle: fc.boolean(),
        threads: fc.nat({ max: 4 }),
        kernel: fc.constantFrom("js" as const, "wasm" as const),
      }),
    })
    // a threads-0 run computes with the TypeScript kernel: a checkpoint saying otherwise is read as "js"
    .map(({ net, order, options, ...rest }) => ({
      network: net, order: Int32Array.from(order), options: { ...options, kernel: options.threads === 0 ? "js" as const : options.kernel }, ...rest,
    }));

  /** A checkpoint that loaded must be one that can be resumed: every field of the right kind. */
  function expectWellFormed(c: Checkpoint): void {
    expect(Number.isInteger(c.epoch) && c.epoch >= 0).toBe(true);
    expect(Number.isInteger(c.seed) && c.seed >= 0).toBe(true);
    expect(c.rngState).toHaveLength(4);
    expect(c.rngState.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)).toBe(true);
    expect([...c.order].sort((a, b) => a - b)).toEqual([...c.order.keys()]);
    const o = c.options;
    expect([o.epochs, o.miniBatchSize].every((v) => Number.isInteger(v) && v >= 1)).toBe(true);
    expect(o.eta > 0 && Number.isFinite(o.eta)).toBe(true);
    expect(typeof o.shuffle).toBe("boolean");
    expect(Number.isInteger(o.threads) && o.threads >= 0).toBe(true);
    expect(["js", "wasm"]).toContain(o.kernel);
    expect(c.network.params.every(Number.isFinite)).toBe(true);
  }

  it("saved and loaded unchanged; after one edit anywhere: a ModelFileError or a well-formed checkpoint", async () => {
    await fc.assert(
      fc.asyncProperty(checkpoint, fc.nat(), edit, fc.boolean(), async (c, pick, e, unchanged) => {
        const file = write("");
        await saveCheckpoint(file, c);
        if (unchanged) {
          const back = await loadCheckpoint(file);
          expectWellFormed(back);
          expect({ ...back, network: undefined, order: [...back.order] }).toEqual({ ...c, network: undefined, order: [...c.order] });
          expect(bytesOf(back.network).equals(bytesOf(c.network))).toBe(true);
          return;
        }
        const { readFile } = await import("node:fs/promises");
        writeFileSync(file, JSON.stringify(applyEdit(JSON.parse(await readFile(file, "utf8")), pick, e)));
        const got = await settled(loadCheckpoint(file));
        if ("error" in got) {
          expectClearError(got.error);
          expect(got.error).toBeInstanceOf(ModelFileError);
          return;
        }
        expectWellFormed(got.value);
      }),
      fuzzSettings(300),
    );
  });

  it("random JSON in a checkpoint file: a ModelFileError", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.record(
            {
              format: fc.constantFrom("shoal-checkpoint", "shoal-model"),
              version: fc.constantFrom(1, 2, "1"),
              epoch: junk,
              seed: junk,
              rngState: fc.oneof(junk, fc.array(junk, { maxLength: 4 })),
              // `options: null` has its own regression test below
              options: fc.oneof(junk, fc.object({ maxDepth: 1 })).filter((v) => v !== null),
              order: fc.oneof(junk, fc.array(junk, { maxLength: 4 })),
              model: fc.oneof(junk, fc.object({ maxDepth: 2 })),
            },
            { requiredKeys: [] },
          ),
        ),
        async (value) => {
          const got = await settled(loadCheckpoint(write(JSON.stringify(value) ?? "")));
          if (!("error" in got)) expect.fail(`loaded ${JSON.stringify(value)}`);
          expectClearError(got.error);
          expect(got.error).toBeInstanceOf(ModelFileError);
        },
      ),
      fuzzSettings(400),
    );
  });

  // Was a bug found by this fuzzing (now fixed): parseCheckpoint checks `typeof options === "object"`, which null
  // passes, then reads options.epochs: a TypeError. Fixed.
  it("regression: a checkpoint whose options are null is a ModelFileError", async () => {
    const file = write("");
    await saveCheckpoint(file, {
      network: Network.create([2, 2], { seed: 1 }), epoch: 1, seed: 1, rngState: [1, 2, 3, 4], order: Int32Array.of(1, 0),
      options: { epochs: 2, miniBatchSize: 1, eta: 1, shuffle: true, threads: 0, kernel: "js" },
    });
    const { readFile } = await import("node:fs/promises");
    writeFileSync(file, JSON.stringify({ ...JSON.parse(await readFile(file, "utf8")), options: null }));
    await expect(loadCheckpoint(file)).rejects.toBeInstanceOf(ModelFileError); // now: TypeError: Cannot read properties of null (reading 'epochs')
  });
});
