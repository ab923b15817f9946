/**
 * shoal against its JavaScript peers on workload W1 (Nielsen's network.py setup: sigmoid, quadratic
 * cost C = ½‖y − a‖², N(0, 1) init, plain SGD with mini-batch 10 and η 3.0, the 8,000 bundled
 * training digits; 2,000 test digits for accuracy), on 784-30-10 and 784-100-10.
 *
 *   npm run bench:peers -- [--runs 3] [--epochs 2] [--nets 784-30-10,784-100-10]
 *                          [--only tfjs-wasm,tfjs-cpu,brain.js,convnetjs,shoal-1,shoal-2] [--seed 1]
 *
 * Each (run, net, contender) trains a fresh network in its own child process (child.ts) for
 * `--epochs` epochs; epoch 1 is a warm-up (JIT, wasm compilation, worker start-up) and the speed is
 * the training examples per second over the remaining epochs. Runs are interleaved — every run
 * goes through all contenders, in an order rotated from run to run — and the table gives the median
 * over runs with the min–max range. Every contender of a run starts from the same initial weights
 * and (except brain.js, which cannot reshuffle) sees the same example order; the accuracy column
 * shows that each one learns. The peers run on one thread: they are single-threaded JavaScript,
 * and tfjs's wasm backend has no threads under Node (it is also told setThreadsCount(1)).
 *
 * The peer libraries live in bench/peers/node_modules (bench/peers/package.json and its lock), not
 * in shoal's own install; `npm run bench:peers` installs them with `npm ci` first.
 */
import { fork } from "node:child_process";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { ChildMessage } from "./child.js";
import { contenders } from "./contenders.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    epochs: { type: "string", default: "2" },
    nets: { type: "string", default: "784-30-10,784-100-10" },
    only: { type: "string" },
    seed: { type: "string", default: "1" },
    timeout: { type: "string", default: "900" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(
    "npm run bench:peers -- [--runs N (3)] [--epochs N (2: 1 warm-up + 1 measured)] [--nets 784-30-10,784-100-10]\n" +
      `                      [--only ${Object.keys(contenders).join(",")}] [--seed 1] [--timeout seconds per child (900)]`,
  );
  process.exit(0);
}

function positiveInt(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
}
const runs = positiveInt("runs", values.runs, 1);
const epochs = positiveInt("epochs", values.epochs, 2);
const seed = positiveInt("seed", values.seed, 0);
const timeoutMs = positiveInt("timeout", values.timeout, 1) * 1000;
const nets = values.nets.split(",").map((s) => s.trim()).filter(Boolean);
for (const net of nets) {
  const sizes = net.split("-").map(Number);
  if (sizes.length < 2 || sizes[0] !== 784 || sizes.at(-1) !== 10 || !sizes.every((n) => Number.isInteger(n) && n > 0)) {
    console.error(`--nets: ${JSON.stringify(net)} is not a 784-…-10 network (e.g. 784-30-10)`);
    process.exit(2);
  }
}
const names = values.only ? values.only.split(",").map((s) => s.trim()).filter(Boolean) : Object.keys(contenders);
for (const name of names) {
  if (!(name in contenders)) {
    console.error(`--only: unknown contender ${JSON.stringify(name)}; known: ${Object.keys(contenders).join(", ")}`);
    process.exit(2);
  }
}
if (names.length === 0 || nets.length === 0) {
  console.error("nothing to run");
  process.exit(2);
}

const childPath = fileURLToPath(new URL("./child.ts", import.meta.url));

/** Runs one contender in a fresh process (with the same loader flags as this one, i.e. tsx). */
function runChild(name: string, net: string, runSeed: number): Promise<ChildMessage> {
  return new Promise((resolve) => {
    const child = fork(childPath, ["--contender", name, "--net", net, "--epochs", String(epochs), "--seed", String(runSeed)], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let output = "";
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    let message: ChildMessage | undefined;
    const timer = setTimeout(() => {
      message = { ok: false, error: `timed out after ${timeoutMs / 1000} s` };
      child.kill();
    }, timeoutMs);
    child.on("message", (m) => {
      message ??= m as ChildMessage;
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(
        message ?? {
          ok: false,
          error: `child exited (${signal ?? `code ${code}`}) without a result${output ? `:\n${output.trim()}` : ""}`,
        },
      );
    });
  });
}

interface Cell {
  speeds: number[];
  accuracies: number[];
  info?: string;
  error?: string;
}
const cells = new Map<string, Cell>();
const key = (name: string, net: string): string => `${name} ${net}`;
for (const net of nets) for (const name of names) cells.set(key(name, net), { speeds: [], accuracies: [] });

const cpuList = cpus();
const started = new Date();
const load0 = loadavg();
const log = (line: string): void => void process.stderr.write(line + "\n");
log(`bench:peers — ${names.join(", ")} on ${nets.join(", ")}; ${runs} run(s) of ${epochs} epochs (1 warm-up)`);

for (let run = 0; run < runs; run++) {
  const runSeed = seed + run;
  for (const net of nets) {
    // rotate the order from run to run so no contender always goes first (or right after another)
    const order = names.map((_, i) => names[(i + run) % names.length]!);
    for (const name of order) {
      const cell = cells.get(key(name, net))!;
      if (cell.error) continue; // a contender that failed once is not retried
      const result = await runChild(name, net, runSeed);
      if (!result.ok) {
        cell.error = result.error;
        log(`  run ${run + 1}/${runs} ${net} ${name}: FAILED — ${result.error.split("\n")[0]}`);
        continue;
      }
      const measured = result.epochSeconds.slice(1);
      const speed = (result.examples * measured.length) / measured.reduce((a, b) => a + b, 0);
      cell.speeds.push(speed);
      cell.accuracies.push(result.accuracy);
      cell.info ??= result.info;
      log(
        `  run ${run + 1}/${runs} ${net} ${name}: ${fmtInt(speed)} examples/s, accuracy ${pct(result.accuracy)} ` +
          `(epoch seconds ${result.epochSeconds.map((s) => s.toFixed(2)).join(", ")})`,
      );
    }
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
function fmtInt(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}
function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

const load1 = loadavg();
const out: string[] = [];
out.push(`## shoal vs peers — workload W1 (sigmoid, quadratic cost, N(0,1) init, SGD batch 10, η 3.0, 8,000 MNIST digits)`);
out.push("");
out.push(
  `Machine: ${cpuList.length} × ${cpuList[0]?.model.trim() ?? "?"} (availableParallelism ${availableParallelism()}), ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${process.platform}-${process.arch}, Node ${process.version}; ` +
    `${started.toISOString()}; load average ${load0.map((x) => x.toFixed(2)).join(" ")} at start, ` +
    `${load1.map((x) => x.toFixed(2)).join(" ")} at end.`,
);
out.push(
  `Command: npm run bench:peers -- --runs ${runs} --epochs ${epochs} --nets ${nets.join(",")} --only ${names.join(",")} --seed ${seed}`,
);
out.push(
  `Training examples/s over epoch${epochs > 2 ? `s 2–${epochs}` : " 2"} (epoch 1 = warm-up), median of ${runs} interleaved run(s) (min–max); ` +
    `test accuracy on the 2,000 test digits after ${epochs} epochs (median). Peers: one thread. Ratio = shoal's examples/s ÷ the row's.`,
);
out.push("");
out.push("| contender | net | examples/s median (min–max) | accuracy | shoal (1 thread) ÷ it | shoal (2 threads) ÷ it |");
out.push("| --- | --- | --- | --- | --- | --- |");
for (const net of nets) {
  const shoalMedian = (name: string): number | undefined => {
    const c = cells.get(key(name, net));
    return c && c.speeds.length ? median(c.speeds) : undefined;
  };
  const s1 = shoalMedian("shoal-1");
  const s2 = shoalMedian("shoal-2");
  for (const name of names) {
    const c = cells.get(key(name, net))!;
    if (!c.speeds.length) {
      out.push(`| ${name} | ${net} | failed: ${(c.error ?? "no result").split("\n")[0]!.replaceAll("|", "\\|")} | – | – | – |`);
      continue;
    }
    const m = median(c.speeds);
    const ratio = (s: number | undefined): string => (s === undefined ? "–" : `${(s / m).toFixed(2)}×`);
    out.push(
      `| ${name} | ${net} | ${fmtInt(m)} (${fmtInt(Math.min(...c.speeds))}–${fmtInt(Math.max(...c.speeds))}) | ` +
        `${pct(median(c.accuracies))} | ${ratio(s1)} | ${ratio(s2)} |`,
    );
  }
}
out.push("");
out.push("Contenders (library, backend, hyperparameter mapping):");
out.push("");
for (const name of names) {
  const info = nets.map((net) => cells.get(key(name, net))!).find((c) => c.info)?.info;
  const error = nets.map((net) => cells.get(key(name, net))!).find((c) => c.error)?.error;
  out.push(`- **${name}**: ${info ?? "no successful run"}${error ? `; FAILED: ${error.split("\n")[0]}` : ""}`);
}
console.log(out.join("\n"));

const failures = [...cells.entries()].filter(([, c]) => c.error);
for (const [k, c] of failures) log(`\n${k} failed:\n${c.error}`);
if (failures.length) process.exitCode = 1;
