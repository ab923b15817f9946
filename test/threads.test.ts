import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it, onTestFinished } from "vitest";
import { Network, TrainingThreadError, train } from "../src/index.js";
import { someDigits } from "./fixtures/digits.js";
import { faultyPool } from "./fixtures/faults.js";

const run = promisify(execFile);
const fixture = fileURLToPath(new URL("./fixtures/train-and-exit.ts", import.meta.url));

describe("threads after a run: kept warm, ended by close, never keeping the process alive", () => {
  // The child counts its OS threads after train() settles (the pool keeps its two, warm), and
  // after closing the pool (none left); then it must exit by itself within the timeout.
  for (const [mode, expected] of [
    ["ok", "resolved"],
    ["throw", "rejected: training thread 1 failed: injected failure in worker"],
    ["abort", "aborted"],
    ["exit", "rejected: training thread 1 failed: worker exited with code: 1"],
  ] as const) {
    const when = { ok: "resolves", throw: "rejects", abort: "is aborted", exit: "loses a thread (process.exit in a worker)" }[mode];
    it(`after train() ${when}, the pool keeps two threads (a dead one replaced), and closing it leaves none`, async () => {
      const { stdout } = await run(process.execPath, ["--import", "tsx", fixture, mode], { timeout: 30_000 });
      expect(stdout.trim().split("\n")).toEqual([expected, "threads kept: 2", "threads after close: 0"]);
    });
  }

  it("a script that trains on the default pool and closes nothing exits by itself", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", fixture, "ok", "keep"], { timeout: 30_000 });
    expect(stdout.trim().split("\n")).toEqual(["resolved", "threads kept: 2"]);
  });
});

describe("errors in workers", () => {
  it("reach the caller with the worker's own message, and the next train() works", async () => {
    const { train: data } = await someDigits(100);
    const net = Network.create([784, 10, 10], { seed: 1 });
    const before = Array.from(net.params);
    const { pool } = faultyPool(2, { worker: 0, step: 3, message: "boom at step 3" });
    onTestFinished(() => pool.close());
    const error = await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 3, pool }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingThreadError);
    expect((error as Error).message).toBe("training thread 0 failed: boom at step 3");
    expect(((error as Error).cause as Error).message).toBe("boom at step 3");
    expect(Array.from(net.params)).toEqual(before); // no half-updated step is copied out

    const result = await train(net, data, { epochs: 1, miniBatchSize: 10, eta: 3, threads: 2 });
    expect(result.epochs).toHaveLength(1);
  });

  it("a worker thread that dies fails the run naming the worker; the other worker is not left waiting", async () => {
    const { train: data } = await someDigits(100);
    const net = Network.create([784, 10, 10], { seed: 1 });
    const { pool } = faultyPool(2, { worker: 1, step: 2, message: "unused", exit: true });
    onTestFinished(() => pool.close());
    const started = performance.now();
    const error = await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 3, pool }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingThreadError);
    expect((error as TrainingThreadError).worker).toBe(1);
    expect((error as Error).message).toMatch(/^training thread 1 failed: .*exit/);
    expect(performance.now() - started).toBeLessThan(20_000);
    const result = await train(net, data, { epochs: 1, miniBatchSize: 10, eta: 3, threads: 2 });
    expect(result.epochs).toHaveLength(1);
  });
});
