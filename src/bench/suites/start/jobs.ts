/**
 * Part jobs of the start suite: small training jobs through the background trainer, as a server
 * runs them: one trainer kept for the whole measurement, each turn submits `jobs` jobs and waits
 * for all. Measure: jobs per minute. With --baseline, another checkout's background trainer takes
 * turns with this one's, so the two are compared in the same run.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createBackgroundTrainer } from "../../../service/background-trainer.js";
import type { JobSpec } from "../../../service/spec.js";
import { median, spread, table, times } from "../../stats.js";
import { pairedRatios, takeTurns, timed, unmeasuredRounds, type Contender } from "../../turns.js";

/** What the part uses of a background trainer (also of an older checkout's). */
interface Trainer {
  submit(spec: JobSpec): Promise<{ id: string }>;
  wait(id: string): Promise<{ status: string; error?: unknown }>;
  close(): Promise<void>;
}

type CreateTrainer = () => Promise<Trainer>;

export interface JobsSettings {
  readonly jobs: number;
  /** Training examples per job (and test examples: a quarter of it). */
  readonly examples: number;
  readonly rounds: number;
  readonly warmRounds: number;
  /** Another checkout of shoal to compare with, or undefined. */
  readonly baseline: string | undefined;
  readonly log: (line: string) => void;
}

const testExamples = (examples: number): number => Math.max(1, Math.floor(examples / 4));

/** The small job: W1, one epoch, batch 10, on the first `examples` bundled digits. */
export const smallJob = (examples: number, seed: number): JobSpec => ({
  data: { name: "mnist", limit: examples, testLimit: testExamples(examples) },
  layers: [784, 30, 10], epochs: 1, miniBatchSize: 10, eta: 3.0, seed,
});

function trainerContender(name: string, create: CreateTrainer, jobs: number, examples: number): Contender<number> {
  let trainer: Trainer | undefined;
  return {
    name,
    async turn() {
      trainer ??= await create(); // the first, unmeasured, round pays for the start
      const ms = await timed(async () => {
        const submitted = await Promise.all(Array.from({ length: jobs }, (_, k) => trainer!.submit(smallJob(examples, k + 1))));
        for (const { id } of submitted) {
          const info = await trainer!.wait(id);
          if (info.status !== "done") throw new Error(`${name}: job ${id} ended ${info.status}: ${String(info.error)}`);
        }
      });
      return (60_000 * jobs) / ms;
    },
    close: async () => trainer?.close(),
  };
}

export async function jobsPart({ jobs, examples, rounds, warmRounds, baseline, log }: JobsSettings): Promise<string> {
  const contenders = [trainerContender("this checkout", () => createBackgroundTrainer({ maxQueue: jobs }), jobs, examples)];
  if (baseline !== undefined) {
    const module = (await import(pathToFileURL(resolve(baseline, "src/service/index.ts")).href)) as { createBackgroundTrainer: (options: { maxQueue: number }) => Promise<Trainer> };
    contenders.push(trainerContender(`baseline ${baseline}`, () => module.createBackgroundTrainer({ maxQueue: jobs }), jobs, examples));
  }
  const measured = await takeTurns(contenders, {
    rounds,
    ...unmeasuredRounds(warmRounds),
    onTurn: (i, r) => log(`round ${r + 1}: ${jobs} jobs, ${contenders[i]!.name}`),
  });
  const rows = contenders.map((c, i) => [
    c.name, spread(measured[i]!.samples), i > 0 || !measured[1] ? "–" : times(median(pairedRatios(measured[1], measured[0]!, (x) => x).all)),
  ]);
  return (
    `#### Jobs through the background trainer\n\n${jobs} small jobs per round (784-30-10, 1 epoch, batch 10, η 3.0, the first ${examples.toLocaleString("en-US")} bundled digits, tested on ` +
    `${testExamples(examples).toLocaleString("en-US")}), submitted at once to one background trainer kept for the whole measurement; jobs per minute from the first submit to the last job done, ` +
    `median (min–max) of ${rounds} rounds after ${warmRounds} unmeasured (the first pays for the trainer's start and its data).` +
    (baseline === undefined ? "" : ` The baseline's trainer takes turns with this one's; "this ÷ baseline" is the median of the rounds' ratios.`) +
    `\n\n${table(["trainer", "jobs/minute", "this ÷ baseline"], rows)}`
  );
}
