/**
 * The scaling measurement shared by `npm run bench` (suites/scaling.ts) and `shoal bench`: for each
 * workload of a grid (network × batch × dtype), a fresh training per thread count, all taking turns
 * one epoch each (takeTurns) past their JIT warm-up, then `rounds` measured rounds; `runs` times.
 * At 2+ threads shoal may be measured with each parallel strategy asked for (the example split, the
 * neuron split where it can run the workload), taking turns in the same rounds; at 1 thread both
 * are the same work, measured once (as the example split) and the base of both strategies' speedups.
 * Peers (other trainers, such as the python scripts of python-peers.ts) may join each run's turns,
 * so they are measured under the same conditions as shoal, round by round.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Dataset } from "../core/dataset.js";
import { Network, type DType } from "../core/network.js";
import type { StepPhases } from "../parallel/epoch-share.js";
import type { Parallelism } from "../parallel/shared-state.js";
import { kernelChoice, neuronSplitRefusal } from "../train/options.js";
import { train } from "../train/train.js";
import { addSplit, barrierShare, emptySplit, type Split } from "./stats.js";
import { pace, trainingContender, warmUpMachine } from "./training.js";
import { pairedRatios, takeTurns, turnValues, type Contender } from "./turns.js";

/** One turn of any contender of a scaling run: an epoch of shoal's, or of a peer's. */
export interface RateSample {
  readonly examplesPerSecond: number;
  /** Wall seconds of the epoch (its warm-up counts them). */
  readonly seconds: number;
  /** shoal's threaded epochs: where a worker's step time went. */
  readonly phases?: StepPhases;
}

/** What to measure: every network × batch × dtype, at every thread count. */
export interface ScalingGrid {
  /** Thread counts; 1 must be among them for speedups. */
  readonly threads: readonly number[];
  /** Layer sizes, input first. */
  readonly nets: readonly (readonly number[])[];
  readonly batches: readonly number[];
  readonly dtypes: readonly DType[];
  /** Runs per workload, each with fresh networks (seed run + 1). */
  readonly runs: number;
  /**
   * How shoal's threads share each step at 2+ threads, each measured in the same turns (default:
   * the example split only). The neuron split only where it can run a workload; a workload it
   * cannot run gets the example split.
   */
  readonly strategies?: readonly Parallelism[];
}

/** One cell of the grid. */
export interface ScalingWorkload {
  readonly sizes: readonly number[];
  readonly miniBatchSize: number;
  readonly dtype: DType;
}

/** A contender besides shoal in a workload's runs: `name` at `threads` (its speedups are against its own 1-thread entry). */
export interface PeerEntry {
  readonly name: string;
  readonly threads: number;
  readonly contender: Contender<RateSample>;
}

/** One contender's measured turns over all runs of a workload. */
export interface Measured {
  /** "shoal", or a peer's name. */
  readonly name: string;
  readonly threads: number;
  /** shoal's: how its threads shared each step (at 1 thread: "examples", the base of both strategies); null for a peer. */
  readonly strategy: Parallelism | null;
  readonly samples: RateSample[];
  /** Each measured round's examples/s ÷ the same contender's at 1 thread in that round (all rounds, quiet rounds); empty without a 1-thread entry. */
  readonly speedup: Split;
  /** Per epoch with phases: a worker's barrier share (%), over all epochs and the quiet ones. */
  readonly barrierShare: Split;
  /** Per run: CPU time the hypervisor took during the measured turns, % of the machine's. */
  readonly steal: number[];
}

export interface WorkloadResult {
  readonly workload: ScalingWorkload;
  /** The strategies shoal was measured with at 2+ threads (those asked for that can run this workload). */
  readonly strategies: readonly Parallelism[];
  /** Why the neuron split was asked for but not measured: its refusal of this workload (neuronSplitRefusal). */
  readonly neuronSplitRefusal?: string;
  /** shoal's entries first (in the grid's thread order, each count's strategies in the grid's order), then the peers'. */
  readonly measured: Measured[];
}

/** How a measurement runs: --quick pace, progress lines, and the peers that join each run. */
export interface ScalingSettings {
  readonly quick: boolean;
  readonly log?: (line: string) => void;
  /** Peers for one run of a workload (fresh processes each run, as shoal gets fresh networks); they are closed with the run. */
  readonly peers?: (workload: ScalingWorkload, run: number) => PeerEntry[];
}

/**
 * Measures `grid` on `data` (sigmoid, quadratic cost, η 3.0). The machine is first kept busy (its
 * clock ramps up under load; not under --quick). Returns the workloads in the grid's order
 * (dtype, then network, then batch).
 */
export async function measureScaling(grid: ScalingGrid, data: Dataset, settings: ScalingSettings): Promise<WorkloadResult[]> {
  const { rounds, warmUp, machineMs, pauseMs } = pace(settings.quick);
  const { epochs: warmEpochs = 2, seconds: warmSeconds = 1 } = warmUp;
  const busiest = Math.max(...grid.threads);
  await warmUpMachine(() => train(Network.create([data.inputSize, 30, 10], { seed: 1 }), data, { epochs: 2, miniBatchSize: 10, eta: 3.0, seed: 1, threads: busiest }), machineMs);
  const results: WorkloadResult[] = [];
  for (const dtype of grid.dtypes) {
    for (const sizes of grid.nets) {
      for (const miniBatchSize of grid.batches) {
        const workload: ScalingWorkload = { sizes, miniBatchSize, dtype };
        const { strategies, refusal } = workloadStrategies(grid.strategies ?? ["examples"], workload);
        const split = strategies.length > 1 ? `, ${strategies.join(" and ")} split` : "";
        settings.log?.(`${sizes.join("-")} batch ${miniBatchSize} ${dtype}: ${grid.runs} run${grid.runs === 1 ? "" : "s"}${split}`);
        let measured: Measured[] | undefined;
        for (let run = 0; run < grid.runs; run++) {
          await sleep(pauseMs);
          const entries: (PeerEntry & { readonly strategy: Parallelism | null })[] = [
            ...grid.threads.flatMap((threads) => (threads === 1 ? (["examples"] as const) : strategies).map((strategy) => ({
              name: "shoal",
              threads,
              strategy,
              contender: trainingContender({ network: Network.create(sizes, { seed: run + 1, dtype }), data, options: { miniBatchSize, eta: 3.0, seed: run + 1, threads, parallelism: strategy } }, `${threads} ${strategy}`),
            }))),
            ...(settings.peers?.(workload, run) ?? []).map((peer) => ({ ...peer, strategy: null })),
          ];
          measured ??= entries.map(({ name, threads, strategy }) => ({ name, threads, strategy, samples: [], speedup: emptySplit(), barrierShare: emptySplit(), steal: [] }));
          const turns = await takeTurns<RateSample>(entries.map((e) => e.contender), {
            rounds,
            // past the JIT warm-up: see epochsInTurn
            warm: (done) => done.every((samples) => samples.length >= warmEpochs && samples.reduce((s, r) => s + r.seconds, 0) >= warmSeconds),
          });
          turns.forEach((t, i) => {
            const into = measured![i]!;
            const base = turns[entries.findIndex((e) => e.name === into.name && e.threads === 1)];
            into.samples.push(...t.samples);
            if (t.steal !== undefined) into.steal.push(100 * t.steal);
            if (base) addSplit(into.speedup, pairedRatios(base, t, (s) => s.examplesPerSecond));
            if (t.samples.every((s) => s.phases)) addSplit(into.barrierShare, turnValues(t, (s) => barrierShare(s.phases!)));
          });
        }
        results.push({ workload, strategies, ...(refusal !== undefined && { neuronSplitRefusal: refusal }), measured: measured ?? [] });
      }
    }
  }
  return results;
}

/**
 * The strategies of `asked` that can run `workload` (the example split when none can), and why the
 * neuron split cannot, if it was asked for. The kernel is the one train() picks for a neuron split
 * of the workload's dtype (kernelChoice, so this follows it), the layers network.py's (those of Network.create).
 */
function workloadStrategies(asked: readonly Parallelism[], { sizes, miniBatchSize, dtype }: ScalingWorkload): { strategies: Parallelism[]; refusal?: string } {
  if (!asked.includes("neurons")) return { strategies: [...asked] };
  const layers = Network.create(sizes, { seed: 1, dtype }).spec;
  const refusal = neuronSplitRefusal(sizes, kernelChoice("auto", dtype, 2, "neurons"), layers, miniBatchSize, 0, dtype);
  if (refusal === undefined) return { strategies: [...asked] };
  return { strategies: ["examples"], refusal };
}
