/**
 * A/B of two builds of shoal in ONE process, for changes smaller than this machine's run-to-run
 * noise. Each of `--pairs` runs trains a fresh network with A and one with B at once, taking turns
 * one epoch each (epochsInTurn; who goes first alternates), past their JIT warm-up, then measures
 * 3 rounds; runs start 0.3 s apart, after a 2.5 s warm-up of the machine. Reports both medians with
 * min–max, B ÷ A as the median of the rounds' ratios (an epoch of B ÷ the epoch of A next to it)
 * over all rounds and over the quiet ones (pairedRatios), every round's ratio, and the median share
 * of a worker's step time spent at barriers.
 *
 * A and B are checkouts of this repository, e.g. a commit and the working tree:
 *
 *   git worktree add /tmp/a <commit> && ln -s "$PWD/node_modules" /tmp/a/node_modules
 *   (cd /tmp/a && npm run build:wasm)
 *   npm run bench:ab -- --a /tmp/a --b . [--net 784-30-10] [--batch 10] [--threads 2] [--pairs 10]
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { sliceDataset, type Dataset } from "../../core/dataset.js";
import type { Network, NetworkOptions } from "../../core/network.js";
import type { MnistSplit } from "../../data/mnist.js";
import type { EpochReport } from "../../train/options.js";
import { addSplit, barrierShare, emptySplit, machine, median, spread, table } from "../stats.js";
import { arg, defineSuite } from "../suite.js";
import { epochsInTurn, pace, warmUpMachine, type Shoal } from "../training.js";
import { pairedRatios } from "../turns.js";

/** What the suite uses of a checkout's shoal. */
interface Build extends Shoal {
  readonly Network: { create(sizes: number[], options?: NetworkOptions): Network };
  readonly loadMnistDigits: () => Promise<MnistSplit>;
}

/** A checkout's shoal, from its source (src/index.ts), loaded by tsx. */
export async function loadBuild(dir: string): Promise<Build> {
  return (await import(pathToFileURL(resolve(dir, "src/index.ts")).href)) as Build;
}

/** The commit a checkout is at, "+ changes" if its code differs from it (results written by benchmarks do not count). */
export function commitOf(dir: string): string {
  const git = (...args: string[]): string => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" }).trim();
  try {
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/RESULTS.md", ":!bench/*.svg") ? " + changes" : ""}`;
  } catch {
    return "not a git checkout";
  }
}

export const ab = defineSuite({
  name: "ab",
  script: "bench:ab",
  section: "ab",
  summary: "two checkouts of shoal in one process, taking turns epoch by epoch: B ÷ A",
  options: {
    a: { type: "string", help: "checkout A (required)" },
    b: { type: "string", default: ".", help: "checkout B" },
    net: { type: "string", default: "784-30-10", help: "network" },
    batch: { type: "string", default: "10", help: "mini-batch size" },
    threads: { type: "string", default: "2", quick: "1", help: "worker threads" },
    pairs: { type: "string", default: "10", quick: "1", help: "runs (each: A and B, 3 rounds measured)" },
    "b-lambda": { type: "string", default: "0", help: "B trains with this L2 λ (A without): what the rule costs, with --a and --b the same checkout" },
    "b-momentum": { type: "string", default: "0", help: "B trains with this momentum μ (A without)" },
    "b-dropout": { type: "string", default: "0", help: "B trains with this dropout rate p (A without)" },
  },
  async run(values, { quick, command }) {
    if (values.a === undefined) throw new Error("--a <checkout> is required (see the comment at the top of src/bench/suites/ab.ts)");
    const [sizes] = arg.nets("net", values.net);
    const miniBatchSize = arg.integer("batch", values.batch);
    const threads = arg.integer("threads", values.threads);
    const pairs = arg.integer("pairs", values.pairs);
    const rule = { lambda: Number(values["b-lambda"]), momentum: Number(values["b-momentum"]), dropout: Number(values["b-dropout"]) };
    if (!(rule.lambda >= 0) || !(rule.momentum >= 0 && rule.momentum < 1) || !(rule.dropout >= 0 && rule.dropout < 1)) {
      throw new Error("--b-lambda must be ≥ 0, --b-momentum and --b-dropout in [0, 1)");
    }
    // only rules B is given, so an A from before them still runs
    const bOptions = Object.fromEntries(Object.entries(rule).filter(([, value]) => value > 0));
    const { rounds, warmUp, machineMs, pauseMs } = pace(quick);
    const checkouts = { A: values.a, B: values.b };
    const builds = { A: await loadBuild(checkouts.A), B: await loadBuild(checkouts.B) };
    const all = (await builds.B.loadMnistDigits()).train;
    const data: Dataset = quick ? sliceDataset(all, 0, 500) : all;

    await warmUpMachine(() => builds.B.train(builds.B.Network.create(sizes!, { seed: 1 }), data, { epochs: 2, miniBatchSize, eta: 3.0, seed: 1, threads }), machineMs);
    /** A run's examples/s and barrier share (%) of each measured epoch. */
    const results = { A: [] as EpochReport[], B: [] as EpochReport[] };
    /** B ÷ A of each measured round's examples/s: all rounds, and the quiet ones (no CPU time stolen during either epoch). */
    const ratios = emptySplit();
    for (let pair = 0; pair < pairs; pair++) {
      await sleep(pauseMs);
      const which = pair % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const); // who takes the first turn
      const measured = await epochsInTurn(
        which.map((w) => ({
          network: builds[w].Network.create(sizes!, { seed: pair + 1 }), data, options: { miniBatchSize, eta: 3.0, seed: pair + 1, threads, ...(w === "B" && bOptions) }, shoal: builds[w],
        })),
        rounds,
        warmUp,
      );
      which.forEach((w, i) => results[w].push(...measured[i]!.samples));
      addSplit(ratios, pairedRatios(measured[which.indexOf("A")]!, measured[which.indexOf("B")]!, (e) => e.examplesPerSecond));
    }

    const rates = (w: "A" | "B"): number[] => results[w].map((r) => r.examplesPerSecond);
    const rows = (["A", "B"] as const).map((w) => [
      w, `${checkouts[w]} (${commitOf(checkouts[w])})`, spread(rates(w)), `${median(results[w].map((r) => barrierShare(r.phases!))).toFixed(1)}%`,
    ]);
    const markdown =
      `### A/B (\`${command}\`)\n\n${machine()}. ${values.net}, batch ${miniBatchSize}, ${threads} thread(s), float32${Object.keys(bOptions).length > 0 ? `; B with ${JSON.stringify(bOptions)}` : ""}; ${pairs} runs in one process; in each, A and B train ` +
      `at once, taking turns one epoch each (who goes first alternates), past their JIT warm-up, then ${rounds} rounds measured: median (min–max) of the epochs.\n\n` +
      `${table(["build", "checkout", "examples/s", "barrier share"], rows)}\n\n` +
      `B ÷ A, median of the rounds' ratios: **${median(ratios.all).toFixed(3)}**; over the quiet rounds (no CPU time stolen by the hypervisor ` +
      `during either epoch): ${ratios.quiet.length ? median(ratios.quiet).toFixed(3) : "–"} (${ratios.quiet.length} of ${ratios.all.length} rounds); medians' ratio ${(median(rates("B")) / median(rates("A"))).toFixed(3)}. ` +
      `Per round: ${ratios.all.map((r) => r.toFixed(2)).join(" ")} (B faster in ${ratios.all.filter((r) => r > 1).length} of ${ratios.all.length}).`;
    return { markdown };
  },
});
