import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Piscina } from "piscina";
import type { SharedRun } from "./shared-state.js";

// In the repository the worker is TypeScript and needs the tsx loader in its thread (a test
// runner's transform does not reach threads piscina starts); the built package runs compiled .js.
const fromSource = import.meta.url.endsWith(".ts");
const workerFile = new URL(`../../workers/trainer.${fromSource ? "ts" : "js"}`, import.meta.url);
// Resolved from here, not from the working directory, so a run started in any folder finds tsx.
const tsxLoader = fromSource ? [pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href] : [];

/** The worker pool of one training run: exactly `run.threads` threads, each mapping `run` once. */
export function createPool(run: SharedRun): Piscina {
  return new Piscina({
    filename: workerFile.href,
    minThreads: run.threads,
    maxThreads: run.threads,
    concurrentTasksPerWorker: 1, // each epoch task of a run must hold its own thread (they meet at barriers)
    idleTimeout: Number.MAX_SAFE_INTEGER,
    workerData: run,
    execArgv: fromSource ? [...process.execArgv, "--import", ...tsxLoader] : process.execArgv,
  });
}
