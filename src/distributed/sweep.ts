import type { NamedData, JobSpec } from "../service/spec.js";
import { PoolSet } from "../train/pool-set.js";
import { trainSpec } from "./run-job.js";
import { createRedisJobQueue } from "./redis-job-queue.js";

/** The training rules a sweep may vary besides η: L2's λ, momentum's μ and dropout's p (0: the rule is off). */
export const sweepRules = ["lambda", "momentum", "dropout"] as const;
export type SweepRule = (typeof sweepRules)[number];

/** A hyperparameter grid: every combination of `eta`, the rules' values, `layers` and `seed` becomes one job. */
export interface SweepGrid extends Partial<Record<SweepRule, number[]>> {
  eta: number[];
  layers: number[][];
  seed: number[];
  data: NamedData;
  epochs: number;
  miniBatchSize: number;
  threads: number | "auto";
}

/** One finished (or failed) job of a sweep (its rules' values: 0 when off). */
export interface SweepRow extends Record<SweepRule, number> {
  eta: number;
  layers: number[];
  seed: number;
  status: "done" | "failed" | "cancelled";
  accuracy?: number;
  cost?: number;
  seconds?: number;
  worker?: string;
  id?: string;
  error?: string;
}

/** The grid's job specs, layers outermost, then eta, then each rule's values (λ, μ, p), then seed. */
export function sweepSpecs(grid: SweepGrid): JobSpec[] {
  // every combination of the rules' values, λ varying slowest
  let settings: Record<SweepRule, number>[] = [{ lambda: 0, momentum: 0, dropout: 0 }];
  for (const rule of sweepRules) settings = settings.flatMap((set) => (grid[rule] ?? [0]).map((value) => ({ ...set, [rule]: value })));
  const specs: JobSpec[] = [];
  for (const layers of grid.layers) {
    for (const eta of grid.eta) {
      for (const set of settings) {
        const on = Object.fromEntries(Object.entries(set).filter(([, value]) => value > 0));
        for (const seed of grid.seed) {
          specs.push({
            data: grid.data, layers, eta, ...on, seed, epochs: grid.epochs, miniBatchSize: grid.miniBatchSize, threads: grid.threads,
            name: `sweep ${rowName({ eta, ...set, layers })} seed=${seed}`,
          });
        }
      }
    }
  }
  return specs;
}

/** A row's hyperparameters as `eta=3 lambda=5 momentum=0.9 layers=784-30-10` (a rule only when set), for job names and progress lines. */
export function rowName(row: Pick<SweepRow, "eta" | SweepRule | "layers">, equals = "="): string {
  const set = sweepRules.map((rule) => (row[rule] > 0 ? ` ${rule}${equals}${row[rule]}` : "")).join("");
  return `eta${equals}${row.eta}${set} layers${equals}${row.layers.join("-")}`;
}

/** Options of {@link runSweep}. */
export interface SweepOptions {
  /** Enqueue on this Redis for `shoal worker` processes; without it the jobs train here, one after another. */
  redis?: string;
  queue?: string;
  signal?: AbortSignal;
  /** Called as each job ends. */
  onRow?: (row: SweepRow) => void;
}

/** Runs every spec (all enqueued together with Redis) and resolves with the rows, best test accuracy first. */
export async function runSweep(specs: JobSpec[], options: SweepOptions = {}): Promise<SweepRow[]> {
  const rows: SweepRow[] = [];
  const base = (spec: JobSpec): SweepRow => ({
    eta: spec.eta, lambda: spec.lambda ?? 0, momentum: spec.momentum ?? 0, dropout: spec.dropout ?? 0, layers: spec.layers, seed: spec.seed!, status: "done",
  });
  /** One spec trained here: its row (a failure is a row too, unless the sweep was aborted). */
  const trainRow = async (spec: JobSpec, pools: PoolSet): Promise<SweepRow> => {
    const started = performance.now();
    let row: SweepRow;
    try {
      const { result } = await trainSpec(spec, { pools, ...(options.signal && { signal: options.signal }) });
      const last = result.epochs[result.epochs.length - 1];
      row = { ...base(spec), cost: last?.cost, seconds: (performance.now() - started) / 1000, worker: "in-process" };
      if (last?.accuracy !== undefined) row.accuracy = last.accuracy;
    } catch (error) {
      if (options.signal?.aborted) throw error;
      row = { ...base(spec), status: "failed", error: error instanceof Error ? error.message : String(error) };
    }
    options.onRow?.(row);
    return row;
  };
  if (options.redis === undefined) {
    const pools = new PoolSet(); // the specs run one after another on the same warm threads
    try {
      for (const spec of specs) rows.push(await trainRow(spec, pools));
    } finally {
      await pools.close();
    }
    return sortRows(rows);
  }
  const jobQueue = await createRedisJobQueue({ redis: options.redis, queue: options.queue ?? "shoal" });
  try {
    const jobs: { spec: JobSpec; info: { id: string } }[] = [];
    for (const spec of specs) jobs.push({ spec, info: await jobQueue.submit(spec) });
    const cancelAll = (): void => void Promise.allSettled(jobs.map((j) => jobQueue.cancel(j.info.id)));
    options.signal?.addEventListener("abort", cancelAll, { once: true });
    await Promise.all(
      jobs.map(async ({ spec, info }) => {
        const end = await jobQueue.wait(info.id);
        const row: SweepRow = { ...base(spec), status: end.status as SweepRow["status"], id: end.id };
        if (end.accuracy !== undefined) row.accuracy = end.accuracy;
        if (end.cost !== undefined) row.cost = end.cost;
        if (end.seconds !== undefined) row.seconds = end.seconds;
        if (end.worker !== undefined) row.worker = end.worker.name;
        if (end.error !== undefined) row.error = `${end.error.name}: ${end.error.message}`;
        rows.push(row);
        options.onRow?.(row);
      }),
    );
    options.signal?.removeEventListener("abort", cancelAll);
    return sortRows(rows);
  } finally {
    await jobQueue.close();
  }
}

/** Best test accuracy first (then lowest cost); failed jobs last. */
function sortRows(rows: SweepRow[]): SweepRow[] {
  return rows.sort((a, b) => (b.accuracy ?? -1) - (a.accuracy ?? -1) || (a.cost ?? Infinity) - (b.cost ?? Infinity));
}

/** The results as a text table, best first. */
export function sweepTable(rows: readonly SweepRow[]): string {
  const header = ["rank", "layers", "eta", ...sweepRules, "seed", "accuracy", "cost", "seconds", "worker"];
  const body = rows.map((r, i) => [
    String(i + 1),
    r.layers.join("-"),
    String(r.eta),
    ...sweepRules.map((rule) => String(r[rule])),
    String(r.seed),
    r.status !== "done" ? r.status : r.accuracy === undefined ? "–" : `${(r.accuracy * 100).toFixed(2)}%`,
    r.cost === undefined ? "–" : r.cost.toFixed(4),
    r.seconds === undefined ? "–" : r.seconds.toFixed(2),
    r.status === "done" ? (r.worker ?? "–") : (r.error ?? r.status),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd();
  return [line(header), ...body.map(line)].join("\n");
}
