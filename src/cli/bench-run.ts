import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, cpus, tmpdir } from "node:os";
import path from "node:path";
import { autoChoices, autoTable, type AutoChoice } from "../bench/auto-choice.js";
import { checkPeers, peerEntries, type PeerCheck } from "../bench/python-peers.js";
import { efficiencyPlot, reportRows, reportTable, strategies, strategyNotes, type ReportRow } from "../bench/report.js";
import { renderSvg } from "../bench/results.js";
import { measureScaling, type ScalingGrid } from "../bench/scaling.js";
import { exportDigits } from "../bench/suites/start/processes.js";
import { machine } from "../bench/stats.js";
import { digits } from "../bench/training.js";
import type { DType } from "../core/network.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { MAX_THREADS } from "../parallel/pool.js";
import { inputDensity } from "../train/auto-threads.js";
import { UsageError } from "./errors.js";
import { checkOutputFile } from "./output-file.js";
import { packageVersion } from "./version.js";

// The options type lives here, not beside the command, so the command imports this module (lazily) and not the other way round.
/** What `shoal bench`'s flags parse to. */
export interface BenchCommandOptions {
  threads?: number[];
  nets?: number[][];
  batches?: number[];
  dtypes: DType[];
  runs?: number;
  /** The strategies to measure at 2+ threads: one, or both. */
  parallelism: "examples" | "neurons" | "both";
  quick?: boolean;
  modelThreads: number;
  peers?: boolean;
  python: string;
  json?: string;
  svg?: string;
  force?: boolean;
}

/** The JSON `--json` writes (its shape is documented in docs/cli.md#shoal-bench). */
export interface BenchReport {
  readonly shoal: string;
  readonly machine: { readonly cores: number; readonly cpu: string; readonly node: string; readonly date: string };
  readonly settings: Required<ScalingGrid> & { readonly quick: boolean; readonly modelThreads: number; readonly trainingExamples: number };
  readonly peers: { readonly notes: readonly string[] } | null;
  readonly rows: readonly ReportRow[];
  /** Per workload: what parallelism "auto" and threads "auto" choose on this machine. */
  readonly auto: readonly AutoChoice[];
  /** What was not measured or modelled, and why (as printed). */
  readonly notes: readonly string[];
}

/** `shoal bench`: measures, prints the table on stdout (progress and notes on stderr), then writes --json and --svg. */
export async function benchCommand(options: BenchCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  // checked here, not by the flag's parser: importing the pool's limit there would load piscina at every `shoal` start
  if (options.modelThreads > MAX_THREADS) throw new UsageError(`--model-threads must be at most ${MAX_THREADS}, got ${options.modelThreads}`);
  const outputs = [["--json", options.json], ["--svg", options.svg]].filter((o): o is [string, string] => o[1] !== undefined);
  if (outputs.length === 2 && path.resolve(outputs[0]![1]) === path.resolve(outputs[1]![1])) throw new UsageError(`--json and --svg name the same file, ${outputs[0]![1]}`);
  // before measuring, not after
  for (const [flag, file] of outputs) await checkOutputFile(flag, file, options.force === true);

  const quick = options.quick === true;
  const cores = availableParallelism();
  const grid: Required<ScalingGrid> = {
    threads: options.threads ?? [...new Set([1, cores])],
    nets: options.nets ?? (quick ? [[784, 30, 10]] : [[784, 30, 10], [784, 100, 10], [784, 256, 128, 10]]),
    batches: options.batches ?? (quick ? [10] : [10, 100]),
    dtypes: options.dtypes,
    runs: options.runs ?? (quick ? 1 : 3),
    strategies: options.parallelism === "both" ? [...strategies] : [options.parallelism],
  };
  const log = (line: string): void => void process.stderr.write(`shoal bench: ${line}\n`);
  const split = await digits(quick);
  let check: PeerCheck | undefined;
  let dataDir: string | undefined;
  try {
    if (options.peers) {
      check = checkPeers(options.python);
      check.notes.forEach(log);
      if (check.peers.length) {
        dataDir = await mkdtemp(path.join(tmpdir(), "shoal-bench-"));
        await exportDigits(dataDir, split);
      }
    }
    const most = Math.max(...grid.threads);
    const peers = check?.peers.length ? check.peers : undefined;
    const results = await measureScaling(grid, split.train, {
      quick,
      log,
      ...(peers && dataDir ? { peers: (workload, run) => peerEntries(peers, options.python, dataDir!, workload, run, most) } : {}),
    });
    const modelSettings = { modelThreads: options.modelThreads, inputDensity: inputDensity(split.train) };
    const rows = reportRows(results, modelSettings);
    const notes = strategyNotes(results, modelSettings);
    const auto = autoChoices(results.map((r) => r.workload), split.train, Math.max(options.modelThreads, most));
    const heading = `${machine()}; ${split.train.count.toLocaleString("en-US")} training digits, η 3.0${quick ? "; --quick: a smoke run, its numbers mean little" : ""}`;
    out.write(`${heading}\n\n${reportTable(rows)}\n\n`);
    out.write(
      `Measured: median (min–max) of the measured epochs; speedup: median over the rounds of the paired ratio to 1 thread (strategy "examples": each thread takes some of a batch's examples; "neurons": some of the hidden layer's neurons; at 1 thread they are the same work, measured once, the base of both). ` +
        `"model" rows and the model speedup column are a prediction (the cost model of threads and parallelism "auto", its compute scaled to the measured 1-thread step, fitted on a 2-core machine), not a measurement.\n`,
    );
    notes.forEach((note) => out.write(`${note}\n`));
    out.write(`\nWhat a run that leaves it to shoal does here (the cost model's choice; beyond 2 threads a model):\n\n${autoTable(auto)}\n\n`);
    check?.notes.forEach((note) => out.write(`${note}\n`));
    if (options.json !== undefined) {
      const [cpu] = cpus();
      const report: BenchReport = {
        shoal: packageVersion(),
        machine: { cores, cpu: cpu?.model ?? "unknown", node: process.version, date: new Date().toISOString() },
        settings: { ...grid, quick, modelThreads: options.modelThreads, trainingExamples: split.train.count },
        peers: check ? { notes: check.notes } : null,
        rows,
        auto,
        notes,
      };
      await writeFileAtomic(options.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`wrote ${options.json}`);
    }
    if (options.svg !== undefined) {
      await writeFileAtomic(options.svg, await renderSvg(efficiencyPlot(rows, `shoal: speedup vs worker threads (${machine()})`)));
      log(`wrote ${options.svg}`);
    }
  } finally {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}
