import { availableParallelism } from "node:os";
import { Option, type Command } from "commander";
import { dtypes } from "../core/network.js";
import { UsageError } from "./errors.js";
import { fileWithExtension, integer, list, oneOf } from "./parse.js";
import type { BenchCommandOptions } from "./bench-run.js";

/** The bundled digits' shape: every --nets network must start and end with it. */
const DIGITS = { inputs: 784, classes: 10 } as const;

/** `784-30-10,784-100-10`: networks of the bundled digits, dash-separated sizes. */
function nets(value: string): number[][] {
  return list((net: string) => {
    const sizes = net.split("-").map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
    if (sizes.length < 2 || !sizes.every((s) => Number.isSafeInteger(s) && s >= 1)) throw new UsageError(`--nets: ${net} is not layer sizes like 784-30-10`);
    if (sizes[0] !== DIGITS.inputs || sizes.at(-1) !== DIGITS.classes) {
      throw new UsageError(`--nets: ${net} does not fit the bundled digits, which have ${DIGITS.inputs} inputs and ${DIGITS.classes} classes (784-…-10)`);
    }
    return sizes;
  })(value);
}

/**
 * Thread counts, 1 among them (speedups are against it), none beyond this machine's cores: a thread
 * waiting for a core stalls the others at every barrier, which would measure the wait (see checkThreadsFit).
 */
function threadCounts(value: string): number[] {
  const counts = [...new Set(list(integer("--threads"))(value))].sort((a, b) => a - b);
  if (!counts.includes(1)) throw new UsageError(`--threads ${value}: include 1, the count speedups are measured against`);
  const cores = availableParallelism();
  const most = counts.at(-1)!;
  if (most > cores) throw new UsageError(`--threads ${most} is more than this machine's ${cores} cores: measure at most ${cores} (--model-threads predicts beyond)`);
  return counts;
}

/** Registers `shoal bench` on the `shoal` program; the harness is loaded only when it runs. */
export function addBenchCommand(program: Command): Command {
  const cores = availableParallelism();
  const bench = program
    .command("bench")
    .description("measure training examples/s at 1…N threads on this machine with both parallel strategies (networks × batches × dtypes on the bundled digits), with a speedup model beyond the counts measured and what auto would choose")
    .addOption(new Option("--threads <list>", `thread counts to measure, comma-separated, 1 among them (default: 1,${cores}: this machine's cores)`).argParser(threadCounts))
    .addOption(new Option("--nets <list>", "networks, comma-separated, sizes dash-separated (default: 784-30-10,784-100-10,784-256-128-10; --quick: 784-30-10)").argParser(nets))
    .addOption(new Option("--batches <list>", "mini-batch sizes, comma-separated (default: 10,100; --quick: 10)").argParser(list(integer("--batches"))))
    .addOption(new Option("--dtypes <list>", `parameter precisions, comma-separated: ${dtypes.join(", ")}`).default(["float32"], "float32").argParser(list(oneOf("--dtypes", dtypes))))
    .addOption(new Option("--parallelism <which>", "strategies to measure at 2+ threads: examples (threads share a batch's examples), neurons (its hidden neurons; where the network takes it), or both")
      .default("both").argParser(oneOf("--parallelism", ["examples", "neurons", "both"] as const)))
    .addOption(new Option("--runs <n>", "runs per workload, each with fresh networks taking turns (default: 3; --quick: 1)").argParser(integer("--runs")))
    .option("--quick", "a smoke run in seconds: 500 training digits, barely warm, one round (its numbers mean little)")
    .addOption(new Option("--model-threads <n>", "model the speedup up to this many threads").default(8).argParser(integer("--model-threads")))
    .option("--peers", "also measure the numpy and PyTorch peers (network.py in python) at 1 and N threads, in the same turns")
    .option("--python <exe>", "--peers: the python to run them with", "python3")
    .option("--json <file>", "write the measurements (and the model's points) as JSON")
    .addOption(new Option("--svg <file.svg>", "write the efficiency plot: speedup vs threads, the ideal line, one line per workload and strategy (neurons dashed, model faint)")
      .argParser(fileWithExtension("--svg", ".svg", "the plot is written as SVG")))
    .option("--force", "overwrite --json and --svg files that exist")
    .addHelpText("after", [
      "",
      "Examples:",
      "  shoal bench                                 # 1 and all cores; 3 networks × batch 10 and 100",
      "  shoal bench --threads 1,2,4 --nets 784-100-10 --batches 10 --json scaling.json --svg scaling.svg",
      "  shoal bench --quick --peers                 # a smoke run beside numpy and PyTorch, where python has them",
      "  shoal bench --parallelism examples          # only the example split at 2+ threads",
    ].join("\n"));
  bench.action(async () => {
    const { benchCommand } = await import("./bench-run.js");
    await benchCommand(bench.opts<BenchCommandOptions>());
  });
  return bench;
}
