import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadModel } from "../src/index.js";
import { exitOf, makeTempDir, removeTempDir, startShoal, waitForLine } from "./fixtures/cli-helpers.js";

// Ctrl-C is SIGINT to the process. `shoal train` promises: it stops after the current mini-batch,
// prints a summary, exits 130, and --out is either untouched or the model of the last finished epoch
// (it is rewritten atomically after every epoch). Synchronised on output lines, never on timers.
let dir: string;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(() => removeTempDir(dir));

describe("Ctrl-C during shoal train", () => {
  it("after an epoch: exits 130 and --out holds a loadable model of a finished epoch", async () => {
    const out = path.join(dir, "model.json");
    const child = startShoal(["train", "--epochs", "1000", "--limit", "2000", "--test-limit", "200", "--threads", "2", "--json", "--out", out]);
    const exited = exitOf(child);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const stdout: string[] = [];
    const first = waitForLine(child.stdout!, (line) => (stdout.push(line), line.startsWith("{"))).catch((e: Error) => Promise.reject(new Error(`${e.message}; stderr: ${stderr}`)));
    expect(JSON.parse(await first)).toMatchObject({ epoch: 1 });
    child.kill("SIGINT");
    expect((await exited).code).toBe(130);

    const { network, metadata } = await loadModel(out);
    expect(network.sizes).toEqual([784, 30, 10]);
    expect(metadata!.epochs).toBeGreaterThanOrEqual(1);
    expect(metadata!.epochsRequested).toBe(1000);
    expect(stderr).toMatch(/^interrupted during epoch (\d+) of 1000; .*model\.json holds the model after epoch (\d+)$/m);
    const [, during, kept] = /interrupted during epoch (\d+) of 1000; .* after epoch (\d+)/.exec(stderr)!;
    expect(Number(kept)).toBe(metadata!.epochs);
    expect(Number(during)).toBe(Number(kept) + 1);
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("before the first epoch ends: exits 130 and leaves an existing --out file as it was", async () => {
    const out = path.join(dir, "model.json");
    const old = '{"not": "touched"}\n';
    await writeFile(out, old);
    // a slow first epoch (8,000 digits, 784-200-10, in process), interrupted as soon as it starts
    const child = startShoal(["train", "--hidden", "200", "--threads", "0", "--epochs", "3", "--out", out]);
    const exited = exitOf(child);
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitForLine(child.stdout!, (line) => line.includes("batch 10, 3 epochs"));
    child.kill("SIGINT");
    expect((await exited).code).toBe(130);
    expect(output).toContain(`interrupted during epoch 1 of 3; no epoch finished: ${out} was left as it was`);
    expect(output).not.toMatch(/^epoch /m);
    expect(await readFile(out, "utf8")).toBe(old);
    expect((await readdir(dir)).sort()).toEqual(["model.json"]);
  });
});

describe("SIGTERM during shoal train", () => {
  it("stops after the current mini-batch as Ctrl-C does, exits 143, --out whole, no temporary file", async () => {
    const out = path.join(dir, "model.json");
    const child = startShoal(["train", "--epochs", "1000", "--limit", "2000", "--test-limit", "200", "--threads", "2", "--json", "--out", out]);
    const exited = exitOf(child);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    expect(JSON.parse(await waitForLine(child.stdout!, (line) => line.startsWith("{")))).toMatchObject({ epoch: 1 });
    child.kill("SIGTERM");
    expect((await exited).code).toBe(143);
    expect(stderr).toMatch(/^terminated \(SIGTERM\): stopping after the current mini-batch/m);
    const { metadata } = await loadModel(out);
    expect(metadata!.epochs).toBeGreaterThanOrEqual(1);
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
