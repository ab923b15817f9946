import type { NamedData, JobSpec } from "../service/spec.js";
import { PoolSet } from "../train/pool-set.js";
import { trainSpec } from "./run-job.js";
import { createRedisJobQueue } from "./redis-job-queue.js";

/** A hyperparameter grid: every combination of `eta`, `lambda`, `momentum`, `layers` and `seed` becomes one job. */
export interface SweepGrid {
  eta: number[];
  /** L2's λ values (default [0]: no L2). */
  lambda?: number[];
  /** Momentum's μ values (default [0]: none). */
  momentum?: number[];
  layers: number[][];
  seed: number[];
  data: NamedData;
  epochs: number;
  miniBatchSize: number;
  threads: number | "auto";
}

/** One finished (or failed) job of a sweep. */
export interface SweepRow {
  eta: number;
  lambda: number;
  momentum: number;
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

/** The grid's job specs, layers outermost, then eta, then lambda, then momentum, then seed. */
export function sweepSpecs(grid: SweepGrid): JobSpec[] {
  const specs: JobSpec[] = [];
  for (const layers of grid.layers) {
    for (const eta of grid.eta) {
      for (const lambda of grid.lambda ?? [0]) {
        for (const momentum of grid.momentum ?? [0]) {
          for (const seed of grid.seed) {
            const name = `sweep ${rowName({ eta, lambda, momentum, layers })} seed=${seed}`;
            specs.push({
              data: grid.data, layers, eta, ...(lambda > 0 && { lambda }), ...(momentum > 0 && { momentum }), seed,
              epochs: grid.epochs, miniBatchSize: grid.miniBatchSize, threads: grid.threads, name,
            });
          }
        }
      }
    }
  }
  return specs;
}

/** A row's hyperparameters as `eta=3 lambda=5 momentum=0.9 layers=784-30-10` (λ and μ only when set), for job names and progress lines. */
export function rowName(row: Pick<SweepRow, "eta" | "lambda" | "momentum" | "layers">, equals = "="): string {
  const set = (name: string, value: number): string => (value > 0 ? ` ${name}${equals}${value}` : "");
  return `eta${equals}${row.eta}${set("lambda", row.lambda)}${set("momentum", row.momentum)} layers${equals}${row.layers.join("-")}`;
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
  const base = (spec: JobSpec): SweepRow => ({ eta: spec.eta, lambda: spec.lambda ?? 0, momentum: spec.momentum ?? 0, layers: spec.layers, seed: spec.seed!, status: "done" });
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
  const header = ["rank", "layers", "eta", "lambda", "momentum", "seed", "accuracy", "cost", "seconds", "worker"];
  const body = rows.map((r, i) => [
    String(i + 1),
    r.layers.join("-"),
    String(r.eta),
    String(r.lambda),
    String(r.momentum),
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
