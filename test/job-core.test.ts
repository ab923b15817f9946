import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadData } from "../src/cli/data-source.js";
import { DataFileError } from "../src/data/errors.js";
import { ValidationError } from "../src/core/errors.js";
import { Network } from "../src/core/network.js";
import { createRedisJobQueue, type RedisJobQueue } from "../src/distributed/redis-job-queue.js";
import { toModelJson } from "../src/io/model-format.js";
import { loadJobData } from "../src/service/data.js";
import { createBackgroundTrainer, JobStateError, UnknownJobError, type JobSource, type JobSpec } from "../src/service/index.js";
import { MODEL_CACHE_SIZE, ModelCache } from "../src/service/model-cache.js";
import { flattenRows, predictRows } from "../src/service/predict.js";
import { prepareSpec } from "../src/service/spec.js";
import { dataKinds, jobSpecSchema } from "../src/service/spec-schema.js";
import { startRedis, type TestRedis } from "./fixtures/redis.js";

// The job core both job sources share (issue 15 §2): one model cache, one predict check, one set of
// record-keeping rules; the two sources must answer the same calls with the same errors.

describe("ModelCache", () => {
  const net = (seed: number): Network => Network.create([2, 2], { seed });

  it("keeps the MODEL_CACHE_SIZE (4) most recently used networks, dropping the least recently used", async () => {
    expect(MODEL_CACHE_SIZE).toBe(4);
    const cache = new ModelCache();
    const loads: string[] = [];
    const load = (id: string) => async (): Promise<Network> => {
      loads.push(id);
      return net(Number(id.slice(1)));
    };
    for (const id of ["m1", "m2", "m3", "m4"]) await cache.get(id, load(id));
    const first = await cache.get("m1", load("m1")); // used again: now the most recent
    expect(loads).toEqual(["m1", "m2", "m3", "m4"]);
    await cache.get("m5", load("m5"));
    expect(cache.ids()).toEqual(["m3", "m4", "m1", "m5"]); // m2 was the least recently used
    expect(await cache.get("m1", load("m1"))).toBe(first);
    await cache.get("m2", load("m2"));
    expect(loads).toEqual(["m1", "m2", "m3", "m4", "m5", "m2"]);
  });

  it("with size Infinity keeps every network (a trainer with no models folder has no other copy)", () => {
    const cache = new ModelCache(Infinity);
    for (let i = 0; i < 20; i++) cache.set(`m${i}`, net(i));
    expect(cache.ids()).toHaveLength(20);
  });
});

describe("predictRows", () => {
  const net = Network.create([3, 4, 2], { seed: 7 });

  it("predicts rows as given and rows flattened first alike, as the network's feedforward does", () => {
    const rows = [[0, 0.5, 1], [1, 0, 0.25]];
    const direct = predictRows(net, rows, 10);
    expect(predictRows(net, flattenRows(rows, 3, 10), 10)).toEqual(direct);
    expect(direct.outputs[1]).toEqual(Array.from(net.feedforward(rows[1]!)));
    expect(direct.classes[0]).toBe(net.predict(rows[0]!));
  });

  it("names what is wrong with the inputs", () => {
    const message = (inputs: unknown, max = 10): string => {
      try {
        predictRows(net, inputs, max);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as Error).message;
      }
      throw new Error("no error");
    };
    expect(message("x")).toBe('inputs must be an array of rows (arrays of numbers), got "x"');
    expect(message([])).toBe("inputs is empty");
    expect(message([[1, 2, 3], [1, 2, 3]], 1)).toBe("inputs has 2 rows, more than the limit of 1 per call");
    expect(message([[1, 2, 3], 5])).toBe("inputs[1] must be an array of numbers, got 5");
    expect(message([[1, 2]])).toBe("inputs[0] has 2 values, expected 3 (the model's input layer)");
    expect(message([[1, Number.NaN, 3]])).toBe("inputs[0][1] is NaN, expected a finite number");
    expect(message(new Float64Array(4))).toBe("inputs hold 4 values, not a positive multiple of the model's 3 inputs");
  });
});

describe("both job sources answer alike", () => {
  let redis: TestRedis;
  const sources: { name: string; source: JobSource }[] = [];
  const model = toModelJson(Network.create([3, 2], { seed: 1 }));
  const xorInputs = Array.from({ length: 200 }, (_, i) => [i % 2, (i >> 1) % 2]);
  const xor = (epochs: number): JobSpec => ({
    data: { inputs: xorInputs, labels: xorInputs.map(([a, b]) => a! ^ b!), classes: 2 },
    layers: [2, 4, 2], epochs, miniBatchSize: 4, eta: 2, seed: 1, threads: 0,
  });

  beforeAll(async () => {
    redis = await startRedis();
    // No worker takes the Redis jobs: they stay queued. The background trainer's first job runs (long), the second waits.
    sources.push({ name: "background", source: await createBackgroundTrainer({ maxPredictInputs: 2 }) });
    sources.push({ name: "redis", source: await createRedisJobQueue({ redis: redis.url, queue: `job-core-${process.pid}`, maxPredictInputs: 2 }) });
  });

  afterAll(async () => {
    for (const { source } of sources) await source.close();
    await redis?.stop();
  });

  it("the same predict errors", async () => {
    const errors = await Promise.all(
      sources.map(async ({ source }) => {
        const result = await Promise.allSettled([
          source.predict(model, []),
          source.predict(model, [[1, 2, 3], [1, 2, 3], [1, 2, 3]]),
          source.predict(model, [[1, 2]]),
          source.predict(model, [[1, 2, Number.POSITIVE_INFINITY]]),
          source.predict("no-such-job", [[1, 2, 3]]),
        ]);
        return result.map((r) => (r.status === "rejected" ? `${(r.reason as Error).name}: ${(r.reason as Error).message}` : "resolved"));
      }),
    );
    expect(errors[0]).toEqual([
      "ValidationError: inputs is empty",
      "ValidationError: inputs has 3 rows, more than the limit of 2 per call",
      "ValidationError: inputs[0] has 2 values, expected 3 (the model's input layer)",
      "ValidationError: inputs[0][2] is Infinity, expected a finite number",
      'UnknownJobError: no job with id "no-such-job"',
    ]);
    expect(errors[1]).toEqual(errors[0]);
    const [a, b] = await Promise.all(sources.map(({ source }) => source.predict(model, [[0, 1, 0.5]])));
    expect(b).toEqual(a);
  });

  it("the same record-keeping: a queued job has no model; a cancelled one cannot be cancelled again; wait on an unknown id rejects", async () => {
    for (const { name, source } of sources) {
      const running = name === "background" ? await source.submit(xor(1_000_000)) : undefined;
      const queued = await source.submit(xor(1));
      expect(source.job(queued.id)?.status, name).toBe("queued");
      expect(source.counts().queued, name).toBe(1);
      await expect(source.model(queued.id), name).rejects.toThrow(new JobStateError(`job ${queued.id} has no model: it is queued`));
      const ended = source.wait(queued.id);
      expect((await source.cancel(queued.id)).status, name).toBe("cancelled");
      expect((await ended).status, name).toBe("cancelled");
      await expect(source.cancel(queued.id), name).rejects.toThrow(new JobStateError(`job ${queued.id} has already been cancelled`));
      await expect(source.wait("no-such-job"), name).rejects.toBeInstanceOf(UnknownJobError);
      if (running) await source.cancel(running.id);
    }
  });
});

describe("one data resolver for the command line and jobs", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "shoal-source-"));
    await writeFile(path.join(dir, "numbers.csv"), "x,label\n0.1,0\n0.2,1\n0.3,2\n");
    await writeFile(path.join(dir, "names.csv"), "x,label\n0.1,cat\n0.2,dog\n");
    await writeFile(path.join(dir, "fewer.csv"), "x,label\n0.1,0\n0.2,1\n");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a test file of class names beside a training file of class numbers is refused by both (jobs used to number the names silently)", async () => {
    const train = path.join(dir, "numbers.csv");
    const test = path.join(dir, "names.csv");
    const message = `${test}: its labels are class names, but those of ${train} are class numbers`;
    await expect(loadData({ data: train, testData: test, labelColumn: "label" })).rejects.toThrow(new DataFileError(test, message));
    await expect(loadJobData({ csv: train, test, labelColumn: "label" })).rejects.toThrow(new DataFileError(test, message));
  });

  it("both read the same examples and limits from the same files", async () => {
    const train = path.join(dir, "numbers.csv");
    const test = path.join(dir, "fewer.csv");
    const cli = await loadData({ data: train, testData: test, labelColumn: "label", limit: 2 });
    const job = await loadJobData({ csv: train, test, labelColumn: "label", limit: 2 });
    expect(Array.from(job.train.inputs)).toEqual(Array.from(cli.train.inputs));
    expect(job.train.count).toBe(2);
    expect(Array.from(job.test!.inputs)).toEqual(Array.from(cli.test!.inputs));
    // jobs give both sets the larger class count (the network's output size must fit both)
    expect(cli.classes).toBe(3);
    expect(job.test!.targets).toMatchObject({ kind: "labels", classes: 3 });
  });
});

describe("the job spec's one schema", () => {
  const spec = (over: Record<string, unknown> = {}, data: Record<string, unknown> = {}): Record<string, unknown> => ({
    data: { name: "mnist", ...data }, layers: [784, 10, 10], epochs: 1, miniBatchSize: 10, eta: 3, ...over,
  });
  const message = (value: unknown): string => {
    try {
      prepareSpec(value);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as Error).message;
    }
    throw new Error("no error");
  };

  it("gives prepareSpec its field checks, in the library's words", () => {
    expect(message(spec({ epochs: 0 }))).toBe("epochs must be a positive integer, got 0");
    expect(message(spec({ miniBatchSize: 2.5 }))).toBe("miniBatchSize must be a positive integer, got 2.5");
    expect(message(spec({ eta: -1 }))).toBe("eta must be a positive finite number, got -1");
    expect(message(spec({ seed: -1 }))).toBe("seed must be an integer ≥ 0, got -1");
    expect(message(spec({ shuffle: "yes" }))).toBe('shuffle must be true or false, got "yes"');
    expect(message(spec({ evaluate: 1 }))).toBe("evaluate must be true or false, got 1");
    expect(message(spec({ name: "x".repeat(201) }))).toBe("name must be a string of at most 200 characters");
    expect(message(spec({ init: "uniform" }))).toBe('init must be one of gaussian, scaled-gaussian, got "uniform"');
    expect(message(spec({ layers: [784, 0, 10] }))).toBe("layers[1] must be a positive integer, got 0");
    expect(message(spec({}, { limit: 0 }))).toBe("data.limit must be a positive integer, got 0");
    expect(message(spec({}, { testLimit: -1 }))).toBe("data.testLimit must be an integer ≥ 0, got -1");
    expect(message(spec({}, { name: "cifar" }))).toBe('data.name must be one of mnist, fashion-mnist, got "cifar"');
    expect(message(spec({ data: { csv: "a.csv", scale: 0 } }))).toBe("data.scale must be a positive finite number, got 0");
    expect(message(spec({ data: { idx: "d", classes: 0 } }))).toBe("data.classes must be a positive integer, got 0");
  });

  it("gives the field lists: the spec's (as HTTP checks them first) and each kind of data's", () => {
    expect(message(spec({ epoch: 1 }))).toBe(`job spec has an unknown field "epoch"; fields are ${Object.keys(jobSpecSchema.properties).join(", ")}`);
    expect(message(spec({}, { scale: 2 }))).toBe('data has an unknown field "scale" for named data; its fields are name, limit, testLimit');
    expect(message(spec({ data: { csv: "a.csv", classNames: [] } }))).toBe(
      'data has an unknown field "classNames" for CSV data; its fields are csv, test, labelColumn, scale, separator, classes, header, limit, testLimit',
    );
    expect(Object.keys(dataKinds.inline)).toEqual(["inputs", "inputSize", "labels", "classes", "targets", "targetSize", "test"]);
    expect(Object.keys(dataKinds.IDX)).toEqual(["idx", "limit", "testLimit", "classes"]);
  });
});
