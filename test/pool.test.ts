import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { readFile } from "node:fs/promises";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { AbortError, closeDefaultPool, createPool, startDefaultPool, Network, sliceDataset, train, TrainingThreadError, ValidationError, type TrainingPool } from "../src/index.js";
import { PoolSet } from "../src/train/pool-set.js";
import { trainOn } from "../src/train/train.js";
import { someDigits } from "./fixtures/digits.js";
import { faultyPool } from "./fixtures/faults.js";

const run = promisify(execFile);
const sameBits = (a: Network, b: Network): boolean => Buffer.from(a.params.buffer).equals(Buffer.from(b.params.buffer));
const options = { epochs: 2, miniBatchSize: 10, eta: 3, seed: 5 } as const;

describe("a training pool: threads that outlive a run", () => {
  let pool: TrainingPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it("consecutive runs reuse the same threads, and train the very bits a run with its own threads does", async () => {
    const { train: data } = await someDigits(200);
    pool = createPool({ threads: 2 });
    const first = Network.create([784, 20, 10], { seed: 1 });
    const result = await train(first, data, { ...options, pool });
    expect(result.threads).toBe(2);
    const ids = pool.threadIds;
    expect(ids).toHaveLength(2);
    const second = Network.create([784, 20, 10], { seed: 1 });
    await train(second, data, { ...options, pool });
    expect(pool.threadIds).toEqual(ids); // no new Worker
    const own = Network.create([784, 20, 10], { seed: 1 });
    await train(own, data, { ...options, threads: 2 });
    expect(sameBits(first, own)).toBe(true);
    expect(sameBits(second, own)).toBe(true);
  });

  it("runs on one pool take turns: the second starts when the first has ended", async () => {
    const { train: data } = await someDigits(200);
    pool = createPool({ threads: 2 });
    const log: string[] = [];
    const runOf = (name: string): Promise<unknown> =>
      train(Network.create([784, 20, 10], { seed: 1 }), data, { ...options, epochs: 3, pool, onEpoch: (r) => void log.push(`${name}${r.epoch}`) });
    await Promise.all([runOf("a"), runOf("b")]);
    expect(log).toEqual(["a1", "a2", "a3", "b1", "b2", "b3"]);
  });

  it("stays usable after a run that fails, is aborted, or loses a thread", async () => {
    const { train: data } = await someDigits(200);
    const faulty = faultyPool(2, { worker: 1, step: 2, message: "boom" });
    pool = faulty.pool;
    const net = (): Network => Network.create([784, 20, 10], { seed: 1 });
    const failed = await train(net(), data, { ...options, pool }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(TrainingThreadError);
    expect((failed as Error).message).toBe("training thread 1 failed: boom");

    const controller = new AbortController();
    const aborted = await train(net(), data, { ...options, pool, signal: controller.signal, onEpoch: () => controller.abort() }).catch((e: unknown) => e);
    expect(aborted).toBeInstanceOf(AbortError);

    const before = pool.threadIds;
    faulty.arm({ worker: 0, step: 1, message: "unused", exit: true });
    const died = await train(net(), data, { ...options, pool }).catch((e: unknown) => e);
    expect(died).toBeInstanceOf(TrainingThreadError);

    const again = net();
    await train(again, data, { ...options, pool });
    const own = net();
    await train(own, data, { ...options, threads: 2 });
    expect(sameBits(again, own)).toBe(true);
    expect(pool.threadIds).toHaveLength(2);
    expect(pool.threadIds).not.toEqual(before); // the dead thread was replaced
  });

  it("validates: a pool from createPool, the pool's own thread count, not after close", async () => {
    const { train: data } = await someDigits(20);
    expect(() => createPool({ threads: 0 })).toThrow(new ValidationError("threads must be a positive integer, got 0"));
    expect(() => createPool({ threads: 257 })).toThrow(new ValidationError("threads must be at most 256, got 257"));
    pool = createPool({ threads: 2 });
    const net = Network.create([784, 5, 10], { seed: 1 });
    await expect(train(net, data, { ...options, pool, threads: 1 })).rejects.toThrow(
      new ValidationError("threads 1 does not match the pool's 2 threads: leave threads out to use the pool's"),
    );
    await expect(train(net, data, { ...options, pool: {} as TrainingPool })).rejects.toThrow(new ValidationError("pool must be a training pool from createPool(), got Object"));
    await pool.close();
    await expect(train(net, data, { ...options, pool })).rejects.toThrow(new ValidationError("pool is closed"));
  });

  it("idle threads keep no CPU busy and do not keep the process alive: a script that never closes its pool exits", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/pool-idle.ts", import.meta.url));
    const { stdout } = await run(process.execPath, ["--import", "tsx", fixture], { timeout: 60_000 });
    const [trained, cpu] = stdout.trim().split("\n");
    expect(trained).toBe("trained twice on 2 threads");
    // process CPU time (all threads) over one second of a warm, idle pool
    expect(Number(/idle cpu ms: ([\d.]+)/.exec(cpu!)![1])).toBeLessThan(50);
  });
});

describe("a pool set: warm pools by thread count, for job after job", () => {
  it("lends the same pool to runs one after another, a second pool to a run beside a busy one, and closes all", async () => {
    const { train: data } = await someDigits(100);
    const pools = new PoolSet();
    const seen: TrainingPool[] = [];
    try {
      const net = (): Network => Network.create([784, 10, 10], { seed: 1 });
      const lend = (): Promise<unknown> => pools.with(2, (pool) => (seen.push(pool), train(net(), data, { ...options, epochs: 1, pool })));
      await lend();
      await lend();
      expect(seen[1]).toBe(seen[0]);
      await Promise.all([lend(), lend()]);
      expect(seen[2]).not.toBe(seen[3]);
      expect([seen[2], seen[3]]).toContain(seen[0]);
      // trainOn: threads 0 runs in process; a bad thread count is train()'s own error
      expect((await trainOn(pools, net(), data, { ...options, epochs: 1, threads: 0 })).threads).toBe(0);
      await expect(trainOn(pools, net(), data, { ...options, epochs: 1, threads: -1 })).rejects.toThrow(new ValidationError("threads must be an integer ≥ 0, got -1"));
    } finally {
      await pools.close();
    }
    expect(seen.every((pool) => pool.closed)).toBe(true);
  });
});

describe("the default pool: train() without a pool", () => {
  const osThreads = async (): Promise<number> => Number(/Threads:\s+(\d+)/.exec(await readFile("/proc/self/status", "utf8"))![1]);
  afterEach(() => closeDefaultPool());

  it("keeps its threads warm for the next run, grows for concurrent runs, gives the same bits, and closes", async () => {
    const { train: data } = await someDigits(200);
    await closeDefaultPool();
    const start = await osThreads();
    const first = Network.create([784, 20, 10], { seed: 1 });
    await train(first, data, { ...options, threads: 2 });
    const warm = await osThreads();
    expect(warm).toBeGreaterThan(start); // the threads stay, idle
    const second = Network.create([784, 20, 10], { seed: 1 });
    await train(second, data, { ...options, threads: 2 });
    expect(await osThreads()).toBe(warm); // the same threads: no new Worker
    expect(sameBits(first, second)).toBe(true);

    // two runs at once: the second gets threads of its own (the pool grows), then both stay warm
    const runOf = (): Promise<unknown> => train(Network.create([784, 20, 10], { seed: 1 }), data, { ...options, threads: 2 });
    await Promise.all([runOf(), runOf()]);
    expect((await osThreads()) - start).toBe(2 * (warm - start));
    await Promise.all([runOf(), runOf()]);
    expect((await osThreads()) - start).toBe(2 * (warm - start));

    await closeDefaultPool();
    expect(await osThreads()).toBe(start);
    const fresh = Network.create([784, 20, 10], { seed: 1 });
    await train(fresh, data, { ...options, threads: 2 }); // a closed default pool is made again
    expect(sameBits(fresh, first)).toBe(true);
  });

  it("startDefaultPool starts the threads before any run, and the next train() runs on them", async () => {
    const { train: data } = await someDigits(100);
    await closeDefaultPool();
    const start = await osThreads();
    expect(() => startDefaultPool(0)).toThrow(new ValidationError("threads must be a positive integer, got 0"));
    startDefaultPool(2);
    startDefaultPool(2); // an idle pool of 2 is there: nothing more starts
    await train(Network.create([784, 10, 10], { seed: 1 }), data, { ...options, epochs: 1, threads: 2 });
    const after = await osThreads();
    await closeDefaultPool();
    startDefaultPool(2);
    await new Promise<void>((resolve) => { const poll = async (): Promise<void> => ((await osThreads()) === after ? resolve() : void setTimeout(poll, 10)); void poll(); });
    expect(await osThreads()).toBe(after); // the same threads as the run had, started without a run
    await train(Network.create([784, 10, 10], { seed: 1 }), data, { ...options, epochs: 1, threads: 2 });
    expect((await osThreads()) - start).toBe(after - start);
  });

  it("reuses a run's shared memory for the next run: same bits on the same data, on other data, and on another network", async () => {
    const { train: data, test } = await someDigits(300, 100);
    const other = sliceDataset(data, 0, 150);
    const pool = createPool({ threads: 2 });
    onTestFinished(() => pool.close());
    const runOn = async (sizes: number[], d: typeof data, withPool: boolean, kernel: "wasm" | "js" = "wasm"): Promise<Network> => {
      const net = Network.create(sizes, { seed: 3 });
      const target = withPool ? { pool } : { threads: 2 };
      if (withPool) await train(net, d, { ...options, testData: test, kernel, ...target });
      else {
        const own = createPool({ threads: 2 }); // fresh memory, fresh threads
        await train(net, d, { ...options, testData: test, kernel, pool: own });
        await own.close();
      }
      return net;
    };
    const copy = { ...data, inputs: data.inputs.slice() }; // the same data in another object
    const check = async (sizes: readonly number[], d: typeof data, kernel: "wasm" | "js" = "wasm"): Promise<void> => {
      expect(sameBits(await runOn([...sizes], d, true, kernel), await runOn([...sizes], d, false, kernel))).toBe(true);
    };
    // alternate data, networks and kernels on one pool; each must match a run on a fresh pool
    await check([784, 20, 10], data);
    await check([784, 20, 10], data);
    await check([784, 30, 10], data);
    await check([784, 20, 10], copy);
    await check([784, 20, 10], other);
    await check([784, 20, 10], data, "js");
    await check([784, 20, 10], copy);
    copy.inputs[5 * 784 + 300] = 0.5; // changed in place since the pool last held it
    await check([784, 20, 10], copy);
  });
});
