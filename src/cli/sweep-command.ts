import { Option, type Command } from "commander";
import { checkThreadsFit, fraction, integer, list, nonNegativeNumber, oneOf, positiveNumber, sizeList, threads } from "./parse.js";
import type { SweepCommandOptions } from "./sweep-run.js";


/** Registers `shoal sweep` on the `shoal` program; its code is loaded only when it runs. */
export function addSweepCommand(program: Command): Command {
  const sweep = program
    .command("sweep")
    .description("train a grid of jobs (every eta × lambda × momentum × dropout × layers × seed) and print their results, best first; over Redis with --redis")
    .addOption(new Option("--eta <list>", "learning rates, comma-separated").default([3]).argParser(list(positiveNumber("--eta"))))
    .addOption(new Option("--lambda <list>", "L2 regularisation λ values, comma-separated (0: none)").default([0]).argParser(list(nonNegativeNumber("--lambda"))))
    .addOption(new Option("--momentum <list>", "momentum μ values in [0, 1), comma-separated (0: none)").default([0]).argParser(list(fraction("--momentum"))))
    .addOption(new Option("--dropout <list>", "dropout rates p in [0, 1), comma-separated (0: none)").default([0]).argParser(list(fraction("--dropout"))))
    .addOption(new Option("--layers <list>", "networks, colon-separated: 784,30,10:784,100,10").default([[784, 30, 10]]).argParser((v: string) => v.split(":").map(sizeList("--layers"))))
    .addOption(new Option("--seed <list>", "seeds, comma-separated").default([1]).argParser(list(integer("--seed", 0))))
    .addOption(new Option("--data <name>", "mnist or fashion-mnist").default("mnist").argParser(oneOf("--data", ["mnist", "fashion-mnist"] as const)))
    .addOption(new Option("--epochs <n>", "epochs per job").default(10).argParser(integer("--epochs")))
    .addOption(new Option("--batch <n>", "mini-batch size").default(10).argParser(integer("--batch")))
    .addOption(new Option("--threads <n>", "threads per job (part of each job's spec, so results repeat anywhere)").default("auto").argParser(threads("--threads")))
    .addOption(new Option("--limit <n>", "use only the first n training examples").argParser(integer("--limit")))
    .addOption(new Option("--test-limit <n>", "use only the first n test examples").argParser(integer("--test-limit", 0)))
    .option("--redis <url>", "enqueue the jobs on this Redis for `shoal worker` processes (default: train here, one after another)")
    .option("--queue <name>", "with --redis: the BullMQ queue", "shoal")
    .option("--json", "print the rows as one JSON array instead of the table")
    .addHelpText("after", [
      "",
      "Examples:",
      "  shoal sweep --eta 0.5,1,3 --layers 784,30,10:784,100,10 --seed 1,2,3 --epochs 5",
      "  shoal sweep --eta 0.5,1,3 --seed 1,2 --redis redis://10.0.0.5:6379",
      "  shoal sweep --eta 0.5 --lambda 0,1,5 --layers 784,100,10 --epochs 30   # network2.py's λ",
      "  shoal sweep --eta 0.1,0.5 --momentum 0,0.5,0.9 --epochs 10               # chapter 3's momentum",
    ].join("\n"));
  sweep.action(async () => {
    const options = sweep.opts<SweepCommandOptions>();
    // trained here, the jobs' threads must fit this machine; over Redis they are the workers' to check
    if (options.redis === undefined) checkThreadsFit("--threads", options.threads);
    const { sweepCommand } = await import("./sweep-run.js");
    await sweepCommand(options);
  });
  return sweep;
}
