import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));

/** The npm packages importing `entry` (a path from the repository root) loads, in a fresh process. */
async function packagesLoadedBy(entry: string): Promise<string[]> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "test/fixtures/record-imports.mjs", new URL(entry, `file://${root}/`).href], { cwd: root, timeout: 30_000 });
  return JSON.parse(stdout) as string[];
}

// The server, the queue, the plots and the command line's own libraries load from their own entry
// points, never with the library: an app that only trains must not pay for them.
const heavy = ["fastify", "bullmq", "ioredis", "vega", "vega-lite", "cli-progress", "commander", "pngjs"];

describe("the library stays light", () => {
  it("importing shoal loads piscina and comlink, and none of the server's, queue's or command line's packages", async () => {
    const loaded = await packagesLoadedBy("src/index.ts");
    expect(loaded).toContain("piscina");
    expect(loaded).toContain("comlink");
    expect(loaded.filter((p) => heavy.includes(p))).toEqual([]);
  });

  it("the command line loads a command's modules only when it runs", async () => {
    const loaded = await packagesLoadedBy("src/cli/main.ts");
    expect(loaded).toContain("commander");
    expect(loaded.filter((p) => heavy.includes(p) && p !== "commander")).toEqual([]);
  });

  it("shoal/server loads fastify, but not the queue or the plots", async () => {
    const loaded = await packagesLoadedBy("src/service/server.ts");
    expect(loaded).toContain("fastify");
    expect(loaded.filter((p) => ["bullmq", "ioredis", "vega", "vega-lite", "cli-progress", "commander"].includes(p))).toEqual([]);
  });
});
