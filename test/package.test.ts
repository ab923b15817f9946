import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));

// What a user gets from the registry: `npm pack` (which builds dist/ on prepack) installed into an
// empty project, then used without tsx: the `shoal` command through npx, the library from plain node.
describe("the packed package, installed into an empty project", () => {
  let dir: string;
  let app: string;
  let files: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "shoal-pack-"));
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string; files: { path: string }[] }[];
    files = packed!.files.map((f) => f.path);
    app = join(dir, "app");
    await run("mkdir", [app]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    // Dependencies come from npm's cache where `npm ci` left them.
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(dir, packed!.filename)], { cwd: app, timeout: 300_000 });
  }, 400_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("ships the compiled library, its workers, the wasm kernel and the command, not the sources", () => {
    for (const f of ["dist/src/index.js", "dist/src/index.d.ts", "dist/src/cli/main.js", "dist/workers/trainer.js", "dist/src/core/wasm/kernel.wasm", "dist/src/core/wasm/kernel64.wasm", "dist/src/data/mnist-digits.bin", "dist/src/service/trainer-thread.js", "dist/src/cli/bench-run.js", "dist/src/bench/peers/numpy_w1.py", "dist/src/bench/peers/torch_w1.py", "dist/src/bench/peers/w1_common.py", "dist/src/dashboard/index.html", "dist/src/dashboard/app.js", "dist/src/dashboard/style.css", "dist/src/dashboard/icon.svg", "dist/src/data/centre-digit.js", "src/cli/bin.js", "package.json", "README.md"]) {
      expect(files).toContain(f);
    }
    // bin.js runs TypeScript from source when main.ts sits beside it: the package must not ship it.
    expect(files).not.toContain("src/cli/main.ts");
  });

  it("`npx shoal train --epochs 1` trains on the bundled digits and saves the model", async () => {
    const { stdout } = await run("npx", ["shoal", "train", "--epochs", "1", "--seed", "1"], { cwd: app, timeout: 120_000 });
    expect(stdout).toMatch(/epoch +1\/1 +cost [\d.]+ +test \d+\.\d\d%/);
    expect(existsSync(join(app, "mnist.shoal.json"))).toBe(true);
  }, 150_000);

  it("`npx shoal bench --quick --peers` measures with the compiled harness and runs the shipped peer scripts", async () => {
    // a python stand-in that runs a peer only if its script exists (test/fixtures/fake-python.mjs)
    const python = join(app, "fake-python");
    writeFileSync(python, `#!/bin/sh\nexec "${process.execPath}" "${join(root, "test/fixtures/fake-python.mjs")}" peers "$@"\n`, { mode: 0o755 });
    const { stdout } = await run("npx", ["shoal", "bench", "--quick", "--threads", "1", "--model-threads", "2", "--peers", "--python", python], { cwd: app, timeout: 120_000 });
    expect(stdout).toMatch(/\| 784-30-10 \| 10 \| float32 \| shoal \| examples \| 1 \| measured \| [\d,]+ \(/);
    expect(stdout).toMatch(/\| shoal \| examples \| 2 \| model \| ≈[\d,]+ \|/);
    expect(stdout).toMatch(/\| shoal \| neurons \| 2 \| model \| ≈[\d,]+ \|/);
    expect(stdout).toMatch(/\| numpy \| – \| 1 \| measured \| 2,000 /);
    expect(stdout).toMatch(/\| torch \| – \| 1 \| measured \| 1,000 /);
  }, 150_000);

  it("serves the dashboard: its page, its files, uPlot from the installed dependencies and the compiled centring", async () => {
    const script = `
      import { startServer } from "shoal/server";
      const server = await startServer({ port: 0 });
      const get = async (p) => { const r = await fetch(server.url + p); return [r.status, r.headers.get("content-type"), await r.text()]; };
      const out = {};
      for (const p of ["/", "/dashboard/app.js", "/dashboard/style.css", "/dashboard/uPlot.esm.js", "/dashboard/uPlot.min.css", "/dashboard/centre-digit.js"]) {
        const [status, type, text] = await get(p);
        out[p] = { status, type, length: text.length, ts: /: (GrayImage|number)\\b/.test(text), map: text.includes("sourceMappingURL") };
      }
      await server.close();
      console.log(JSON.stringify(out));`;
    // a file, not -e: the trainer thread would inherit --input-type, which node refuses for a file
    writeFileSync(join(app, "serve-dashboard.mjs"), script);
    const { stdout } = await run(process.execPath, ["serve-dashboard.mjs"], { cwd: app, timeout: 60_000 });
    const served = JSON.parse(stdout) as Record<string, { status: number; type: string; length: number; ts: boolean; map: boolean }>;
    for (const [p, file] of Object.entries(served)) {
      expect(file.status, p).toBe(200);
      expect(file.length, p).toBeGreaterThan(100);
    }
    expect(served["/"]!.type).toBe("text/html; charset=utf-8");
    expect(served["/dashboard/uPlot.esm.js"]!.type).toBe("text/javascript; charset=utf-8");
    expect(served["/dashboard/centre-digit.js"]).toMatchObject({ type: "text/javascript; charset=utf-8", ts: false, map: false });
  }, 90_000);

  it("imports the library from plain node and trains on threads with the compiled workers", async () => {
    const script = `
      import { Network, createDataset, train } from "shoal";
      const xor = createDataset({ inputs: [[0,0],[0,1],[1,0],[1,1]], labels: [0,1,1,0], classes: 2 });
      const net = Network.create([2, 4, 2], { seed: 3, init: "gaussian" });
      const r = await train(net, xor, { epochs: 500, miniBatchSize: 4, eta: 3, seed: 1, threads: 2, testData: xor });
      const js = net.clone();
      await train(js, xor, { epochs: 1, miniBatchSize: 4, eta: 3, threads: 2, kernel: "js" });
      console.log(r.threads, r.epochs.at(-1).accuracy);`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: app, timeout: 60_000 });
    expect(stdout.trim()).toBe("2 1");
  }, 90_000);
});
