import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { loadCheckpoint, loadCsv, ModelFileError, Network, train, ValidationError, type DType } from "../src/index.js";
import { someDigits } from "./fixtures/digits.js";

let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), "shoal-checkpoint-"))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe("checkpoints and exact resume", () => {
  // [0, "float32", 2]: a threads-0 float32 run records the TypeScript kernel it ran, so it resumes on it
  const cases: [number, DType, number][] = [[0, "float64", 0], [2, "float32", 2], [2, "float64", 2], [2, "float32", 1], [0, "float64", 3], [0, "float32", 2]];
  for (const [threads, dtype, resumeThreads] of cases) {
    it(`threads ${threads}, ${dtype}: 2 epochs + resume for 2 on ${resumeThreads} thread(s) is bit-identical to 4 straight`, async () => {
      const { train: data, test } = await someDigits(300, 100);
      const settings = { miniBatchSize: 10, eta: 3, seed: 21, threads, testData: test };
      const straight = Network.create([784, 20, 10], { seed: 4, dtype });
      await train(straight, data, { ...settings, epochs: 4 });

      const path = join(dir, "run.checkpoint.json");
      const first = Network.create([784, 20, 10], { seed: 4, dtype });
      const stopped = new AbortController();
      // stop after epoch 2, as a crash would, with a checkpoint written every epoch
      await train(first, data, { ...settings, epochs: 4, checkpoint: { path }, signal: stopped.signal, onEpoch: (r) => void (r.epoch === 2 && stopped.abort()) })
        .catch((e: unknown) => expect((e as Error).name).toBe("AbortError"));
      const checkpoint = await loadCheckpoint(path);
      expect(checkpoint.epoch).toBe(2);
      expect(checkpoint.options).toMatchObject({ epochs: 4, miniBatchSize: 10, eta: 3, threads, kernel: threads === 0 ? "js" : "wasm" });

      const resumed = Network.create([784, 20, 10], { seed: 99, dtype }); // its own weights are replaced
      const result = await train(resumed, data, { ...settings, threads: resumeThreads, seed: undefined, epochs: 4, resume: checkpoint });
      expect(result.epochs.map((r) => r.epoch)).toEqual([3, 4]);
      expect(result.seed).toBe(21);
      expect(Buffer.from(resumed.params.buffer).equals(Buffer.from(straight.params.buffer))).toBe(true);
    });
  }

  it("every: N writes after epochs N, 2N, … and the last", async () => {
    const { train: data } = await someDigits(50);
    const path = join(dir, "c.json");
    const epochsSeen: number[] = [];
    await train(Network.create([784, 5, 10], { seed: 1 }), data, {
      epochs: 5, miniBatchSize: 10, eta: 3, threads: 0, checkpoint: { path, every: 2 },
      onEpoch: async () => void epochsSeen.push((await loadCheckpoint(path).catch(() => ({ epoch: 0 }))).epoch),
    });
    expect(epochsSeen).toEqual([0, 2, 2, 4, 5]);
  });

  it("a checkpoint of another network or other data is refused", async () => {
    const { train: data } = await someDigits(50);
    const path = join(dir, "c.json");
    await train(Network.create([784, 5, 10], { seed: 1 }), data, { epochs: 1, miniBatchSize: 10, eta: 3, threads: 0, checkpoint: { path } });
    const checkpoint = await loadCheckpoint(path);
    await expect(train(Network.create([784, 6, 10], { seed: 1 }), data, { epochs: 2, miniBatchSize: 10, eta: 3, resume: checkpoint }))
      .rejects.toThrow(new ValidationError("the checkpoint is of a 784-5-10 sigmoid quadratic float32 network, not of this 784-6-10 sigmoid quadratic float32 one"));
    const { train: more } = await someDigits(60);
    await expect(train(Network.create([784, 5, 10], { seed: 1 }), more, { epochs: 2, miniBatchSize: 10, eta: 3, resume: checkpoint }))
      .rejects.toThrow("the checkpoint was made on 50 training examples, not 60");
  });

  it("a damaged checkpoint file is a clear error", async () => {
    const path = join(dir, "bad.json");
    await writeFile(path, '{"format":"shoal-checkpoint","version":1,"epoch":1');
    await expect(loadCheckpoint(path)).rejects.toThrow(ModelFileError);
    await writeFile(path, JSON.stringify({ format: "shoal-model" }));
    await expect(loadCheckpoint(path)).rejects.toThrow(`${path}: not a shoal checkpoint (format is not "shoal-checkpoint")`);
  });
});

describe("resume: options from the checkpoint", () => {
  /** A 784-5-10 float32 run of 3 epochs on 50 digits, stopped after epoch 1 with a checkpoint. */
  async function stoppedRun(threads: number): Promise<{ path: string; data: Awaited<ReturnType<typeof someDigits>>["train"] }> {
    const { train: data } = await someDigits(50);
    const path = join(dir, `c${threads}.json`);
    const stop = new AbortController();
    await train(Network.create([784, 5, 10], { seed: 1 }), data, {
      epochs: 3, miniBatchSize: 10, eta: 3, seed: 4, threads, checkpoint: { path }, signal: stop.signal, onEpoch: () => stop.abort(),
    }).catch((e: unknown) => expect((e as Error).name).toBe("AbortError"));
    return { path, data };
  }

  it("options left out are the checkpoint's; a miniBatchSize, eta, shuffle, seed or kernel other than its own is refused, named", async () => {
    const { path, data } = await stoppedRun(0);
    const checkpoint = await loadCheckpoint(path);
    expect(checkpoint.options).toEqual({ epochs: 3, miniBatchSize: 10, eta: 3, shuffle: true, threads: 0, kernel: "js" });
    const differs: [object, string][] = [
      [{ miniBatchSize: 20 }, "miniBatchSize 20 is not the checkpoint's 10"],
      [{ eta: 0.5 }, "eta 0.5 is not the checkpoint's 3"],
      [{ shuffle: false }, "shuffle false is not the checkpoint's true"],
      [{ seed: 5 }, "seed 5 is not the checkpoint's 4"],
      [{ kernel: "wasm", threads: 2 }, 'kernel "wasm" is not the checkpoint\'s "js"'],
    ];
    for (const [options, message] of differs) {
      const error = await train(checkpoint.network.clone(), data, { ...options, resume: checkpoint }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: a resumed run keeps`));
    }
    // the same values given explicitly are fine, and nothing given at all runs the checkpoint's 3 epochs
    const given = await train(checkpoint.network.clone(), data, { miniBatchSize: 10, eta: 3, shuffle: true, seed: 4, kernel: "js", resume: checkpoint });
    const left = checkpoint.network.clone();
    const result = await train(left, data, { resume: checkpoint });
    expect(result).toMatchObject({ seed: 4, threads: 0 });
    expect(result.epochs.map((r) => r.epoch)).toEqual([2, 3]);
    expect(given.epochs.map((r) => r.epoch)).toEqual([2, 3]);
    const straight = Network.create([784, 5, 10], { seed: 1 });
    await train(straight, data, { epochs: 3, miniBatchSize: 10, eta: 3, seed: 4, threads: 0 });
    expect(Buffer.from(left.params.buffer).equals(Buffer.from(straight.params.buffer))).toBe(true);
  });

  it("a WebAssembly run resumed with threads 0 is refused: the in-process path is the TypeScript kernel", async () => {
    const { path, data } = await stoppedRun(1);
    const checkpoint = await loadCheckpoint(path);
    expect(checkpoint.options.kernel).toBe("wasm");
    await expect(train(checkpoint.network.clone(), data, { threads: 0, resume: checkpoint })).rejects.toThrow(
      new ValidationError("threads 0 runs the in-process TypeScript kernel, but the checkpoint's run used the wasm kernel: resume it on threads ≥ 1 to continue it bit-identically"),
    );
  });

  it("metadata is stored as is and kept by the resumed run's checkpoints; the network's init is recorded", async () => {
    const { train: data } = await someDigits(30);
    const path = join(dir, "m.json");
    const metadata = { note: "héllo", nested: { n: [1, 2] } };
    await train(Network.create([784, 5, 10], { seed: 1, init: "gaussian" }), data, { epochs: 1, miniBatchSize: 10, eta: 3, threads: 0, checkpoint: { path, metadata } });
    const first = await loadCheckpoint(path);
    expect(first.metadata).toEqual(metadata);
    expect(first.network.spec.init).toBe("gaussian");
    await train(first.network.clone(), data, { epochs: 2, resume: first, checkpoint: { path } });
    const second = await loadCheckpoint(path);
    expect(second.epoch).toBe(2);
    expect(second.metadata).toEqual(metadata);
    // a network drawn another way is not the checkpoint's
    await expect(train(Network.create([784, 5, 10], { seed: 1 }), data, { epochs: 3, resume: second })).rejects.toThrow(
      new ValidationError('the checkpoint\'s network was initialised with gaussian, this one with scaled-gaussian: create it with init: "gaussian" (or train checkpoint.network)'),
    );
  });

  it("a version 1 checkpoint (before the init was recorded) resumes as made: N(0,1) weights, its threads-0 run on the TypeScript kernel", async () => {
    // test/fixtures/formats/checkpoint-v1.json: shoal at checkpoint format 1 trained Network.create([2, 3, 2], { seed: 7 })
    // (N(0,1) then) on tiny.csv with { epochs: 3, miniBatchSize: 10, eta: 3, seed: 7, threads: 0 } and stopped after epoch 1
    const fixtures = fileURLToPath(new URL("fixtures/formats/", import.meta.url));
    const checkpoint = await loadCheckpoint(join(fixtures, "checkpoint-v1.json"));
    expect(checkpoint.epoch).toBe(1);
    expect(checkpoint.network.spec.init).toBe("gaussian");
    expect(checkpoint.options).toEqual({ epochs: 3, miniBatchSize: 10, eta: 3, shuffle: true, threads: 0, kernel: "js" }); // the file says "wasm"
    expect(checkpoint.metadata).toBeUndefined();
    const data = await loadCsv(join(fixtures, "tiny.csv"));
    const resumed = checkpoint.network;
    await train(resumed, data, { resume: checkpoint });
    const straight = Network.create([2, 3, 2], { seed: 7, init: "gaussian" });
    await train(straight, data, { epochs: 3, miniBatchSize: 10, eta: 3, seed: 7, threads: 0 });
    expect(Array.from(resumed.params)).toEqual(Array.from(straight.params));
  });
});
