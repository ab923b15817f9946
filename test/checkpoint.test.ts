import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadCheckpoint, ModelFileError, Network, train, ValidationError, type DType } from "../src/index.js";
import { someDigits } from "./fixtures/digits.js";

let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), "shoal-checkpoint-"))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe("checkpoints and exact resume", () => {
  const cases: [number, DType, number][] = [[0, "float64", 0], [2, "float32", 2], [2, "float64", 2], [2, "float32", 1], [0, "float64", 3]];
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
      expect(checkpoint.options).toMatchObject({ epochs: 4, miniBatchSize: 10, eta: 3, threads });

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
