import { rowName, runSweep, sweepSpecs, sweepTable } from "../distributed/sweep.js";

// The options type lives here, not beside the command, so the command imports this module (lazily) and not the other way round.
/** What `shoal sweep`'s flags parse to. */
export interface SweepCommandOptions {
  eta: number[];
  lambda: number[];
  momentum: number[];
  dropout: number[];
  layers: number[][];
  seed: number[];
  data: "mnist" | "fashion-mnist";
  epochs: number;
  batch: number;
  threads: number | "auto";
  limit?: number;
  testLimit?: number;
  redis?: string;
  queue: string;
  json?: boolean;
}

/** `shoal sweep`: the grid's jobs, then the table (or JSON) on stdout; a line per finished job on stderr. */
export async function sweepCommand(options: SweepCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const data = { name: options.data, ...(options.limit === undefined ? {} : { limit: options.limit }), ...(options.testLimit === undefined ? {} : { testLimit: options.testLimit }) };
  const specs = sweepSpecs({ eta: options.eta, lambda: options.lambda, momentum: options.momentum, dropout: options.dropout, layers: options.layers, seed: options.seed, data, epochs: options.epochs, miniBatchSize: options.batch, threads: options.threads });
  process.stderr.write(`shoal sweep: ${specs.length} jobs${options.redis ? ` on queue ${options.queue} at ${options.redis}` : ", in process"}\n`);
  const controller = new AbortController();
  const onInt = (): void => controller.abort();
  process.once("SIGINT", onInt);
  let done = 0;
  try {
    const rows = await runSweep(specs, {
      ...(options.redis === undefined ? {} : { redis: options.redis, queue: options.queue }),
      signal: controller.signal,
      onRow: (row) => process.stderr.write(`shoal sweep: ${++done}/${specs.length} ${rowName(row, " ")} seed ${row.seed}: ${row.status}${row.accuracy === undefined ? "" : ` ${(row.accuracy * 100).toFixed(2)}%`}\n`),
    });
    out.write(options.json ? `${JSON.stringify(rows)}\n` : `${sweepTable(rows)}\n`);
  } finally {
    process.off("SIGINT", onInt);
  }
}
