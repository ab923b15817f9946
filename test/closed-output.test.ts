import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadModel } from "../src/index.js";
import { exitOf, makeTempDir, removeTempDir, startShoal, waitForLine } from "./fixtures/cli-helpers.js";

// A reader that closes the pipe early (`shoal train --json | head -1`) ends the command quietly, as
// SIGPIPE ends Unix tools: exit 141, no stack trace, no stray temporary file. The pipe is a real one,
// closed by the test after the line it wanted; synchronised on output and exit, never on timers.
let dir: string;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(() => removeTempDir(dir));

const temps = async (): Promise<string[]> => (await readdir(dir)).filter((f) => f.endsWith(".tmp"));

describe("stdout closed by its reader", () => {
  it("shoal train --json | head -1: stops training, exits 141 quietly, --out whole, no .tmp file", async () => {
    const out = path.join(dir, "model.json");
    const child = startShoal(["train", "--json", "--epochs", "1000", "--limit", "1000", "--test-limit", "100", "--threads", "1", "--out", out]);
    const exited = exitOf(child);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const first = await waitForLine(child.stdout!, (line) => line.startsWith("{"));
    expect(JSON.parse(first)).toMatchObject({ epoch: 1 });
    child.stdout!.destroy(); // what head does after its line
    const { code } = await exited;
    expect(stderr).not.toMatch(/EPIPE|\n\s+at |internal error/);
    expect(code).toBe(141);
    expect(await temps()).toEqual([]);
    // stopped long before its 1,000 epochs, with the model of its last finished epoch in --out
    const { metadata } = await loadModel(out);
    expect(metadata!.epochsRequested).toBe(1000);
    expect(metadata!.epochs).toBeGreaterThanOrEqual(1);
  });

  it("shoal help train | head -3 on a pipe already closed: exits 141, nothing on stderr", async () => {
    const child = startShoal(["help", "train"]);
    child.stdout!.destroy(); // before the command has written anything: its first write fails
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const { code } = await exitOf(child);
    expect(stderr).toBe("");
    expect(code).toBe(141);
  });
});

describe("writeFileAtomic when the process exits during the write", () => {
  it("removes its temp file in the 'exit' handler; the target is not created", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/exit-mid-save.ts", import.meta.url));
    const target = path.join(dir, "model.json");
    const child = spawn(process.execPath, ["--import", "tsx", fixture, target], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = exitOf(child);
    const line = await waitForLine(child.stdout!, (l) => l.startsWith("temp "));
    expect(line).toMatch(/^temp .*model\.json\.\d+\.[0-9a-f]{12}\.tmp$/);
    expect((await exited).code).toBe(3);
    expect(existsSync(line.slice("temp ".length))).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });
});
