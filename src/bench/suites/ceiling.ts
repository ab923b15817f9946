/**
 * What the weights crossing between cores cost: a real N-thread training against the same training
 * with private weights (benchmark-only, and its network is wrong: every worker but worker 0 runs
 * its passes on a private copy of the weights that only its own rows' updates reach, so no updated
 * weight crosses between cores, while the work and the barriers stay those of a real run), both
 * against 1 thread, and N independent 1-thread trainings running at once (they never wait for each
 * other: what this machine gives N threads that do not work in lockstep). The four take turns one
 * epoch each (epochsInTurn), so every ratio is paired.
 */
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { Network } from "../../core/network.js";
import { TrainingPool } from "../../parallel/pool.js";
import { train } from "../../train/train.js";
import { addSplit, emptySplit, machine, quietCell, table, times } from "../stats.js";
import { arg, defineSuite } from "../suite.js";
import { digits, epochsInTurn, independentTrainings, pace, warmUpMachine, type Contestant, type Shoal } from "../training.js";
import { pairedRatios } from "../turns.js";

/**
 * The one place the benchmark-only private-weights variant is asked for: a pool whose runs give
 * workers k > 0 private weights (SharedRun.privateWeights), never a train() option.
 */
function privateWeights(pool: TrainingPool): (options: Contestant["options"]) => Contestant["options"] {
  return (options) => ({ ...options, pool });
}

export const ceiling = defineSuite({
  name: "ceiling",
  script: "bench:ceiling",
  section: "ceiling",
  summary: "N threads against N threads with private weights and N independent trainings, taking turns",
  options: {
    threads: { type: "string", default: () => String(Math.max(2, availableParallelism())), help: "N, an integer ≥ 2" },
    nets: { type: "string", default: "784-30-10", help: "networks" },
    batches: { type: "string", default: "10,100", quick: "10", help: "mini-batch sizes" },
    runs: { type: "string", default: "6", quick: "1", help: "runs (each: fresh networks, 3 rounds measured)" },
  },
  async run(values, { quick, command, log }) {
    const threads = arg.integer("threads", values.threads, 2);
    const runs = arg.integer("runs", values.runs);
    const nets = arg.nets("nets", values.nets);
    const batches = arg.integers("batches", values.batches);
    const { rounds, warmUp, machineMs, pauseMs } = pace(quick);
    const { train: data } = await digits(quick);
    await warmUpMachine(() => train(Network.create([784, 30, 10], { seed: 1 }), data, { epochs: 2, miniBatchSize: 10, eta: 3.0, seed: 1, threads }), machineMs);
    const rows: string[][] = [];
    for (const sizes of nets) {
      for (const miniBatchSize of batches) {
        const [real, ceilingRatio, gain, apart] = [emptySplit(), emptySplit(), emptySplit(), emptySplit()];
        for (let run = 0; run < runs; run++) {
          await sleep(pauseMs);
          const contestant = (n: number, options = (o: Contestant["options"]) => o, shoal?: Shoal): Contestant => ({
            network: Network.create(sizes, { seed: run + 1 }), data, options: options({ miniBatchSize, eta: 3.0, seed: run + 1, threads: n, parallelism: "examples" }), ...(shoal && { shoal }),
          });
          const privatePool = new TrainingPool(threads, { privateWeights: true });
          const [one, shared, own, many] = await epochsInTurn(
            [contestant(1), contestant(threads), contestant(threads, privateWeights(privatePool)), contestant(1, undefined, independentTrainings(threads))],
            rounds,
            warmUp,
          ).finally(() => privatePool.close());
          const rate = (e: { examplesPerSecond: number }): number => e.examplesPerSecond;
          for (const [into, base, of] of [[real, one, shared], [ceilingRatio, one, own], [gain, shared, own], [apart, one, many]] as const) {
            addSplit(into, pairedRatios(base!, of!, rate));
          }
        }
        rows.push([sizes.join("-"), String(miniBatchSize), ...[real, ceilingRatio, gain, apart].map((split) => quietCell(split, times))]);
        log(rows.at(-1)!.join("  "));
      }
    }
    const header = [
      "network", "batch", `${threads} threads ÷ 1 thread: all / quiet rounds`, `${threads} threads, private weights ÷ 1 thread`, "private ÷ shared weights",
      `${threads} independent 1-thread trainings ÷ 1`,
    ];
    const markdown =
      `### What the weights crossing cores cost (\`${command}\`)\n\n${machine()}. float32 (wasm kernel), ${data.count.toLocaleString("en-US")} digits, η 3.0. ${runs} runs; in each, 1 thread, ` +
      `${threads} threads, ${threads} threads with private weights (benchmark-only: each worker but the first computes on its own copy of the weights, ` +
      `which only its own rows' updates reach, so no updated weight crosses between cores; same work and barriers, wrong network), and ${threads} independent 1-thread trainings at once (each epoch started together, counted ` +
      `when the last one ends) take turns one epoch each past their JIT warm-up, then ${rounds} rounds are measured. Each cell: median of the rounds' examples/s ratios, over all rounds / over the quiet ` +
      `rounds (no CPU time stolen by the hypervisor during either epoch), and how many were quiet. "private ÷ shared" is what a real run would gain if ` +
      `the updated weights did not have to reach the other cores' caches; the last column is what the machine gives ${threads} threads that never wait ` +
      `for each other.\n\n${table(header, rows)}`;
    return { markdown };
  },
});
