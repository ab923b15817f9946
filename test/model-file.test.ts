import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ModelFileError } from "../src/core/errors.js";
import { Network, type Params } from "../src/core/network.js";
import { writeFileAtomic } from "../src/io/atomic-write.js";
import { fromModelJson, toModelJson } from "../src/io/model-format.js";
import { loadModel, loadNetwork, saveNetwork } from "../src/io/model-file.js";

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), "shoal-model-"));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await fsp.rm(dir, { recursive: true, force: true });
});

/** The raw bytes of a parameter vector, for bit-exact comparison (NaN- and −0-safe). */
function bytes(params: Params): Uint8Array {
  return new Uint8Array(params.buffer, params.byteOffset, params.byteLength);
}

function expectSameNetwork(actual: Network, expected: Network): void {
  expect(actual.spec).toEqual(expected.spec);
  expect(actual.params.constructor).toBe(expected.params.constructor);
  expect(bytes(actual.params)).toEqual(bytes(expected.params));
}

/** A 3-2-2 model as network2.py's `Network.save` writes it: only its four keys. */
function network2File(): Record<string, unknown> {
  return {
    sizes: [3, 2, 2],
    weights: [
      [[0.1, -0.2, 0.3], [0.5, 0, -1.0]],
      [[1, -1], [2, 0.5]],
    ],
    biases: [[[0.25], [-0.5]], [[0], [0.1]]],
    cost: "QuadraticCost",
  };
}

async function tempFiles(): Promise<string[]> {
  return (await fsp.readdir(dir)).filter((name) => name.endsWith(".tmp"));
}

describe("round trip", () => {
  it("float32, 3 layers: params bit-identical, spec and metadata kept", async () => {
    const net = Network.create([5, 4, 3], { seed: 1 });
    const file = path.join(dir, "model.json");
    const metadata = { epochs: 3, eta: 3.0, history: [{ epoch: 1, accuracy: 0.5 }], note: "héllo" };
    await saveNetwork(net, file, metadata);
    const loaded = await loadModel(file);
    expectSameNetwork(loaded.network, net);
    expect(loaded.network.params).toBeInstanceOf(Float32Array);
    expect(loaded.metadata).toEqual(metadata);
  });

  it("float64, 4 layers, tanh hidden, cross-entropy: params bit-identical", async () => {
    const net = Network.create([3, 6, 6, 2], {
      seed: 7,
      dtype: "float64",
      activation: "tanh",
      outputActivation: "sigmoid",
      cost: "cross-entropy",
      init: "scaled-gaussian",
    });
    const file = path.join(dir, "model.json");
    await saveNetwork(net, file);
    const loaded = await loadModel(file);
    expectSameNetwork(loaded.network, net);
    expect(loaded.metadata).toBeUndefined();
    const input = [0.3, -1, 2];
    expect(loaded.network.feedforward(input)).toEqual(net.feedforward(input));
  });

  it("writes network2.py's shapes: weights[l][j][k] = w_jk, biases as column vectors, cost class name", () => {
    const net = Network.create([3, 4, 2], { seed: 1, dtype: "float64", cost: "cross-entropy" });
    const json = toModelJson(net);
    expect(json).toMatchObject({ format: "shoal-model", version: 2, sizes: [3, 4, 2], cost: "CrossEntropyCost", init: "scaled-gaussian" });
    expect(json.weights.map((w) => [w.length, w[0]!.length])).toEqual([[4, 3], [2, 4]]);
    for (let l = 0; l < 2; l++) {
      const cols = net.sizes[l]!;
      json.weights[l]!.forEach((row, j) => row.forEach((w, k) => expect(w).toBe(net.weights(l)[j * cols + k])));
      expect(json.biases[l]).toEqual(Array.from(net.biases(l), (b) => [b]));
    }
    // And back without touching the disk.
    expectSameNetwork(fromModelJson(JSON.parse(JSON.stringify(json))), net);
  });

  it("a 784-30-10 float32 model is a few hundred KB and loads back", async () => {
    const net = Network.create([784, 30, 10], { seed: 3 });
    const file = path.join(dir, "mnist.json");
    await saveNetwork(net, file);
    const { size } = await fsp.stat(file);
    expect(size).toBeGreaterThan(100_000);
    expect(size).toBeLessThan(600_000);
    expectSameNetwork(await loadNetwork(file), net);
  });

  it("saving again replaces the file and leaves no temp files", async () => {
    const file = path.join(dir, "model.json");
    await saveNetwork(Network.create([2, 2], { seed: 1 }), file);
    const second = Network.create([2, 3, 1], { seed: 2 });
    await saveNetwork(second, file);
    expectSameNetwork(await loadNetwork(file), second);
    expect(await fsp.readdir(dir)).toEqual(["model.json"]);
  });
});

describe("network2.py files", () => {
  it("load with sigmoid, quadratic cost and float64, and feed forward as computed by hand", async () => {
    const file = path.join(dir, "network2.json");
    await fsp.writeFile(file, JSON.stringify(network2File()));
    const net = await loadNetwork(file);
    expect(net.spec).toEqual({
      sizes: [3, 2, 2],
      activation: "sigmoid",
      outputActivation: "sigmoid",
      cost: "quadratic",
      dtype: "float64",
    });
    const σ = (z: number): number => 1 / (1 + Math.exp(-z));
    // x = (1, 2, 3): z¹ = w¹x + b¹ = (0.1 − 0.4 + 0.9 + 0.25, 0.5 + 0 − 3 − 0.5) = (0.85, −3)
    const a1 = [σ(0.85), σ(-3)];
    // z² = w²a¹ + b² = (a¹₀ − a¹₁ + 0, 2a¹₀ + 0.5a¹₁ + 0.1)
    const expected = [σ(a1[0]! - a1[1]!), σ(2 * a1[0]! + 0.5 * a1[1]! + 0.1)];
    const out = net.feedforward([1, 2, 3]);
    expect(out[0]).toBeCloseTo(expected[0]!, 14);
    expect(out[1]).toBeCloseTo(expected[1]!, 14);
    expect(out[0]).toBeCloseTo(0.6577179909870653, 14); // same sum in Python's math module
    expect(out[1]).toBeCloseTo(0.8212511499150722, 14);
  });

  it("maps CrossEntropyCost to cross-entropy", () => {
    const net = fromModelJson({ ...network2File(), cost: "CrossEntropyCost" });
    expect(net.spec.cost).toBe("cross-entropy");
  });
});

describe("bad model files", () => {
  it("a missing file names the path and ENOENT", async () => {
    const file = path.join(dir, "nope.json");
    const err = await loadNetwork(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toBe(`cannot read model file ${file}: ENOENT: no such file or directory, open '${file}'`);
  });

  it("a truncated file is reported as invalid JSON", async () => {
    const file = path.join(dir, "model.json");
    await saveNetwork(Network.create([4, 3, 2], { seed: 1 }), file);
    const text = await fsp.readFile(file, "utf8");
    await fsp.writeFile(file, text.slice(0, text.length >> 1));
    const err = await loadNetwork(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toMatch(new RegExp(`^${escape(file)} is not valid JSON \\(truncated\\?\\): .+`));
  });

  it("an empty file is reported as invalid JSON", async () => {
    const file = path.join(dir, "empty.json");
    await fsp.writeFile(file, "");
    await expect(loadNetwork(file)).rejects.toThrow(`${file} is not valid JSON (truncated?)`);
  });

  type Mutation = (m: Record<string, any>) => unknown;
  const cases: [string, Mutation, string][] = [
    ["not an object", () => [1, 2, 3], "expected a JSON object, got [1, 2, 3]"],
    ["missing sizes", (m) => { delete m.sizes; }, 'missing field "sizes"'],
    ["missing biases", (m) => { delete m.biases; }, 'missing field "biases"'],
    ["bad sizes", (m) => { m.sizes = [3, 0, 2]; }, "sizes[1] must be a positive integer, got 0"],
    ["unknown cost", (m) => { m.cost = "FooCost"; }, 'unknown cost "FooCost", expected one of QuadraticCost, CrossEntropyCost, LogLikelihoodCost'],
    ["unknown activation", (m) => { m.activation = "swish"; }, 'activation must be one of sigmoid, tanh, relu, identity, got "swish"'],
    ["unknown dtype", (m) => { m.dtype = "float16"; }, 'dtype must be one of float32, float64, got "float16"'],
    ["newer version", (m) => { m.format = "shoal-model"; m.version = 7; }, "version 7 is newer than this shoal understands (2)"],
    ["other format", (m) => { m.format = "keras"; m.version = 1; }, 'format is "keras", expected "shoal-model"'],
    ["too few layers", (m) => { m.weights.pop(); }, "weights has 1 layers, expected 2 (sizes has 3 entries)"],
    ["wrong row count", (m) => { m.weights[1].pop(); }, "weights[1] has 1 rows, expected 2 (sizes[2])"],
    ["wrong column count", (m) => { m.weights[0][1].push(0.5); }, "weights[0][1] has 4 columns, expected 3 (sizes[0])"],
    ["row not an array", (m) => { m.weights[0][1] = 0.5; }, "weights[0][1] is 0.5, expected an array of 3 columns"],
    ["a string number", (m) => { m.weights[0][1][2] = "abc"; }, 'weights[0][1][2] is "abc", expected a finite number'],
    ["a NaN string", (m) => { m.weights[1][0][1] = "NaN"; }, 'weights[1][0][1] is "NaN", expected a finite number'],
    ["null", (m) => { m.biases[0][1][0] = null; }, "biases[0][1][0] is null, expected a finite number"],
    ["flat biases", (m) => { m.biases[0] = [0.25, -0.5]; }, "biases[0][0] is 0.25, expected a one-element row [b] (biases are column vectors)"],
    ["wrong bias count", (m) => { m.biases[1].push([1]); }, "biases[1] has 3 rows, expected 2 (sizes[2])"],
    ["out of float32 range", (m) => { m.dtype = "float32"; m.weights[0][0][0] = 1e300; }, "weights[0][0][0] is 1e+300, outside the float32 range"],
    ["metadata not an object", (m) => { m.metadata = "trained"; }, 'metadata is "trained", expected an object'],
  ];

  it.each(cases)("%s: names the file and the problem", async (_name, mutate, message) => {
    const model: Record<string, any> = network2File();
    const replaced = mutate(model);
    const file = path.join(dir, "model.json");
    await fsp.writeFile(file, JSON.stringify(replaced ?? model));
    const err = await loadNetwork(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toBe(`${file}: ${message}`);
  });

  it("fromModelJson names its source", () => {
    expect(() => fromModelJson({ ...network2File(), cost: "FooCost" }, "model.json")).toThrow(
      'model.json: unknown cost "FooCost"',
    );
  });
});

describe("atomic save", () => {
  async function savedOldModel(): Promise<{ file: string; before: Buffer }> {
    const file = path.join(dir, "model.json");
    await saveNetwork(Network.create([3, 4, 2], { seed: 1 }), file);
    return { file, before: await fsp.readFile(file) };
  }

  it("a failed rename leaves the old file byte-identical and no temp file", async () => {
    const { file, before } = await savedOldModel();
    const rename = vi.spyOn(fsp, "rename").mockRejectedValue(Object.assign(new Error("EXDEV: simulated"), { code: "EXDEV" }));
    const err = await saveNetwork(Network.create([3, 4, 2], { seed: 2 }), file).catch((e: unknown) => e);
    expect(rename).toHaveBeenCalledTimes(1);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toBe(`cannot write model file ${file}: EXDEV: simulated`);
    expect(await fsp.readFile(file)).toEqual(before);
    expect(await tempFiles()).toEqual([]);
  });

  it("a write that fails halfway leaves the old file byte-identical and no temp file", async () => {
    const { file, before } = await savedOldModel();
    const realOpen = fsp.open;
    vi.spyOn(fsp, "open").mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args);
      const realWrite = handle.writeFile.bind(handle);
      // Writes the first half, then fails like a full disk.
      vi.spyOn(handle, "writeFile").mockImplementation(async (data) => {
        await realWrite(typeof data === "string" ? data.slice(0, data.length >> 1) : "");
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      });
      return handle;
    });
    await expect(saveNetwork(Network.create([3, 4, 2], { seed: 2 }), file)).rejects.toThrow(
      `cannot write model file ${file}: ENOSPC: no space left on device, write`,
    );
    expect(await fsp.readFile(file)).toEqual(before);
    expect(await tempFiles()).toEqual([]);
  });

  it("saving into a missing directory says so and creates nothing", async () => {
    const file = path.join(dir, "missing", "model.json");
    const err = await saveNetwork(Network.create([2, 2], { seed: 1 }), file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toBe(`cannot write model file ${file}: directory ${path.dirname(file)} does not exist`);
    expect(await fsp.readdir(dir)).toEqual([]);
  });

  it("writeFileAtomic writes bytes and strings", async () => {
    const file = path.join(dir, "data.bin");
    await writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    expect([...(await fsp.readFile(file))]).toEqual([1, 2, 3]);
    await writeFileAtomic(file, "text");
    expect(await fsp.readFile(file, "utf8")).toBe("text");
    expect(await fsp.readdir(dir)).toEqual(["data.bin"]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("format versions", () => {
  const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), "fixtures/formats");

  it("version 2 records how the weights were drawn: both inits survive the round trip", async () => {
    for (const init of ["gaussian", "scaled-gaussian"] as const) {
      const net = Network.create([3, 4, 2], { seed: 2, init });
      const file = path.join(dir, `${init}.json`);
      await saveNetwork(net, file);
      const json = JSON.parse(await fsp.readFile(file, "utf8")) as { version: number; init: string };
      expect(json).toMatchObject({ version: 2, init });
      expect((await loadNetwork(file)).spec.init).toBe(init);
    }
  });

  it("a version 1 file (written before the init was recorded) still loads, its init unknown", async () => {
    // test/fixtures/formats/model-v1.shoal.json: saveNetwork(Network.create([2, 3, 2], { seed: 7 }), …) by shoal at format 1
    const { network, metadata } = await loadModel(path.join(fixtures, "model-v1.shoal.json"));
    expect(network.spec.init).toBeUndefined();
    expect(metadata).toEqual({ data: "tiny.csv", weightInit: "gaussian" });
    expect(Array.from(network.params)).toEqual(Array.from(Network.create([2, 3, 2], { seed: 7, init: "gaussian" }).params));
  });

  it("a network2.py file has no init; an unknown init is an error naming it", async () => {
    expect(fromModelJson(network2File()).spec.init).toBeUndefined();
    const json = { ...toModelJson(Network.create([3, 2, 2], { seed: 1 })), init: "uniform" };
    expect(() => fromModelJson(json, "m.json")).toThrow(ModelFileError);
    expect(() => fromModelJson(json, "m.json")).toThrow(/^m\.json: init must be one of gaussian, scaled-gaussian, got "uniform"$/);
  });
});
