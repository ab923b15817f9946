/**
 * Part memory of the start suite: resident memory over back-to-back one-epoch train() calls in
 * one process (built, when dist/ is current; else from source). Each call copies the digits into
 * a run's shared memory; a pool (the default one, or one kept by the caller) keeps its last run's
 * memory and the next run reuses it, where a pool per call makes new memory that only a V8
 * collection frees. RSS is read after each call.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { median, table } from "../../stats.js";
import { distProblem } from "./processes.js";

const run = promisify(execFile);

export interface MemorySettings {
  readonly root: string;
  readonly runs: number;
  readonly threads: number;
  readonly log: (line: string) => void;
}

/** How each run gets its threads. */
const modes = {
  "default pool": "undefined",
  "a pool per call (new memory each run)": "lib.createPool({ threads })",
} as const;

export async function memoryPart({ root, runs, threads, log }: MemorySettings): Promise<string> {
  const built = distProblem(root) === undefined;
  const entry = pathToFileURL(path.join(root, built ? "dist/src/index.js" : "src/index.ts")).href;
  const rows: string[][] = [];
  for (const [mode, pool] of Object.entries(modes)) {
    const script = `
      const lib = await import(${JSON.stringify(entry)});
      const { train } = await lib.loadMnistDigits();
      const threads = ${threads};
      const rss = [];
      for (let i = 0; i < ${runs}; i++) {
        const pool = ${pool};
        await lib.train(lib.Network.create([784, 30, 10], { seed: 1 }), train, { epochs: 1, miniBatchSize: 10, eta: 3, seed: 1, ...(pool ? { pool } : { threads }) });
        await pool?.close();
        rss.push(process.memoryUsage.rss());
      }
      console.log(JSON.stringify(rss));`;
    // a file, not node -e: the worker threads inherit the process's execArgv, and -e is not theirs
    const dir = await mkdtemp(path.join(tmpdir(), "shoal-memory-"));
    const file = path.join(dir, "runs.mjs");
    await writeFile(file, script);
    const { stdout } = await run(process.execPath, [...(built ? [] : ["--import", "tsx"]), file], { cwd: root, maxBuffer: 1 << 24 }).finally(() => rm(dir, { recursive: true, force: true }));
    const rss = (JSON.parse(stdout.trim().split("\n").at(-1)!) as number[]).map((bytes) => bytes / 2 ** 20);
    const first = rss[0]!;
    const mb = (x: number): string => `${Math.round(x)}`;
    rows.push([mode, mb(first), mb(median(rss)), mb(Math.max(...rss)), mb(rss.at(-1)!), `${(rss.at(-1)! / first).toFixed(2)}×`, `${(Math.max(...rss) / first).toFixed(2)}×`]);
    log(rows.at(-1)!.join("  "));
  }
  return `#### Memory over ${runs} back-to-back runs

W1 (784-30-10, batch 10, η 3.0, the 8,000 bundled digits), ${runs} one-epoch \`train()\` calls on ${threads} thread(s) in one process (${built ? "built" : "from source"}); resident memory (RSS, MiB) after each call.

${table(["threads from", "after the 1st", "median", "most", `after run ${runs}`, "last ÷ 1st", "most ÷ 1st"], rows)}`;
}
