// Issue 17 §1: the neuron split (parallelism "neurons") gives the example split's bits, at any
// thread count, and ends like it: short and tiny batches, layers smaller than the thread count,
// target vectors, the divergence guard, abort, and checkpoints resumed under the other strategy.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AbortError, createDataset, createPool, DivergenceError, loadCheckpoint, Network, train, ValidationError, type Dataset, type TrainOptions } from "../src/index.js";
import { someDigits } from "./fixtures/digits.js";

const pools = [1, 2, 3, 4].map((threads) => createPool({ threads }));
afterAll(() => Promise.all(pools.map((p) => p.close())));
const dir = mkdtempSync(join(tmpdir(), "shoal-neurons-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  params: number[];
  costs: number[];
  accuracy: (number | undefined)[];
}

async function run(sizes: number[], data: Dataset, test: Dataset | undefined, options: Partial<TrainOptions> & Pick<TrainOptions, "miniBatchSize">): Promise<Outcome> {
  const net = Network.create(sizes, { seed: 9 });
  const result = await train(net, data, { epochs: 2, eta: 3, seed: 2, ...(test && { testData: test }), ...options });
  return { params: Array.from(net.params), costs: result.epochs.map((e) => e.cost), accuracy: result.epochs.map((e) => e.accuracy) };
}

describe("the neuron split gives the example split's bits", () => {
  const cases: [string, number[], number, number][] = [
    ["784-30-10, batch 10", [784, 30, 10], 200, 10],
    ["784-30-10, batch 100, a short last batch", [784, 30, 10], 250, 100],
    ["784-30-10, batch 7, a short last batch", [784, 30, 10], 205, 7],
    ["a batch of 2, smaller than the thread count", [784, 30, 10], 40, 2],
    ["784-6-10: fewer blocks of 4 neurons than threads", [784, 6, 10], 100, 10],
    ["batch 300: the example split sums it in chunks of 256 slots", [784, 30, 10], 700, 300],
    ["784-100-10, batch 10", [784, 100, 10], 100, 10],
  ];
  for (const [name, sizes, count, miniBatchSize] of cases) {
    it(`${name}, on 1–4 threads`, async () => {
      const { train: data, test } = await someDigits(count, 50);
      const reference = await run(sizes, data, test, { miniBatchSize, threads: 2 });
      for (const pool of pools) expect(await run(sizes, data, test, { miniBatchSize, pool, parallelism: "neurons" })).toEqual(reference);
    });
  }

  it("one output for two classes (the label is the target)", async () => {
    const xor = createDataset({ inputs: [[0, 0], [0, 1], [1, 0], [1, 1]], labels: [0, 1, 1, 0], classes: 2 });
    const reference = await run([2, 4, 1], xor, xor, { miniBatchSize: 4, threads: 1, epochs: 300 });
    for (const pool of pools.slice(1)) expect(await run([2, 4, 1], xor, xor, { miniBatchSize: 4, pool, parallelism: "neurons", epochs: 300 })).toEqual(reference);
  });

  it("with target vectors (no labels)", async () => {
    const rows = Array.from({ length: 60 }, (_, i) => Array.from({ length: 6 }, (_, j) => ((i * 7 + j * 3) % 5 === 0 ? 0 : ((i + j) % 7) / 7)));
    const targets = rows.map((r) => [r[0]!, r[1]! * r[2]!, 1 - r[3]!]);
    const data = createDataset({ inputs: rows, targets });
    const reference = await run([6, 9, 3], data, undefined, { miniBatchSize: 4, threads: 1 });
    for (const pool of pools.slice(1)) expect(await run([6, 9, 3], data, undefined, { miniBatchSize: 4, pool, parallelism: "neurons" })).toEqual(reference);
  });
});

describe("the neuron split ends like the example split", () => {
  it("the divergence guard: the same mini-batch, the same last good weights", async () => {
    const { train: data } = await someDigits(200);
    const outcome = async (options: Partial<TrainOptions>) => {
      const net = Network.create([784, 30, 10], { seed: 1 });
      // η/m = 1e39 is infinite as a float32 step size: the first update makes weights infinite or NaN
      const error = await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 1e40, seed: 1, threads: 2, ...options }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DivergenceError);
      return { message: (error as Error).message, params: Array.from(net.params) };
    };
    const examples = await outcome({});
    expect(examples.params.every(Number.isFinite)).toBe(true);
    // several times: a thread that runs ahead sets the flag while a slower one is still at the step's
    // barrier, which once left the two threads disagreeing, and waiting at different barriers
    for (let i = 0; i < 4; i++) expect(await outcome({ parallelism: "neurons" })).toEqual(examples);
    expect(await outcome({ parallelism: "neurons", pool: pools[2], threads: undefined })).toEqual(examples);
  });

  it("an abort stops it between mini-batches; the pool then trains the next run with the same bits", async () => {
    const { train: data, test } = await someDigits(2000, 50);
    const controller = new AbortController();
    const net = Network.create([784, 100, 10], { seed: 3 });
    // mid-epoch: an epoch of 2,000 examples takes some 10–20 ms here
    setTimeout(() => controller.abort(), 60);
    const error = await train(net, data, { epochs: 1000, miniBatchSize: 10, eta: 3, seed: 1, pool: pools[1], parallelism: "neurons", signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(net.params.every(Number.isFinite)).toBe(true);
    const reference = await run([784, 30, 10], data, test, { miniBatchSize: 10, threads: 1 });
    expect(await run([784, 30, 10], data, test, { miniBatchSize: 10, pool: pools[1], parallelism: "neurons" })).toEqual(reference);
  });

  it("a checkpoint written under one strategy resumes under the other, bit-identically", async () => {
    const { train: data, test } = await someDigits(200, 50);
    const path = join(dir, "ckpt.json");
    const straight = Network.create([784, 30, 10], { seed: 4 });
    await train(straight, data, { epochs: 4, miniBatchSize: 10, eta: 3, seed: 5, threads: 2, testData: test });
    const first = Network.create([784, 30, 10], { seed: 4 });
    await train(first, data, { epochs: 2, miniBatchSize: 10, eta: 3, seed: 5, threads: 2, parallelism: "neurons", checkpoint: { path } });
    const checkpoint = await loadCheckpoint(path);
    const resumed = checkpoint.network;
    await train(resumed, data, { epochs: 4, resume: checkpoint, testData: test });
    expect(Array.from(resumed.params)).toEqual(Array.from(straight.params));
    // and the other way round
    const second = Network.create([784, 30, 10], { seed: 4 });
    await train(second, data, { epochs: 2, miniBatchSize: 10, eta: 3, seed: 5, threads: 2, checkpoint: { path } });
    const back = await loadCheckpoint(path);
    await train(back.network, data, { epochs: 4, resume: back, parallelism: "neurons" });
    expect(Array.from(back.network.params)).toEqual(Array.from(straight.params));
  });
});

describe("the neuron split on the TypeScript kernel gives the example split's bits, and the in-process path's", () => {
  const nets: [string, { dtype: "float64" | "float32"; activation?: "tanh" | "relu"; outputActivation?: "softmax" | "identity"; cost?: "cross-entropy" | "log-likelihood" }, Partial<TrainOptions>][] = [
    ["float64, network.py's sigmoid and quadratic cost", { dtype: "float64" }, {}],
    ["float64, tanh hidden, softmax with log-likelihood, L2 and momentum", { dtype: "float64", activation: "tanh", outputActivation: "softmax", cost: "log-likelihood" }, { lambda: 2, momentum: 0.5, eta: 0.5 }],
    ["float64, relu hidden, identity output", { dtype: "float64", activation: "relu", outputActivation: "identity" }, { eta: 0.02 }],
    ["float32 on kernel js", { dtype: "float32" }, { kernel: "js" }],
  ];
  for (const [name, layers, more] of nets) {
    it(`${name}: in process, by examples on 2 threads, by neurons on 1–4`, async () => {
      const { train: data, test } = await someDigits(150, 50);
      const runOf = async (options: Partial<TrainOptions>): Promise<Outcome> => {
        const net = Network.create([784, 13, 10], { seed: 9, ...layers });
        const result = await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 3, seed: 2, testData: test, ...more, ...options });
        return { params: Array.from(net.params), costs: result.epochs.map((e) => e.cost), accuracy: result.epochs.map((e) => e.accuracy) };
      };
      const reference = await runOf({ threads: 2, parallelism: "examples" });
      if (layers.dtype === "float64") expect(await runOf({ threads: 0 })).toEqual(reference);
      for (const pool of pools) expect(await runOf({ pool, parallelism: "neurons" })).toEqual(reference);
    });
  }

  it("auto does not pick it (the cost model is the wasm kernel's): a float64 run is split by examples unless asked", async () => {
    const { train: data } = await someDigits(40);
    const result = await train(Network.create([784, 10, 10], { seed: 1, dtype: "float64" }), data, { epochs: 1, miniBatchSize: 10, eta: 3, threads: 2 });
    expect(result.parallelism).toBe("examples");
  });
});

describe("what the neuron split takes", () => {
  it("refuses, before any thread starts, what it cannot run, saying why", async () => {
    const { train: data } = await someDigits(50);
    const refused: [number[], Partial<TrainOptions> & { dtype?: "float64"; cost?: "cross-entropy" }, string][] = [
      [[784, 30, 10], { threads: 0 }, "parallelism neurons runs on worker threads; threads 0 is the in-process path"],
      [[784, 20, 20, 10], {}, "parallelism neurons takes networks of one hidden layer, this one is 784-20-20-10"],
      [[784, 20, 20, 10], { dtype: "float64" }, "parallelism neurons takes networks of one hidden layer, this one is 784-20-20-10"],
      [[784, 30, 10], { miniBatchSize: 2000 }, "parallelism neurons takes mini-batches of at most 1024, got 2000"],
      [[784, 30, 10], { cost: "cross-entropy" }, "parallelism neurons on the wasm kernel takes network.py's sigmoid layers and quadratic cost, this network has sigmoid / sigmoid layers and the cross-entropy cost (kernel \"js\" takes them)"],
      [[784, 30, 10], { parallelism: "layers" as never }, "parallelism must be one of auto, examples, neurons"],
    ];
    for (const [sizes, { dtype, cost, ...options }, message] of refused) {
      const net = Network.create(sizes, { seed: 1, ...(dtype && { dtype }), ...(cost && { cost }) });
      const error = await train(net, data, { epochs: 1, miniBatchSize: 10, eta: 3, threads: 2, parallelism: "neurons", ...options }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toContain(message);
    }
  });
});

describe("the neuron split from the command line and in job specs", () => {
  it("shoal train --parallelism neurons saves the model --parallelism examples saves, and says which ran", async () => {
    const { shoal } = await import("./fixtures/cli-helpers.js");
    const { loadModel } = await import("../src/index.js");
    const args = ["train", "--limit", "300", "--test-limit", "50", "--hidden", "30", "--epochs", "2", "--seed", "3", "--threads", "2", "--json"];
    const models = await Promise.all(["examples", "neurons"].map(async (how) => {
      const out = join(dir, `${how}.json`);
      const run = await shoal([...args, "--parallelism", how, "--out", out]);
      expect(run.code, run.stderr).toBe(0);
      const line = JSON.parse(run.stdout.trim().split("\n")[0]!) as { parallelism: string };
      expect(line.parallelism).toBe(how);
      return loadModel(out);
    }));
    expect(models[1]!.metadata).toMatchObject({ parallelism: "neurons", threads: 2 });
    expect(Array.from(models[1]!.network.params)).toEqual(Array.from(models[0]!.network.params));
  }, 60_000);

  it("a background trainer's job with parallelism neurons trains the bits of the example split", async () => {
    const { createBackgroundTrainer } = await import("../src/service/index.js");
    const { parseModel } = await import("../src/io/model-format.js");
    const trainer = await createBackgroundTrainer();
    try {
      const spec = { data: { name: "mnist" as const, limit: 200, testLimit: 50 }, layers: [784, 30, 10], epochs: 2, miniBatchSize: 10, eta: 3, seed: 2, threads: 2 };
      const params: number[][] = [];
      for (const parallelism of ["examples", "neurons"] as const) {
        const job = await trainer.submit({ ...spec, parallelism });
        for await (const _ of trainer.events(job.id));
        expect(trainer.job(job.id)).toMatchObject({ status: "done", parallelism });
        params.push(Array.from(parseModel(await trainer.model(job.id), "job").network.params));
      }
      expect(params[1]).toEqual(params[0]);
      await expect(trainer.submit({ ...spec, parallelism: "layers" as never })).rejects.toThrow("parallelism must be one of auto, examples, neurons");
    } finally {
      await trainer.close();
    }
  }, 60_000);
});
