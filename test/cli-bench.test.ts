import { execFile } from "node:child_process";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPeers } from "../src/bench/python-peers.js";
import { modelSpeedups } from "../src/bench/speedup-model.js";
import { referenceCosts, stepMicros, type Workload } from "../src/train/auto-threads.js";
import { makeTempDir, removeTempDir, root, shoal } from "./fixtures/cli-helpers.js";

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(() => removeTempDir(dir));

/** A python3 stand-in (test/fixtures/fake-python.mjs) of this kind, as an executable file. */
async function fakePython(kind: "bare" | "netlib" | "peers" | "broken"): Promise<string> {
  const file = path.join(dir, `python-${kind}`);
  await writeFile(file, `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, "test/fixtures/fake-python.mjs")}" ${kind} "$@"\n`);
  await chmod(file, 0o755);
  return file;
}

interface Row {
  kind: "measured" | "model";
  contender: string;
  strategy: string | null;
  network: number[];
  batch: number;
  dtype: string;
  threads: number;
  examplesPerSecond: number;
  min?: number;
  max?: number;
  samples?: number[];
  speedup: number | null;
  efficiency: number | null;
  modelSpeedup?: number;
}

describe("shoal bench --quick, end to end", () => {
  it("prints the table, writes the JSON and the efficiency plot, models beyond the measured counts, and skips peers that are missing", async () => {
    const json = path.join(dir, "bench.json");
    const svg = path.join(dir, "bench.svg");
    const python = await fakePython("bare");
    const r = await shoal(["bench", "--quick", "--threads", "1,2", "--model-threads", "4", "--peers", "--python", python, "--json", json, "--svg", svg]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    // the table: measured rows at 1 and 2 threads, model rows at the counts not measured
    expect(r.stdout).toMatch(/\| 784-30-10 \| 10 \| float32 \| shoal \| 1 \| measured \| [\d,]+ \([\d,]+–[\d,]+\) \| 1\.00× \| 100% \| 1\.00× \|/);
    expect(r.stdout).toMatch(/\| 784-30-10 \| 10 \| float32 \| shoal \| 2 \| measured \| [\d,]+ \([\d,]+–[\d,]+\) \| [\d.]+× \| \d+% \| [\d.]+× \|/);
    expect(r.stdout).toMatch(/\| shoal \| 3 \| model \| ≈[\d,]+ \|/);
    expect(r.stdout).toMatch(/\| shoal \| 4 \| model \| ≈[\d,]+ \|/);
    expect(r.stdout).not.toMatch(/\| [25] \| model \|/); // 2 was measured; 5 is past --model-threads
    // the missing peers, named with what is missing
    for (const out of [r.stdout, r.stderr]) {
      expect(out).toContain(`numpy peer skipped: numpy is not installed for ${python}, Python 3.12.1`);
      expect(out).toContain(`torch peer skipped: torch (PyTorch) is not installed for ${python}, Python 3.12.1`);
    }

    const report = JSON.parse(await readFile(json, "utf8")) as { shoal: string; machine: { cores: number }; settings: { threads: number[]; nets: number[][]; batches: number[]; dtypes: string[]; quick: boolean; modelThreads: number; strategies: string[] }; peers: { notes: string[] }; rows: Row[] };
    expect(report.settings).toMatchObject({ threads: [1, 2], nets: [[784, 30, 10]], batches: [10], dtypes: ["float32"], quick: true, modelThreads: 4, strategies: ["examples"] });
    expect(report.machine.cores).toBeGreaterThanOrEqual(1);
    expect(report.peers.notes).toHaveLength(2);
    const measured = report.rows.filter((row) => row.kind === "measured");
    const model = report.rows.filter((row) => row.kind === "model");
    expect(measured.map((row) => [row.contender, row.threads])).toEqual([["shoal", 1], ["shoal", 2]]);
    for (const row of measured) {
      expect(row).toMatchObject({ strategy: "examples", network: [784, 30, 10], batch: 10, dtype: "float32" });
      expect(row.samples!.length).toBeGreaterThanOrEqual(1);
      expect(row.min!).toBeLessThanOrEqual(row.examplesPerSecond);
      expect(row.max!).toBeGreaterThanOrEqual(row.examplesPerSecond);
      expect(row.efficiency).toBeCloseTo(row.speedup! / row.threads, 12);
      expect(row.modelSpeedup).toBeGreaterThan(0);
    }
    expect(model.map((row) => row.threads)).toEqual([1, 2, 3, 4]);
    // the model agrees with the machine at 1 thread, by construction
    expect(model[0]!.examplesPerSecond).toBe(measured[0]!.examplesPerSecond);
    expect(model[0]!.speedup).toBe(1);
    expect(measured[1]!.modelSpeedup).toBe(model[1]!.speedup);

    // the plot: the ideal line, and per workload a measured line and a dashed model line
    const plot = await readFile(svg, "utf8");
    expect(plot.startsWith("<svg")).toBe(true);
    expect(plot.match(/<path aria-label="ideal"[^>]*stroke-dasharray/g)).toHaveLength(1);
    expect(plot.match(/<path aria-label="measured"/g)).toHaveLength(1);
    expect(plot.match(/<path aria-label="model"[^>]*stroke-dasharray/g)).toHaveLength(1);
    expect(plot).toContain("784-30-10 batch 10 float32");
  }, 40_000);

  it("runs the peers that are present in the same turns, at 1 and N threads, and --force overwrites the outputs", async () => {
    const json = path.join(dir, "peers.json");
    await writeFile(json, "old");
    const r = await shoal(["bench", "--quick", "--threads", "1,2", "--batches", "10,20", "--peers", "--python", await fakePython("peers"), "--json", json, "--force"]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("numpy peer: numpy 2.1.0, scipy-openblas");
    expect(r.stdout).toContain("torch peer: torch 2.4.0, mkl");
    const { rows } = JSON.parse(await readFile(json, "utf8")) as { rows: Row[] };
    for (const batch of [10, 20]) {
      const measured = rows.filter((row) => row.kind === "measured" && row.batch === batch);
      expect(measured.map((row) => `${row.contender} ${row.threads}`)).toEqual(["shoal 1", "shoal 2", "numpy 1", "numpy 2", "torch 1", "torch 2"]);
      // the fake peers report base × threads examples/s: their speedups are paired with their own 1 thread
      expect(measured.filter((row) => row.contender !== "shoal").map((row) => [row.examplesPerSecond, row.speedup])).toEqual([[2000, 1], [4000, 2], [1000, 1], [2000, 2]]);
      expect(measured.find((row) => row.contender === "numpy")!.strategy).toBeNull();
    }
    expect(r.stdout).toMatch(/\| 784-30-10 \| 20 \| float32 \| torch \| 2 \| measured \| 2,000 \(2,000–2,000\) \| 2\.00× \| 100% \| – \|/);
  }, 40_000);
});

describe("shoal bench's peers: what is missing", () => {
  it("names the python that is not there, or that fails, and skips both peers", async () => {
    const nowhere = path.join(dir, "no-such-python");
    expect(checkPeers(nowhere)).toEqual({ peers: [], notes: [`numpy peer skipped: ${nowhere} not found (give another with --python)`, `torch peer skipped: ${nowhere} not found (give another with --python)`] });
    const broken = checkPeers(await fakePython("broken"));
    expect(broken.peers).toEqual([]);
    expect(broken.notes[0]).toMatch(/^numpy peer skipped: .*python-broken failed: Fatal Python error: init_fs_encoding/);
  });

  it("skips numpy built on the reference BLAS, saying so", async () => {
    const python = await fakePython("netlib");
    expect(checkPeers(python)).toEqual({
      peers: [],
      notes: [
        `numpy peer skipped: numpy 1.26.4 for ${python}, Python 3.12.1 uses no optimised BLAS (blas); install OpenBLAS, MKL or BLIS`,
        `torch peer skipped: torch (PyTorch) is not installed for ${python}, Python 3.12.1`,
      ],
    });
  });
});

describe("the speedup model", () => {
  const work: Workload = { sizes: [784, 30, 10], miniBatchSize: 10, kernel: "wasm", inputDensity: 0.19 };

  it("is the measured figure at 1 thread, exactly", () => {
    const [one] = modelSpeedups(work, 123_456.7, [1]);
    expect(one).toEqual({ threads: 1, examplesPerSecond: 123_456.7, speedup: 1 });
  });

  it("is the cost model's own prediction when the measured 1-thread step is the one the cost model predicts", () => {
    const oneThread = (1e6 * work.miniBatchSize) / stepMicros(work, 1);
    const points = modelSpeedups(work, oneThread, [1, 2, 3, 4, 8]);
    for (const p of points) expect(p.speedup).toBeCloseTo(stepMicros(work, 1) / stepMicros(work, p.threads), 12);
  });

  it("pays off more as the measured step is longer: the synchronisation stays, the work is split", () => {
    const fast = modelSpeedups(work, 400_000, [2, 8]);
    const slow = modelSpeedups(work, 4_000, [2, 8]);
    expect(slow[0]!.speedup).toBeGreaterThan(fast[0]!.speedup);
    expect(slow[1]!.speedup).toBeGreaterThan(slow[0]!.speedup);
    expect(slow[1]!.speedup).toBeLessThan(8 * referenceCosts.efficiency);
    expect(() => modelSpeedups(work, 0, [1])).toThrow(/positive/);
  });
});

describe("shoal bench is loaded only when it runs", () => {
  it("the command line's entry loads no benchmark module and no thread pool", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "test/fixtures/record-imports.mjs", new URL("src/cli/main.ts", `file://${root}/`).href, "--modules"], { cwd: root, timeout: 30_000 });
    const modules = JSON.parse(stdout) as string[];
    expect(modules.some((url) => url.endsWith("/src/cli/bench-command.ts"))).toBe(true);
    expect(modules.filter((url) => /\/src\/bench\/|\/bench-run\.ts$|\/node_modules\/(piscina|vega)/.test(url))).toEqual([]);
  });
});

describe("shoal bench refuses a bad command line before measuring", () => {
  it.each([
    [["--threads", "0"], 2, /--threads must be a positive integer, got 0/],
    [["--threads", "2"], 2, /--threads 2: include 1, the count speedups are measured against/],
    [["--threads", "1,9999"], 2, /--threads 9999 is more than this machine's \d+ cores: measure at most \d+ \(--model-threads predicts beyond\)/],
    [["--model-threads", "1000"], 2, /--model-threads must be at most 256, got 1000/],
    [["--threads", "1,,2"], 2, /"1,,2" has an empty item/],
    [["--nets", "784-x-10"], 2, /--nets: 784-x-10 is not layer sizes like 784-30-10/],
    [["--nets", "100-10"], 2, /--nets: 100-10 does not fit the bundled digits, which have 784 inputs and 10 classes/],
    [["--batches", "10,0"], 2, /--batches must be a positive integer, got 0/],
    [["--dtypes", "float16"], 2, /--dtypes must be one of float32, float64, got float16/],
    [["--svg", "plot.png"], 2, /--svg plot.png: the plot is written as SVG, so the file name must end in .svg/],
    [["--bogus"], 2, /unknown option '--bogus'/],
  ])("shoal bench %j exits %i", async (args, code, message) => {
    const r = await shoal(["bench", ...args]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toBe("");
  });

  it("an output file that exists, without --force; an output in a missing folder; both outputs in one file", async () => {
    const existing = path.join(dir, "existing.json");
    await writeFile(existing, "keep me");
    const [exists, missing, same] = await Promise.all([
      shoal(["bench", "--quick", "--json", existing]),
      shoal(["bench", "--quick", "--svg", path.join(dir, "no-such-folder", "plot.svg")]),
      shoal(["bench", "--quick", "--json", path.join(dir, "x.svg"), "--svg", path.join(dir, "x.svg")]),
    ]);
    expect([exists.code, exists.stderr]).toEqual([2, `shoal: --json ${existing} exists: give --force to overwrite it, or another file name\n`]);
    expect(await readFile(existing, "utf8")).toBe("keep me");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^shoal: --svg .*plot\.svg: folder .*no-such-folder does not exist\n$/);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/^shoal: --json and --svg name the same file/);
  });
});
