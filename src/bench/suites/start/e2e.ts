/**
 * Parts e2e and first of the start suite: `shoal train` (W1 on the bundled digits) as a whole
 * process, from source and built, beside the numpy script doing the same training, taking turns
 * run by run. e2e reports the wall time of each process; first reports, from the same runs, each
 * one's first epoch against its steady ones (epoch 3 on), as the processes measured them.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { MnistSplit } from "../../../data/mnist.js";
import { median, spread, table, times } from "../../stats.js";
import { pairedRatios, takeTurns, unmeasuredRounds, type Contender } from "../../turns.js";
import { distProblem, exportDigits, oneBlasThread, processContender, pythonPeer, type ProcessRun } from "./processes.js";

export interface ProcessSettings {
  readonly root: string;
  readonly epochs: number;
  readonly rounds: number;
  /** Unmeasured rounds first (disk cache, the OS's first start of each program). */
  readonly warmRounds: number;
  /** Build dist/ when it is missing or stale; otherwise the built contender is skipped. */
  readonly build: boolean;
  /** The numpy peer script (src/bench/peers/numpy_w1.py); undefined: no peer. */
  readonly numpyScript: string | undefined;
  readonly digits: MnistSplit;
  readonly log: (line: string) => void;
}

/** The markdown of the e2e and first tables (whichever are asked for), with notes on what was skipped and why. */
export async function processParts(settings: ProcessSettings, parts: { e2e: boolean; first: boolean }): Promise<string> {
  const { root, epochs, rounds, warmRounds, log } = settings;
  const notes: string[] = [];
  const dir = await mkdtemp(path.join(tmpdir(), "shoal-bench-start-"));
  try {
    const flags = (name: string): string[] => ["train", "--epochs", String(epochs), "--seed", "1", "--json", "--out", path.join(dir, `${name}.shoal.json`)];
    const contenders: Contender<ProcessRun>[] = [processContender("shoal train, from source", process.execPath, [path.join(root, "src/cli/bin.js"), ...flags("source")], dir)];

    let problem = distProblem(root);
    if (problem && settings.build) {
      log(`${problem}: npm run build`);
      const built = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8" });
      if (built.status !== 0) throw new Error(`npm run build failed: ${built.stderr.slice(-2000)}`);
      notes.push(`dist/ built first (${problem}).`);
      problem = distProblem(root);
    }
    if (problem) notes.push(`built shoal skipped: ${problem} (--no-build).`);
    else {
      const main = pathToFileURL(path.join(root, "dist/src/cli/main.js")).href;
      // what the package's bin does when it runs from dist/ (no tsx)
      const code = `const { main } = await import(${JSON.stringify(main)}); process.exitCode = await main(process.argv.slice(1));`;
      contenders.push(processContender("shoal train, built", process.execPath, ["--input-type=module", "-e", code, ...flags("built")], dir));
      // glibc 2.35+ can ask for transparent huge pages for its large allocations: far fewer page
      // faults when a dataset is first written (see docs/benchmarks.md, "Start-up").
      if (glibcAtLeast(2, 35)) {
        const env = { GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" };
        contenders.push(processContender("shoal train, built, GLIBC_TUNABLES=glibc.malloc.hugetlb=1", process.execPath, ["--input-type=module", "-e", code, ...flags("built-huge")], dir, env));
      } else notes.push("the huge-page contender skipped: not glibc 2.35 or later.");
    }

    const peer = settings.numpyScript === undefined ? undefined : pythonPeer();
    if (settings.numpyScript === undefined || !existsSync(settings.numpyScript)) notes.push("numpy peer skipped: no script.");
    else if (!peer) notes.push("numpy peer skipped: python3 with numpy is not installed.");
    else {
      const data = path.join(dir, "digits");
      await exportDigits(data, settings.digits);
      const args = [settings.numpyScript, data, "--epochs", String(epochs), "--seed", "1", "--blas-threads", "1"];
      contenders.push(processContender("numpy script, BLAS 1 thread", "python3", args, dir, oneBlasThread));
      const pthread = peer.openblasPthread === undefined ? "no dpkg to ask" : peer.openblasPthread ? "installed" : "not installed";
      notes.push(
        `numpy ${peer.numpy}; BLAS by threadpoolctl: ${peer.blas ?? "threadpoolctl not installed (BLAS held to 1 thread by OPENBLAS_NUM_THREADS=1)"}; ` +
          `Debian's libopenblas0-pthread: ${pthread}.`,
      );
    }

    const measured = await takeTurns(contenders, {
      rounds,
      ...unmeasuredRounds(warmRounds),
      onTurn: (i, r, counted) => log(`${counted ? "" : "(warm-up) "}round ${r + 1}: ${contenders[i]!.name}`),
    });
    const numpy = contenders.findIndex((c) => c.name.startsWith("numpy"));
    const sections: string[] = [];
    if (parts.e2e) {
      const rows = contenders.map((c, i) => {
        const runs = measured[i]!;
        const accuracy = runs.samples.map((s) => s.epochs.at(-1)!.testAccuracy).filter((a): a is number => a !== undefined);
        return [
          c.name, spread(runs.samples.map((s) => s.ms / 1000), 2),
          numpy >= 0 ? times(median(pairedRatios(measured[numpy]!, runs, (s) => s.ms).all)) : "–",
          accuracy.length ? `${(100 * median(accuracy)).toFixed(2)}%` : "–",
        ];
      });
      sections.push(
        `#### End to end: \`shoal train --epochs ${epochs}\`\n\nW1 (784-30-10, batch 10, η 3.0, seed 1, sigmoid, quadratic cost, scaled-gaussian init) on the bundled digits (${settings.digits.train.count.toLocaleString("en-US")} training, ` +
          `${settings.digits.test.count.toLocaleString("en-US")} test, evaluated every epoch), threads auto, as a whole process: wall seconds from spawn to exit, median (min–max) of ${rounds} rounds ` +
          `after ${warmRounds} unmeasured; the contenders take turns round by round. "÷ numpy": median of the rounds' time ratios to the numpy script's run in the same round (below 1: faster). ` +
          `The numpy script (src/bench/peers/numpy_w1.py) is network.py vectorised over the mini-batch, float32, reading the same digits from raw files written before the first round.\n\n` +
          table(["process", "seconds", "÷ numpy", "final test accuracy"], rows),
      );
    }
    if (parts.first) {
      const steadyFrom = epochs >= 3 ? 2 : epochs - 1; // epochs 3 on, or the last one in a short run
      const steady = (s: ProcessRun): number => median(s.epochs.slice(steadyFrom).map((e) => e.examplesPerSecond));
      const rows = contenders.map((c, i) => {
        const runs = measured[i]!.samples;
        return [
          c.name, spread(runs.map((s) => s.epochs[0]!.examplesPerSecond)), spread(runs.map(steady)),
          `${(100 * median(runs.map((s) => s.epochs[0]!.examplesPerSecond / steady(s)))).toFixed(0)}%`,
        ];
      });
      sections.push(
        `#### First epoch ÷ steady\n\nFrom the same runs: each process's first epoch against its steady ones (median of epochs ${steadyFrom + 1}–${epochs}), examples/s as the process measured them ` +
          `(shoal: the workers' timing, from the epoch's first step; numpy: the epoch's training loop); the ratio is the median over the rounds of each run's own first ÷ steady.\n\n` +
          table(["process", "first epoch, examples/s", "steady, examples/s", "first ÷ steady"], rows),
      );
    }
    return [...sections, notes.length ? `Notes: ${notes.join(" ")}` : ""].filter(Boolean).join("\n\n");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Whether this process runs on glibc of at least major.minor (undefined on musl, macOS, Windows). */
function glibcAtLeast(major: number, minor: number): boolean {
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  const [a = 0, b = 0] = (header?.glibcVersionRuntime ?? "0.0").split(".").map(Number);
  return a > major || (a === major && b >= minor);
}
