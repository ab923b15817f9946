import { execFile } from "node:child_process";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPeers } from "../src/bench/python-peers.js";
import { strategyRanges } from "../src/bench/auto-choice.js";
import { modelRefusal, modelSpeedups } from "../src/bench/speedup-model.js";
import { digits } from "../src/bench/training.js";
import { inputDensity, neuronStepMicros, referenceCosts, stepMicros, type Workload } from "../src/train/auto-threads.js";
import { threadChoice } from "../src/train/options.js";
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

interface Report {
  shoal: string;
  machine: { cores: number };
  settings: { threads: number[]; nets: number[][]; batches: number[]; dtypes: string[]; quick: boolean; modelThreads: number; strategies: string[] };
  peers: { notes: string[] } | null;
  rows: Row[];
  auto: unknown[];
  notes: string[];
}

/** The dashes of an SVG path: `stroke-dasharray="6,3"` → "6,3". */
const dashes = (path: string): string => /stroke-dasharray="([^"]*)"/.exec(path)![1]!;

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
    // the table: measured rows at 1 thread (both strategies' base) and at 2 with each strategy, model rows at the counts not measured
    expect(r.stdout).toMatch(/\| 784-30-10 \| 10 \| float32 \| shoal \| examples \| 1 \| measured \| [\d,]+ \([\d,]+–[\d,]+\) \| 1\.00× \| 100% \| 1\.00× \|/);
    for (const strategy of ["examples", "neurons"]) {
      expect(r.stdout).toMatch(new RegExp(`\\| 784-30-10 \\| 10 \\| float32 \\| shoal \\| ${strategy} \\| 2 \\| measured \\| [\\d,]+ \\([\\d,]+–[\\d,]+\\) \\| [\\d.]+× \\| \\d+% \\| [\\d.]+× \\|`));
      expect(r.stdout).toMatch(new RegExp(`\\| shoal \\| ${strategy} \\| 3 \\| model \\| ≈[\\d,]+ \\|`));
      expect(r.stdout).toMatch(new RegExp(`\\| shoal \\| ${strategy} \\| 4 \\| model \\| ≈[\\d,]+ \\|`));
    }
    expect(r.stdout).not.toMatch(/\| [125] \| model \|/); // 1 and 2 were measured; 5 is past --model-threads
    expect(r.stdout).not.toMatch(/neuron split cannot run/);
    // the missing peers, named with what is missing
    for (const out of [r.stdout, r.stderr]) {
      expect(out).toContain(`numpy peer skipped: numpy is not installed for ${python}, Python 3.12.1`);
      expect(out).toContain(`torch peer skipped: torch (PyTorch) is not installed for ${python}, Python 3.12.1`);
    }

    const report = JSON.parse(await readFile(json, "utf8")) as Report;
    expect(report.settings).toMatchObject({ threads: [1, 2], nets: [[784, 30, 10]], batches: [10], dtypes: ["float32"], quick: true, modelThreads: 4, strategies: ["examples", "neurons"] });
    expect(report.notes).toEqual([]);
    expect(report.machine.cores).toBeGreaterThanOrEqual(1);
    expect(report.peers!.notes).toHaveLength(2);
    const measured = report.rows.filter((row) => row.kind === "measured");
    const model = report.rows.filter((row) => row.kind === "model");
    expect(measured.map((row) => [row.contender, row.strategy, row.threads])).toEqual([["shoal", "examples", 1], ["shoal", "examples", 2], ["shoal", "neurons", 2]]);
    for (const row of measured) {
      expect(row).toMatchObject({ network: [784, 30, 10], batch: 10, dtype: "float32" });
      expect(row.samples!.length).toBeGreaterThanOrEqual(1);
      expect(row.min!).toBeLessThanOrEqual(row.examplesPerSecond);
      expect(row.max!).toBeGreaterThanOrEqual(row.examplesPerSecond);
      expect(row.efficiency).toBeCloseTo(row.speedup! / row.threads, 12);
      expect(row.modelSpeedup).toBeGreaterThan(0);
    }
    // the model, per strategy: from the same measured 1-thread step, and the cost model of parallelism "auto"
    expect(model.map((row) => `${row.strategy} ${row.threads}`)).toEqual(["examples 1", "examples 2", "examples 3", "examples 4", "neurons 1", "neurons 2", "neurons 3", "neurons 4"]);
    const work: Workload = { sizes: [784, 30, 10], miniBatchSize: 10, kernel: "wasm", inputDensity: inputDensity((await digits(true)).train) };
    for (const strategy of ["examples", "neurons"] as const) {
      const points = modelSpeedups(work, measured[0]!.examplesPerSecond, [1, 2, 3, 4], strategy);
      expect(model.filter((row) => row.strategy === strategy).map((row) => row.speedup)).toEqual(points.map((p) => p.speedup));
      expect(measured.find((row) => row.strategy === strategy && row.threads === 2)!.modelSpeedup).toBe(points[1]!.speedup);
    }
    // the model agrees with the machine at 1 thread, by construction
    expect(model[0]!.examplesPerSecond).toBe(measured[0]!.examplesPerSecond);
    expect(model[0]!.speedup).toBe(1);

    // what parallelism "auto" takes at 2 … 4 threads, and what a default run does here: the trainer's own choice
    const shape = { sizes: [784, 30, 10], dtype: "float32" as const, data: (await digits(true)).train };
    const byThreads = [2, 3, 4].map((threads) => ({ threads, parallelism: threadChoice({ threads, miniBatchSize: 10 }, shape).parallelism }));
    const threadsAuto = threadChoice({ miniBatchSize: 10 }, shape);
    expect(report.auto).toEqual([{ network: [784, 30, 10], batch: 10, dtype: "float32", parallelism: byThreads, threadsAuto }]);
    expect(r.stdout).toContain(`| 784-30-10 | 10 | float32 | ${strategyRanges(byThreads)} | ${threadsAuto.threads} thread${threadsAuto.threads === 1 ? "" : "s"}, ${threadsAuto.parallelism} | ${threadsAuto.reason} |`);

    // the plot: the ideal line, and per workload and strategy a measured line and a model line, each strategy its own dashes
    const plot = await readFile(svg, "utf8");
    expect(plot.startsWith("<svg")).toBe(true);
    expect(plot.match(/<path aria-label="ideal"[^>]*stroke-dasharray/g)).toHaveLength(1);
    expect(plot.match(/<path aria-label="measured"[^>]*stroke-dasharray="[^"]*"/g)!.map(dashes)).toEqual(["1,0", "9,4"]);
    expect(plot.match(/<path aria-label="model"[^>]*stroke-dasharray="[^"]*"/g)!.map(dashes)).toEqual(["1,3", "9,3,1,3"]);
    expect(plot).toContain("784-30-10 batch 10 float32");
    expect(plot).toContain("measured, neurons split");
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
      expect(measured.map((row) => `${row.contender} ${row.threads} ${row.strategy}`)).toEqual(["shoal 1 examples", "shoal 2 examples", "shoal 2 neurons", "numpy 1 null", "numpy 2 null", "torch 1 null", "torch 2 null"]);
      // the fake peers report base × threads examples/s: their speedups are paired with their own 1 thread
      expect(measured.filter((row) => row.contender !== "shoal").map((row) => [row.examplesPerSecond, row.speedup])).toEqual([[2000, 1], [4000, 2], [1000, 1], [2000, 2]]);
      expect(measured.find((row) => row.contender === "numpy")!.strategy).toBeNull();
    }
    expect(r.stdout).toMatch(/\| 784-30-10 \| 20 \| float32 \| torch \| – \| 2 \| measured \| 2,000 \(2,000–2,000\) \| 2\.00× \| 100% \| – \|/);
  }, 40_000);
});

describe("shoal bench --parallelism: the strategies measured", () => {
  it("--parallelism examples measures and models only the example split; neurons only the neuron split beyond the shared 1 thread", async () => {
    const [examples, neurons] = [path.join(dir, "examples.json"), path.join(dir, "neurons.json")];
    const only = await shoal(["bench", "--quick", "--threads", "1,2", "--model-threads", "3", "--parallelism", "examples", "--json", examples]);
    expect(only.stderr).not.toMatch(/internal error/);
    expect(only.code).toBe(0);
    expect(only.stdout).not.toMatch(/\| neurons \|/);
    const report = JSON.parse(await readFile(examples, "utf8")) as Report;
    expect(report.settings.strategies).toEqual(["examples"]);
    expect(report.rows.map((row) => `${row.kind} ${row.strategy} ${row.threads}`)).toEqual(["measured examples 1", "measured examples 2", "model examples 1", "model examples 2", "model examples 3"]);

    const split = await shoal(["bench", "--quick", "--threads", "1,2", "--model-threads", "3", "--parallelism", "neurons", "--json", neurons]);
    expect(split.code).toBe(0);
    const { rows, settings } = JSON.parse(await readFile(neurons, "utf8")) as Report;
    expect(settings.strategies).toEqual(["neurons"]);
    expect(rows.map((row) => `${row.kind} ${row.strategy} ${row.threads}`)).toEqual(["measured examples 1", "measured neurons 2", "model neurons 1", "model neurons 2", "model neurons 3"]);
    expect(rows[0]!.modelSpeedup).toBe(1); // 1 thread is the neuron split's base too
  }, 40_000);

  it("gives a workload the neuron split cannot run only example rows, saying why once; and no neuron model on the js kernel, saying so", async () => {
    const json = path.join(dir, "refused.json");
    const r = await shoal(["bench", "--quick", "--threads", "1,2", "--model-threads", "3", "--nets", "784-20-20-10,784-30-10", "--dtypes", "float32,float64", "--json", json]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const refusal = "784-20-20-10 batch 10 float32, 784-20-20-10 batch 10 float64: the example split only (the neuron split cannot run it: parallelism neurons takes networks of one hidden layer, this one is 784-20-20-10).";
    const noModel = "784-30-10 batch 10 float64: no model rows for the neuron split (the cost model's neuron split is the float32 wasm kernel's, and a float64 network splits by neurons on the js kernel): measured only.";
    expect(r.stdout.split("\n").filter((line) => line.includes("neuron split"))).toEqual([refusal, noModel]);
    const { rows, notes } = JSON.parse(await readFile(json, "utf8")) as Report;
    expect(notes).toEqual([refusal, noModel]);
    const of = (network: string, dtype: string): string[] => rows.filter((row) => row.network.join("-") === network && row.dtype === dtype).map((row) => `${row.kind} ${row.strategy} ${row.threads}`);
    for (const dtype of ["float32", "float64"]) {
      expect(of("784-20-20-10", dtype)).toEqual(["measured examples 1", "measured examples 2", "model examples 1", "model examples 2", "model examples 3"]);
    }
    expect(of("784-30-10", "float32")).toEqual(["measured examples 1", "measured examples 2", "measured neurons 2", ...[1, 2, 3].map((n) => `model examples ${n}`), ...[1, 2, 3].map((n) => `model neurons ${n}`)]);
    // float64 trains on the TypeScript kernel: its neuron split is measured, and not modelled
    expect(of("784-30-10", "float64")).toEqual(["measured examples 1", "measured examples 2", "measured neurons 2", "model examples 1", "model examples 2", "model examples 3"]);
    expect(rows.find((row) => row.dtype === "float64" && row.strategy === "neurons")!.modelSpeedup).toBeUndefined();
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

  it("models the neuron split with the cost model's own neuron step, from the same measured 1-thread step", () => {
    const oneThread = (1e6 * work.miniBatchSize) / stepMicros(work, 1);
    const points = modelSpeedups(work, oneThread, [1, 2, 3, 8], "neurons");
    expect(points[0]).toEqual({ threads: 1, examplesPerSecond: oneThread, speedup: 1 });
    for (const p of points.slice(1)) expect(p.speedup).toBeCloseTo(stepMicros(work, 1) / neuronStepMicros(work, p.threads), 12);
    // a slower machine: its compute is split as the model splits it, the barrier stays
    const slow = modelSpeedups(work, oneThread / 4, [2], "neurons")[0]!;
    const step = 4 * stepMicros(work, 1);
    const barrier = neuronStepMicros(work, 2) - stepMicros(work, 1) * (referenceCosts.neuronShare / 2 + 1 - referenceCosts.neuronShare);
    expect(slow.speedup).toBeCloseTo(step / (step * (referenceCosts.neuronShare / 2 + 1 - referenceCosts.neuronShare) + barrier), 12);
  });

  it("says it cannot model the neuron split on the js kernel, and refuses to", () => {
    const js: Workload = { ...work, kernel: "js" };
    expect(modelRefusal(work, "neurons")).toBeUndefined();
    expect(modelRefusal(js, "examples")).toBeUndefined();
    expect(modelRefusal(js, "neurons")).toBe("the cost model's neuron split is the float32 wasm kernel's, and this workload runs on the js kernel");
    expect(modelRefusal({ ...work, dtype: "float64" }, "neurons")).toBe("the cost model's neuron split is the float32 wasm kernel's, and a float64 network splits by neurons on the js kernel");
    expect(modelRefusal({ ...work, dtype: "float64" }, "examples")).toBeUndefined();
    expect(() => modelSpeedups(js, 1000, [2], "neurons")).toThrow(/no model of parallelism neurons: the cost model's neuron split is the float32 wasm kernel's/);
  });

  it("groups the thread counts parallelism auto gives the same strategy", () => {
    expect(strategyRanges([{ threads: 2, parallelism: "examples" }, { threads: 3, parallelism: "neurons" }, { threads: 4, parallelism: "neurons" }])).toBe("examples at 2, neurons at 3–4 threads");
    expect(strategyRanges([])).toBe("–");
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
    [["--parallelism", "auto"], 2, /--parallelism must be one of examples, neurons, both, got auto/],
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
