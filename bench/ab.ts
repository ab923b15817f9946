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
 *                       [--section ab] [--no-record]
 *
 * Writes its table into bench/RESULTS.md (section "ab", or the one given).
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type * as ShoalModule from "../src/index.js";
import type { EpochReport } from "../src/index.js";
import { addSplit, barrierShare, emptySplit, epochsInTurn, machine, median, pairedRatios, recordSection, sectionName, spread, table, warmUp } from "./lib.js";

const { values } = parseArgs({
  options: {
    a: { type: "string" },
    b: { type: "string", default: "." },
    net: { type: "string", default: "784-30-10" },
    batch: { type: "string", default: "10" },
    threads: { type: "string", default: "2" },
    pairs: { type: "string", default: "10" },
    section: { type: "string", default: "ab" },
    record: { type: "boolean", default: true },
  },
  allowNegative: true,
});
if (values.a === undefined) throw new Error("--a <checkout> is required (see the comment at the top of bench/ab.ts)");
const section = sectionName(values.section);
const sizes = values.net.split("-").map(Number);
const miniBatchSize = Number(values.batch);
const threads = Number(values.threads);
const pairs = Number(values.pairs);

type Shoal = typeof ShoalModule;
const load = async (dir: string): Promise<Shoal> => (await import(pathToFileURL(resolve(dir, "src/index.ts")).href)) as Shoal;
const builds = { A: await load(values.a), B: await load(values.b) };
const { train: data } = await builds.B.loadMnistDigits();

/** A run's examples/s and barrier share (%) of one measured epoch. */
interface Measure {
  readonly rate: number;
  readonly sync: number;
}
const measureOf = ({ examplesPerSecond, phases: p }: EpochReport): Measure => ({
  rate: examplesPerSecond,
  sync: barrierShare(p!),
});

await warmUp(() => builds.B.train(builds.B.Network.create(sizes, { seed: 1 }), data, { epochs: 2, miniBatchSize, eta: 3.0, seed: 1, threads }));
const results = { A: [] as Measure[], B: [] as Measure[] };
/** B ÷ A of each measured round's examples/s: all rounds, and the quiet ones (no CPU time stolen during either epoch). */
const ratios = emptySplit();
for (let pair = 0; pair < pairs; pair++) {
  await sleep(300);
  const which = pair % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const); // who takes the first turn
  const measured = await epochsInTurn(
    which.map((w) => ({
      network: builds[w].Network.create(sizes, { seed: pair + 1 }), data, options: { miniBatchSize, eta: 3.0, seed: pair + 1, threads }, shoal: builds[w],
    })),
    3,
  );
  which.forEach((w, i) => results[w].push(...measured[i]!.epochs.map(measureOf)));
  const paired = pairedRatios(measured[which.indexOf("A")]!, measured[which.indexOf("B")]!, (e) => e.examplesPerSecond);
  addSplit(ratios, paired);
}

/** The commit a checkout is at, "+ changes" if its code differs from it (results written by benchmarks do not count). */
function commitOf(dir: string): string {
  const git = (...args: string[]): string => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" }).trim();
  try {
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/RESULTS.md", ":!bench/*.svg") ? " + changes" : ""}`;
  } catch {
    return "not a git checkout";
  }
}

const rates = (w: "A" | "B"): number[] => results[w].map((r) => r.rate);
const rows = (["A", "B"] as const).map((w) => [
  w, `${w === "A" ? values.a! : values.b} (${commitOf(w === "A" ? values.a! : values.b)})`, spread(rates(w)), `${median(results[w].map((r) => r.sync)).toFixed(1)}%`,
]);
const command =
  `npm run bench:ab -- --a ${values.a} --b ${values.b} --net ${values.net} --batch ${miniBatchSize} --threads ${threads} --pairs ${pairs}` +
  (section === "ab" ? "" : ` --section ${section}`);
const markdown =
  `### A/B (\`${command}\`)\n\n${machine()}. ${values.net}, batch ${miniBatchSize}, ${threads} thread(s), float32; ${pairs} runs in one process; in each, A and B train ` +
  `at once, taking turns one epoch each (who goes first alternates), past their JIT warm-up, then 3 rounds measured: median (min–max) of the epochs.\n\n` +
  `${table(["build", "checkout", "examples/s", "barrier share"], rows)}\n\n` +
  `B ÷ A, median of the rounds' ratios: **${median(ratios.all).toFixed(3)}**; over the quiet rounds (no CPU time stolen by the hypervisor ` +
  `during either epoch): ${ratios.quiet.length ? median(ratios.quiet).toFixed(3) : "–"} (${ratios.quiet.length} of ${ratios.all.length} rounds); medians' ratio ${(median(rates("B")) / median(rates("A"))).toFixed(3)}. ` +
  `Per round: ${ratios.all.map((r) => r.toFixed(2)).join(" ")} (B faster in ${ratios.all.filter((r) => r > 1).length} of ${ratios.all.length}).`;
console.log(markdown);
if (values.record) await recordSection(section, markdown);
