/**
 * The start suite (issue 16 §5): what a run costs before and around its steady epochs. Parts,
 * each selectable with --part:
 *   e2e    `shoal train --epochs 10` as a whole process, from source and built, beside the numpy
 *          script doing the same training (when python3 with numpy is present)
 *   first  from the same processes: the first epoch ÷ the steady ones
 *   warm   one-epoch train() on a cold pool, a warm pool, and without a pool, ÷ a steady epoch
 *   auto   threads "auto" ÷ the best fixed thread count, networks × batch sizes
 *   jobs   small jobs through the background trainer: jobs per minute
 *   memory resident memory over back-to-back one-epoch runs in one process
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { loadMnistDigits } from "../../data/mnist.js";
import { machine } from "../stats.js";
import { arg, defineSuite, everyThreadCount } from "../suite.js";
import { digits, pace } from "../training.js";
import { autoPart } from "./start/auto.js";
import { processParts } from "./start/e2e.js";
import { jobsPart } from "./start/jobs.js";
import { memoryPart } from "./start/memory.js";
import { repositoryRoot } from "./start/processes.js";
import { warmPart } from "./start/warm.js";

const parts = ["e2e", "first", "warm", "auto", "jobs", "memory"] as const;

export const start = defineSuite({
  name: "start",
  script: "bench:start",
  section: "start",
  // A run of some parts records beside the whole suite's section, not over it.
  sectionFor(values) {
    const chosen = parts.filter((p) => values.part.split(",").map((s) => s.trim()).includes(p));
    return chosen.length === parts.length ? "start" : `start-${chosen.join("-")}`;
  },
  summary: "start-up costs: whole `shoal train` processes beside numpy, first epoch, cold and warm train(), auto, background jobs",
  options: {
    part: { type: "string", default: parts.join(","), help: `parts to run, of ${parts.join(", ")}` },
    rounds: { type: "string", default: "10", quick: "1", help: "measured rounds of each part" },
    epochs: { type: "string", default: "10", quick: "2", help: "e2e, first: epochs of each `shoal train`" },
    threads: { type: "string", default: everyThreadCount, quick: "1", help: "warm: thread counts; auto: the fixed counts" },
    nets: { type: "string", default: "784-30-10,784-100-10,784-256-128-10", quick: "784-30-10", help: "auto: networks" },
    batches: { type: "string", default: "10,100", quick: "10", help: "auto: mini-batch sizes" },
    jobs: { type: "string", default: "16", quick: "2", help: "jobs: jobs per round" },
    "job-examples": { type: "string", default: "1000", quick: "100", help: "jobs: training examples per job" },
    "memory-runs": { type: "string", default: "100", quick: "3", help: "memory: back-to-back runs in one process" },
    baseline: { type: "string", help: "jobs: another checkout of shoal whose background trainer takes turns with this one's" },
    numpy: { type: "string", help: "e2e: the numpy peer script (default: src/bench/peers/numpy_w1.py of this repository)" },
    build: { type: "boolean", default: true, help: "e2e: build dist/ if it is missing or stale (--no-build: skip the built contender then)" },
  },
  async run(values, { quick, command, log }) {
    const chosen = new Set(arg.choices("part", values.part, parts));
    const rounds = arg.integer("rounds", values.rounds);
    const epochs = arg.integer("epochs", values.epochs);
    const threadCounts = arg.integers("threads", values.threads);
    const warmRounds = quick ? 0 : 1;
    const { warmUp } = pace(quick);
    const sections: string[] = [];
    if (chosen.has("e2e") || chosen.has("first")) {
      const root = repositoryRoot();
      const numpyScript = values.numpy ?? path.join(root, "src/bench/peers/numpy_w1.py");
      const settings = { root, epochs, rounds, warmRounds, build: values.build, numpyScript: existsSync(numpyScript) ? numpyScript : undefined, digits: await loadMnistDigits(), log };
      sections.push(await processParts(settings, { e2e: chosen.has("e2e"), first: chosen.has("first") }));
    }
    if (chosen.has("warm") || chosen.has("auto")) {
      const { train: data } = await digits(quick);
      if (chosen.has("warm")) sections.push(await warmPart({ threadCounts, rounds, warmRounds: quick ? 0 : 3, data, log }));
      if (chosen.has("auto")) {
        const nets = arg.nets("nets", values.nets);
        const batches = arg.integers("batches", values.batches);
        sections.push(await autoPart({ nets, batches, threadCounts, rounds, warmUp, data, log }));
      }
    }
    if (chosen.has("jobs")) {
      const jobs = arg.integer("jobs", values.jobs);
      const examples = arg.integer("job-examples", values["job-examples"]);
      sections.push(await jobsPart({ jobs, examples, rounds, warmRounds, baseline: values.baseline, log }));
    }
    if (chosen.has("memory")) {
      const runs = arg.integer("memory-runs", values["memory-runs"]);
      sections.push(await memoryPart({ root: repositoryRoot(), runs, threads: Math.max(...threadCounts), log }));
    }
    return { markdown: `### Start-up and warm threads (\`${command}\`)\n\n${machine()}.\n\n${sections.join("\n\n")}` };
  },
});
