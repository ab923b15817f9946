import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDataset, Network } from "../src/index.js";
import { recordSection } from "../src/bench/results.js";
import { median, spread, table } from "../src/bench/stats.js";
import { defineSuite, runSuite } from "../src/bench/suite.js";
import { epochsInTurn } from "../src/bench/training.js";
import { pairedRatios, takeTurns, unmeasuredRounds, type Contender } from "../src/bench/turns.js";
import { distProblem, epochsIn, exportDigits } from "../src/bench/suites/start/processes.js";

// The benchmark harness itself (src/bench): its order of turns, statistics, table and recording.
// No timing is asserted: the measurements are whatever the machine gives.

/** A contender whose turns return 1, 2, 3…, noting each turn (and its close) in `log`. */
function counting(name: string, log: string[]): Contender<number> {
  let turns = 0;
  return {
    name,
    turn: async () => {
      log.push(name);
      return ++turns;
    },
    close: async () => void log.push(`close ${name}`),
  };
}

describe("takeTurns", () => {
  it("runs one turn per contender per round, reversing the order every other round, and closes all", async () => {
    const log: string[] = [];
    const measured = await takeTurns([counting("a", log), counting("b", log), counting("c", log)], { rounds: 3 });
    expect(log).toEqual(["a", "b", "c", "c", "b", "a", "a", "b", "c", "close a", "close b", "close c"]);
    expect(measured.map((m) => m.samples)).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
    for (const m of measured) expect(m.stolen).toHaveLength(3);
  });

  it("leaves out the rounds before the contenders are warm", async () => {
    const log: string[] = [];
    let asked = 0;
    const measured = await takeTurns([counting("a", log), counting("b", log)], { rounds: 2, warm: (samples) => (asked++, samples[0]!.length >= 2) });
    expect(asked).toBe(2);
    expect(measured.map((m) => m.samples)).toEqual([[3, 4], [3, 4]]);
    const afterOne = await takeTurns([counting("c", log)], { rounds: 2, ...unmeasuredRounds(1) });
    expect(afterOne[0]!.samples).toEqual([2, 3]);
    expect((await takeTurns([counting("d", log)], { rounds: 2, ...unmeasuredRounds(0) }))[0]!.samples).toEqual([1, 2]);
  });

  it("rejects with a turn's failure once every contender is closed", async () => {
    const log: string[] = [];
    const failing: Contender<number> = { name: "x", turn: () => Promise.reject(new Error("turn failed")), close: async () => void log.push("close x") };
    await expect(takeTurns([counting("a", log), failing], { rounds: 2 })).rejects.toThrow("turn failed");
    expect(log).toEqual(["a", "close a", "close x"]);
  });
});

describe("statistics and tables", () => {
  it("median of odd and even lists, spread as median (min–max)", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow("empty");
    expect(spread([1500, 1000, 2500])).toBe("1,500 (1,000–2,500)");
    expect(spread([0.5, 0.25], 2)).toBe("0.38 (0.25–0.50)");
  });

  it("pairs ratios by round, and counts a round quiet only when neither turn had CPU time stolen", () => {
    const base = { samples: [10, 20, 40], stolen: [0, 0, 0.01], steal: 0 };
    const run = { samples: [20, 20, 20], stolen: [0, undefined, 0], steal: undefined };
    expect(pairedRatios(base, run, (x) => x)).toEqual({ all: [2, 1, 0.5], quiet: [2] });
  });

  it("writes a markdown table", () => {
    expect(table(["a", "b"], [["1", "2"], ["3", "4"]])).toBe("| a | b |\n| --- | --- |\n| 1 | 2 |\n| 3 | 4 |");
  });

  it("reads the epochs a process printed as NDJSON, skipping other lines", () => {
    const out = '{"blas":[]}\n{"epoch":1,"examplesPerSecond":10,"seconds":2,"testAccuracy":0.5}\nsaved\n{"epoch":2,"examplesPerSecond":20,"seconds":1}\n';
    expect(epochsIn(out).map((e) => e.examplesPerSecond)).toEqual([10, 20]);
    expect(() => epochsIn("nothing\n")).toThrow("printed no epochs");
  });
});

describe("trainings taking turns", () => {
  it("measures consecutive epochs of each training, after its warm-up, and stops them", async () => {
    const xor = createDataset({ inputs: [[0, 0], [0, 1], [1, 0], [1, 1]], labels: [0, 1, 1, 0], classes: 2 });
    const contestant = (seed: number) => ({ network: Network.create([2, 3, 2], { seed }), data: xor, options: { miniBatchSize: 2, eta: 1, seed, threads: 0 } });
    const [a, b] = await epochsInTurn([contestant(1), contestant(2)], 2, { epochs: 1, seconds: 0 });
    expect(a!.samples.map((e) => e.epoch)).toEqual([2, 3]);
    expect(b!.samples.map((e) => e.epoch)).toEqual([2, 3]);
    for (const e of [...a!.samples, ...b!.samples]) expect(e.examplesPerSecond).toBeGreaterThan(0);
  });
});

describe("recording results", () => {
  let dir: string;
  let results: URL;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "shoal-bench-"));
    results = pathToFileURL(path.join(dir, "RESULTS.md"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const text = (): string => readFileSync(results, "utf8");

  it("replaces a section between its markers, keeps the others, appends a new one", async () => {
    writeFileSync(results, "# Results\n\n<!-- one:start -->\nold one\n<!-- one:end -->\n\n<!-- two:start -->\nkept\n<!-- two:end -->\n");
    await recordSection(results, "one", "new one");
    await recordSection(results, "three", "third");
    expect(text()).toBe("# Results\n\n<!-- one:start -->\nnew one\n<!-- one:end -->\n\n<!-- two:start -->\nkept\n<!-- two:end -->\n\n<!-- three:start -->\nthird\n<!-- three:end -->\n");
  });

  /** A suite whose table shows the options it was given. */
  const echo = defineSuite({
    name: "echo",
    script: "bench:echo",
    section: "echo",
    summary: "prints its options",
    options: {
      rounds: { type: "string", default: "10", quick: "1", help: "rounds" },
      label: { type: "string", help: "a label" },
    },
    async run(values, { quick, command }) {
      return { markdown: `### Echo (\`${command}\`)\n\n${table(["rounds", "label", "quick"], [[values.rounds, values.label ?? "–", String(quick)]])}` };
    },
  });
  const quiet = { log: () => {} };

  it("runs a suite, records its table under its section with the command that reproduces it", async () => {
    const markdown = await runSuite(echo, ["--label", "x"], { results, ...quiet });
    expect(markdown).toContain("`npm run bench:echo -- --rounds 10 --label x`");
    expect(markdown).toContain("| 10 | x | false |");
    expect(text()).toContain(`<!-- echo:start -->\n${markdown}\n<!-- echo:end -->`);
  });

  it("--quick takes the options' quick values, --section another section, --no-record writes nothing", async () => {
    await runSuite(echo, ["--quick", "--section", "echo-quick"], { results, ...quiet });
    expect(text()).toMatch(/<!-- echo-quick:start -->\n### Echo \(`npm run bench:echo -- --rounds 1 --quick --section echo-quick`\)[^]*\| 1 \| – \| true \|/);
    expect(text()).not.toContain("<!-- echo:start -->");
    await runSuite(echo, ["--no-record"], { results, ...quiet });
    expect(text()).not.toContain("<!-- echo:start -->");
  });

  it("records a run into the section its options name (sectionFor), unless --section says otherwise", async () => {
    const labelled = defineSuite({ ...echo, sectionFor: (values) => (values.label === undefined ? "echo" : `echo-${values.label}`) });
    await runSuite(labelled, ["--label", "part"], { results, ...quiet });
    expect(text()).toContain("<!-- echo-part:start -->\n### Echo (`npm run bench:echo -- --rounds 10 --label part`)");
    expect(text()).not.toContain("<!-- echo:start -->");
    await runSuite(labelled, ["--label", "part", "--section", "other"], { results, ...quiet });
    expect(text()).toContain("--label part --section other`");
  });

  it("refuses an unknown option and a bad section name", async () => {
    await expect(runSuite(echo, ["--rnds", "2"], { results, ...quiet })).rejects.toThrow("--rnds");
    await expect(runSuite(echo, ["--section", "Bad Name"], { results, ...quiet })).rejects.toThrow("--section must be lowercase");
  });
});

describe("the start suite's processes", () => {
  it("finds dist/ missing, current, or older than a source file", () => {
    const root = mkdtempSync(path.join(tmpdir(), "shoal-dist-"));
    try {
      mkdirSync(path.join(root, "src/cli"), { recursive: true });
      for (const file of ["package.json", "tsconfig.json", "tsconfig.build.json", "src/cli/main.ts"]) writeFileSync(path.join(root, file), "{}");
      expect(distProblem(root)).toBe("dist/ is missing");
      mkdirSync(path.join(root, "dist/src/cli"), { recursive: true });
      const built = path.join(root, "dist/src/cli/main.js");
      writeFileSync(built, "");
      const later = new Date(Date.now() + 60_000);
      utimesSync(built, later, later);
      expect(distProblem(root)).toBeUndefined();
      utimesSync(path.join(root, "src/cli/main.ts"), new Date(later.getTime() + 1000), new Date(later.getTime() + 1000));
      expect(distProblem(root)).toBe("dist/ is older than src/cli/main.ts");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("exports digits as raw float32 inputs, byte labels and their counts", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "shoal-digits-"));
    try {
      const set = (labels: number[]) => createDataset({ inputs: labels.map((l) => [l / 10, 0.5, 1]), labels, classes: 10 });
      await exportDigits(dir, { train: set([3, 1, 4]), test: set([9]) });
      expect(JSON.parse(readFileSync(path.join(dir, "meta.json"), "utf8"))).toEqual({ inputSize: 3, train: 3, test: 1, classes: 10 });
      expect([...readFileSync(path.join(dir, "train-labels.u8"))]).toEqual([3, 1, 4]);
      const inputs = readFileSync(path.join(dir, "test-inputs.f32"));
      expect(statSync(path.join(dir, "train-inputs.f32")).size).toBe(3 * 3 * 4);
      expect([...new Float32Array(Uint8Array.from(inputs).buffer)]).toEqual([Math.fround(0.9), 0.5, 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the start suite, --quick", () => {
  it("runs its warm part and prints its table", async () => {
    const { start } = await import("../src/bench/suites/start.js");
    const markdown = await runSuite(start, ["--quick", "--part", "warm", "--no-record"], { results: new URL("file:///nonexistent/RESULTS.md"), log: () => {} });
    expect(markdown).toContain("`npm run bench:start -- --part warm --rounds 1");
    expect(markdown).toMatch(/\| threads \| cold: ms \| warm: ms \| default: ms \| steady epoch: ms \|[^]*\n\| 1 \| [\d.,]+ \(/);
    expect(markdown).not.toContain("End to end");
  });
});
