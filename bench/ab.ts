/**
 * A/B of two builds of shoal in ONE process, for changes smaller than this machine's run-to-run
 * noise: runs of A and B alternate (ABBA), each trains a fresh network past its JIT warm-up and
 * measures 3 epochs (steadyEpochs), 0.3 s apart, after a 2.5 s warm-up of the machine. Reports
 * both medians with min–max, B ÷ A of the medians, the per-pair ratios, and the median share of
 * a worker's step time spent at barriers.
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
import { machine, median, recordSection, sectionName, spread, steadyEpochs, table, warmUp } from "./lib.js";

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

/** One run of a build: examples/s over its measured epochs, and its barrier share (%). */
async function measure(shoal: Shoal, seed: number): Promise<{ rate: number; sync: number }> {
  const net = shoal.Network.create(sizes, { seed });
  const { epochs } = await steadyEpochs(net, data, { miniBatchSize, eta: 3.0, seed, threads }, 3, 1, shoal);
  const seconds = epochs.reduce((sum, e) => sum + data.count / e.examplesPerSecond, 0);
  const phases = epochs.map((e) => e.phases!);
  const total = (key: "compute" | "synchronisation" | "update"): number => phases.reduce((sum, p) => sum + p[key], 0);
  const sync = (100 * total("synchronisation")) / (total("compute") + total("synchronisation") + total("update"));
  return { rate: (epochs.length * data.count) / seconds, sync };
}

await warmUp(() => measure(builds.B, 1));
const results = { A: [] as { rate: number; sync: number }[], B: [] as { rate: number; sync: number }[] };
for (let pair = 0; pair < pairs; pair++) {
  for (const which of pair % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const)) {
    await sleep(300);
    results[which].push(await measure(builds[which], pair + 1));
  }
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
const ratios = results.B.map((b, i) => b.rate / results.A[i]!.rate);
const rows = (["A", "B"] as const).map((w) => [
  w, `${w === "A" ? values.a! : values.b} (${commitOf(w === "A" ? values.a! : values.b)})`, spread(rates(w)), `${median(results[w].map((r) => r.sync)).toFixed(1)}%`,
]);
const command =
  `npm run bench:ab -- --a ${values.a} --b ${values.b} --net ${values.net} --batch ${miniBatchSize} --threads ${threads} --pairs ${pairs}` +
  (section === "ab" ? "" : ` --section ${section}`);
const markdown =
  `### A/B (\`${command}\`)\n\n${machine()}. ${values.net}, batch ${miniBatchSize}, ${threads} thread(s), float32; ${pairs} ABBA pairs in one process, ` +
  `3 epochs per run after its JIT warm-up: median (min–max).\n\n` +
  `${table(["build", "checkout", "examples/s", "barrier share"], rows)}\n\n` +
  `B ÷ A (medians): **${(median(rates("B")) / median(rates("A"))).toFixed(3)}**; per pair: ${ratios.map((r) => r.toFixed(2)).join(" ")} ` +
  `(B faster in ${ratios.filter((r) => r > 1).length} of ${pairs}).`;
console.log(markdown);
if (values.record) await recordSection(section, markdown);
