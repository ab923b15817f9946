/**
 * The python peers of `shoal bench --peers`: numpy (numpy_w1.py) and PyTorch (torch_w1.py), both
 * network.py vectorised over the mini-batch, shipped beside this module (the build copies
 * peers/*.py to dist/). Each runs as one long process per run of a workload, training one epoch
 * per line it reads on stdin (--turns), so it takes turns with shoal's trainings epoch by epoch.
 * A peer whose python, library or optimised BLAS is missing is skipped with a note saying which.
 */
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { RateSample, PeerEntry, ScalingWorkload } from "./scaling.js";
import { oneBlasThread } from "./suites/start/processes.js";
import { Mailbox, type Contender } from "./turns.js";

/** The peers, by name. */
export const peerNames = ["numpy", "torch"] as const;
export type PeerName = (typeof peerNames)[number];

/** What python has: versions (null: not importable) and the BLAS numpy was built with. */
export interface PythonFacts {
  readonly python: string;
  readonly numpy: string | null;
  /** The BLAS of numpy's build ("scipy-openblas", "mkl", "blas"…), null where numpy does not say. */
  readonly numpyBlas: string | null;
  readonly torch: string | null;
  /** torch's BLAS_INFO (its own BLAS), null where it does not say. */
  readonly torchBlas: string | null;
}

/** A peer that can run: its script and what it runs on, for the report. */
export interface Peer {
  readonly name: PeerName;
  readonly script: string;
  /** e.g. "numpy 2.4.6, scipy-openblas" */
  readonly runsOn: string;
}

/** The peers that can run with `python`, and one note per peer saying what it runs on or what is missing. */
export interface PeerCheck {
  readonly peers: Peer[];
  readonly notes: string[];
}

// Runs without any peer library, so it can say which are missing. numpy's BLAS: the one loaded, by
// threadpoolctl where it is installed; else numpy ≥ 1.25 names its build's in show_config's dicts, older ones in __config__.
const probe = `
import json, sys
facts = {"python": sys.version.split()[0], "numpy": None, "numpyBlas": None, "torch": None, "torchBlas": None}
try:
    import numpy
    facts["numpy"] = numpy.__version__
    try:
        # the BLAS numpy has loaded: Debian's numpy is built against the reference "blas" and gets
        # OpenBLAS at run time through the alternatives system (libopenblas0-pthread), which its
        # build config cannot show
        import threadpoolctl
        loaded = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        if loaded:
            facts["numpyBlas"] = loaded[0].get("internal_api")
    except Exception:
        pass
    try:
        if facts["numpyBlas"] is None:
            blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
            facts["numpyBlas"] = blas.get("name") if blas.get("found", True) else None
    except Exception:
        libraries = getattr(numpy.__config__, "blas_opt_info", {}).get("libraries")
        facts["numpyBlas"] = ",".join(libraries) if libraries else None
except ImportError:
    pass
try:
    import torch
    facts["torch"] = torch.__version__
    info = [part for part in torch.__config__.show().replace(",", "\\n").split("\\n") if "BLAS_INFO=" in part]
    facts["torchBlas"] = info[0].split("=", 1)[1].strip() if info else None
except ImportError:
    pass
print(json.dumps(facts))
`;

/** BLAS builds that are optimised (multi-threaded, vectorised); the reference netlib "blas"/"cblas" is not. */
const optimisedBlas = /openblas|mkl|blis|accelerate|armpl|atlas|flexiblas|nvpl|aocl|essl/i;

/** Asks `python` what it has; a string says why it cannot be asked (not found, or it failed). */
export function probePython(python: string): PythonFacts | string {
  const result = spawnSync(python, ["-c", probe], { encoding: "utf8", env: { ...process.env, ...oneBlasThread }, timeout: 120_000 });
  if (result.error) return (result.error as NodeJS.ErrnoException).code === "ENOENT" ? `${python} not found (give another with --python)` : `${python} did not run: ${result.error.message}`;
  if (result.status !== 0) return `${python} failed: ${result.stderr.trim().split("\n").at(-1) ?? `exit code ${result.status}`}`;
  try {
    const facts = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "") as Partial<PythonFacts>;
    if (typeof facts.python !== "string") throw new Error("no python version");
    return { python: facts.python, numpy: facts.numpy ?? null, numpyBlas: facts.numpyBlas ?? null, torch: facts.torch ?? null, torchBlas: facts.torchBlas ?? null };
  } catch {
    return `${python} printed something other than the probe's answer: ${result.stdout.slice(0, 200)}`;
  }
}

/** Which peers can run with `python`, and why the others cannot. */
export function checkPeers(python: string): PeerCheck {
  const facts = probePython(python);
  if (typeof facts === "string") return { peers: [], notes: peerNames.map((name) => `${name} peer skipped: ${facts}`) };
  const peers: Peer[] = [];
  const notes: string[] = [];
  const on = `${python}, Python ${facts.python}`;
  if (facts.numpy === null) notes.push(`numpy peer skipped: numpy is not installed for ${on}`);
  else if (facts.numpyBlas !== null && !optimisedBlas.test(facts.numpyBlas)) {
    notes.push(`numpy peer skipped: numpy ${facts.numpy} for ${on} uses no optimised BLAS (${facts.numpyBlas}); install OpenBLAS, MKL or BLIS`);
  } else {
    const runsOn = `numpy ${facts.numpy}, ${facts.numpyBlas ?? "BLAS not identified"}`;
    peers.push({ name: "numpy", script: script("numpy_w1.py"), runsOn });
    notes.push(`numpy peer: ${runsOn} (${on})`);
  }
  if (facts.torch === null) notes.push(`torch peer skipped: torch (PyTorch) is not installed for ${on}`);
  else {
    const runsOn = `torch ${facts.torch}${facts.torchBlas ? `, ${facts.torchBlas}` : ""}`;
    peers.push({ name: "torch", script: script("torch_w1.py"), runsOn });
    notes.push(`torch peer: ${runsOn} (${on})`);
  }
  return { peers, notes };
}

/** A shipped peer script: beside this module, in src/bench/peers/ or dist/src/bench/peers/. */
const script = (file: string): string => fileURLToPath(new URL(`./peers/${file}`, import.meta.url));

/**
 * The peers' entries for one run of `workload`: each peer at 1 thread and at `most` threads of its
 * BLAS (numpy) or of torch's intra-op pool, training on the digits exported to `dataDir`.
 */
export function peerEntries(peers: readonly Peer[], python: string, dataDir: string, workload: ScalingWorkload, run: number, most: number): PeerEntry[] {
  const counts = most > 1 ? [1, most] : [1];
  return peers.flatMap((peer) =>
    counts.map((threads) => {
      const limit = { OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
      const args = [
        peer.script, dataDir, "--turns", "--sizes", workload.sizes.join(","), "--batch", String(workload.miniBatchSize), "--eta", "3.0",
        "--seed", String(run + 1), "--dtype", workload.dtype, ...(peer.name === "numpy" ? ["--blas-threads", String(threads)] : ["--threads", String(threads)]),
      ];
      return { name: peer.name, threads, contender: pythonContender(`${peer.name} ${threads}T`, python, args, threads === 1 ? oneBlasThread : limit) };
    }),
  );
}

/**
 * A python script as a contender: started by its first turn, each turn sends a line on its stdin and
 * takes the next epoch it prints (JSON lines with examplesPerSecond and seconds; other lines, such
 * as numpy_w1.py's BLAS line, are skipped); close() ends its stdin and waits for it to exit.
 */
export function pythonContender(name: string, python: string, args: readonly string[], env: NodeJS.ProcessEnv): Contender<RateSample> {
  const epochs = new Mailbox<RateSample | Error>();
  let exited: Promise<void> | undefined;
  let closing = false;
  let child: ReturnType<typeof spawn> | undefined;
  const start = (): void => {
    const proc = spawn(python, args, { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    child = proc;
    let stderr = "";
    proc.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      try {
        const epoch = JSON.parse(line) as Partial<RateSample>;
        if (typeof epoch.examplesPerSecond === "number" && typeof epoch.seconds === "number") epochs.put({ examplesPerSecond: epoch.examplesPerSecond, seconds: epoch.seconds });
      } catch {
        // not an epoch line
      }
    });
    proc.stdin!.on("error", () => {}); // a script that died: its exit says why
    exited = new Promise((resolve, reject) => {
      proc.on("error", (error) => {
        epochs.put(error);
        reject(error);
      });
      proc.on("close", (code, signal) => {
        if (code === 0 && closing) return resolve();
        const error = new Error(`${name} peer (${python} ${args[0]}) ended with ${signal ?? `exit code ${code}`}: ${stderr.trim().split("\n").slice(-3).join(" ")}`);
        epochs.put(error); // a turn may be waiting for its epoch
        reject(error);
      });
    });
    exited.catch(() => {}); // reported by the turn, and again by close()
  };
  return {
    name,
    async turn() {
      if (!child) start();
      child!.stdin!.write("\n");
      const epoch = await epochs.take();
      if (epoch instanceof Error) throw epoch;
      return epoch;
    },
    async close() {
      closing = true;
      child?.stdin!.end();
      await exited;
    },
  };
}
