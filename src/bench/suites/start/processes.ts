/**
 * Whole processes as contenders (the e2e and first parts of the start suite): `shoal train` from
 * source and built, and the numpy script doing the same training. Each turn starts the process
 * and waits for it to end; its measure is the wall time from spawn to exit, and the epochs it
 * reported (NDJSON on stdout, as `shoal train --json` prints them).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Dataset } from "../../../core/dataset.js";
import type { MnistSplit } from "../../../data/mnist.js";
import type { Contender } from "../../turns.js";

/** An epoch as a process reported it. */
export interface ProcessEpoch {
  readonly examplesPerSecond: number;
  readonly seconds: number;
  readonly testAccuracy?: number;
}

/** One turn of a process: wall ms from spawn to exit, and its epochs. */
export interface ProcessRun {
  readonly ms: number;
  readonly epochs: ProcessEpoch[];
}

/** The repository this code runs from (from source or from dist/): the first folder upwards holding shoal's package.json. */
export function repositoryRoot(from: URL = new URL(".", import.meta.url)): string {
  for (let dir = fileURLToPath(from); ; ) {
    const file = path.join(dir, "package.json");
    if (existsSync(file) && (JSON.parse(readFileSync(file, "utf8")) as { name?: unknown }).name === "shoal") return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no shoal package.json above ${fileURLToPath(from)}`);
    dir = up;
  }
}

/** A process contender: `command args…` in `cwd`, with `env` added. */
export function processContender(name: string, command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Contender<ProcessRun> {
  return {
    name,
    turn: () =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        child.on("error", reject);
        child.on("close", (code, signal) => {
          const ms = performance.now() - started;
          if (code !== 0) return reject(new Error(`${name}: ${command} ${args.join(" ")} ended with ${signal ?? `exit code ${code}`}: ${stderr.trim().slice(-2000)}`));
          try {
            resolve({ ms, epochs: epochsIn(stdout) });
          } catch (error) {
            reject(new Error(`${name}: ${(error as Error).message}`));
          }
        });
      }),
  };
}

/** The epochs in NDJSON output: the lines with examplesPerSecond and seconds (other lines, such as the numpy script's BLAS line, are skipped). */
export function epochsIn(stdout: string): ProcessEpoch[] {
  const epochs = stdout
    .split("\n")
    .filter((line) => line.trim().startsWith("{"))
    .map((line) => JSON.parse(line) as Partial<ProcessEpoch>)
    .filter((e): e is ProcessEpoch => typeof e.examplesPerSecond === "number" && typeof e.seconds === "number");
  if (!epochs.length) throw new Error(`printed no epochs: ${stdout.slice(0, 500)}`);
  return epochs;
}

/** Why dist/ cannot run as it is ("missing", or the newest source file newer than the build), or undefined if it is current. */
export function distProblem(root: string): string | undefined {
  const built = path.join(root, "dist/src/cli/main.js");
  if (!existsSync(built)) return "dist/ is missing";
  const builtAt = statSync(built).mtimeMs;
  // hand-written sources only: generated files (kernel.wasm, mnist-digits.bin) are rewritten by test runs and the build itself
  const sources = [path.join(root, "package.json"), path.join(root, "tsconfig.json"), path.join(root, "tsconfig.build.json"), ...filesUnder(path.join(root, "src"))];
  const newer = sources.filter((file) => /\.(ts|js|mjs|wat|json)$/.test(file) && statSync(file).mtimeMs > builtAt);
  return newer.length ? `dist/ is older than ${path.relative(root, newer[0]!)}${newer.length > 1 ? ` and ${newer.length - 1} more source files` : ""}` : undefined;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(file) : [file];
  });
}

/** Facts about the python peer: numpy's version, the BLAS threadpoolctl sees, Debian's OpenBLAS package. */
export interface PythonPeer {
  readonly numpy: string;
  /** threadpoolctl's view of the BLAS libraries numpy loaded, or undefined without threadpoolctl. */
  readonly blas: string | undefined;
  /** Whether Debian's libopenblas0-pthread is installed (`dpkg -s`); undefined where there is no dpkg. */
  readonly openblasPthread: boolean | undefined;
}

/** The environment that holds numpy's BLAS to one thread ("numpy 1T"), whether or not threadpoolctl is there to do it. */
export const oneBlasThread = { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" } as const;

/** The python peer's facts, probed under the environment its runs get; undefined without python3 and numpy. */
export function pythonPeer(): PythonPeer | undefined {
  const probe = spawnSync(
    "python3",
    [
      "-c",
      "import json, numpy\ntry:\n  from threadpoolctl import threadpool_info\n  blas = ', '.join(f\"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)\" for i in threadpool_info() if i.get('user_api') == 'blas')\nexcept ImportError:\n  blas = None\nprint(json.dumps({'numpy': numpy.__version__, 'blas': blas}))",
    ],
    { encoding: "utf8", env: { ...process.env, ...oneBlasThread } },
  );
  if (probe.status !== 0) return undefined;
  const { numpy, blas } = JSON.parse(probe.stdout) as { numpy: string; blas: string | null };
  const dpkg = spawnSync("dpkg", ["-s", "libopenblas0-pthread"], { encoding: "utf8" });
  return { numpy, blas: blas ?? undefined, openblasPthread: dpkg.error ? undefined : dpkg.status === 0 && /Status: install ok installed/.test(dpkg.stdout) };
}

/**
 * Writes the digits where the numpy script reads them (outside any timed region): per set, its
 * inputs as little-endian float32 and its labels as bytes, and meta.json with the counts.
 */
export async function exportDigits(dir: string, { train, test }: MnistSplit): Promise<void> {
  await mkdir(dir, { recursive: true });
  const labels = (set: Dataset): Uint8Array => {
    if (set.targets.kind !== "labels") throw new Error("the digits have labels");
    return Uint8Array.from(set.targets.labels);
  };
  const classes = train.targets.kind === "labels" ? train.targets.classes : 0;
  for (const [name, set] of [["train", train], ["test", test]] as const) {
    await writeFile(path.join(dir, `${name}-inputs.f32`), new Uint8Array(set.inputs.buffer, set.inputs.byteOffset, set.inputs.byteLength));
    await writeFile(path.join(dir, `${name}-labels.u8`), labels(set));
  }
  await writeFile(path.join(dir, "meta.json"), JSON.stringify({ inputSize: train.inputSize, train: train.count, test: test.count, classes }));
}
