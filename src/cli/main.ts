import { availableParallelism } from "node:os";
import { Command, CommanderError, Option, type OptionValues } from "commander";
import { addBenchCommand } from "./bench-command.js";
import { addExportCommand } from "./export-command.js";
import { addServeCommand } from "./serve-command.js";
import { addSweepCommand } from "./sweep-command.js";
import { addWorkerCommand } from "./worker-command.js";
import { activationNames, hiddenActivationNames, type ActivationName } from "../core/activations.js";
import { costNames } from "../core/costs.js";
import { monitorFlags } from "../core/schedule.js";
import { defaultInit, dtypes, inits } from "../core/network.js";
import { outputClosed, watchStandardOutput } from "./closed-output.js";
import { exitCodes, reportError, UsageError } from "./errors.js";
import { etaScheduleFlag, fraction, list, nonNegativeNumber, fileWithExtension, integer, oneOf, positiveNumber, separator, sizeList, threads } from "./parse.js";
import { packageVersion } from "./version.js";
import type { ValidationSplit } from "./data-source.js";
import type { TrainFlags } from "./train-command.js";

/**
 * The `shoal` command line: the commander wiring of `train`, `evaluate`, `predict` and `info`.
 * Each command's work is in its own module, loaded only when that command runs. Returns the exit
 * code: 0 ok, 1 a failure (bad file, bad data), 2 a bad command line, 130 interrupted by Ctrl-C,
 * 141 stdout (or stderr) closed by its reader.
 */
export async function main(argv: readonly string[]): Promise<number> {
  watchStandardOutput();
  const code = await runCommand(argv);
  return outputClosed.aborted ? exitCodes.outputClosed : code;
}

async function runCommand(argv: readonly string[]): Promise<number> {
  let code: number = exitCodes.ok;
  const program = new Command("shoal")
    .description("Train fully-connected neural networks on the threads that pay off, then evaluate them and ask them about images.")
    .version(packageVersion(), "-V, --version", "print shoal's version")
    .exitOverride()
    .configureOutput({ outputError: () => {} }) // errors are printed once, by reportError
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);
  const run = (task: () => Promise<number>) => async () => {
    code = await task();
  };

  const train = program
    .command("train")
    .description("train a network and save it (default: 784-30-10 on the bundled MNIST digits)")
    .addOption(dataOption("the training data (and its test set)"))
    .addOption(new Option("--layers <sizes>", "all layer sizes, input first, e.g. 784,30,10 (must fit the data)").argParser(sizeList("--layers")))
    .addOption(new Option("--hidden <sizes>", "hidden layer sizes only; input and output come from the data (default: 30)").argParser(sizeList("--hidden")))
    .addOption(choice("--activation <name>", "hidden layers' activation", hiddenActivationNames, "sigmoid").argParser(hiddenActivation))
    .addOption(choice("--output-activation <name>", "output layer's activation", activationNames, undefined, "default: as --activation; sigmoid with cross-entropy, softmax with log-likelihood"))
    .addOption(choice("--cost <name>", "cost function", costNames, "quadratic"))
    .addOption(choice("--weight-init <scheme>", "initial weights, N(0,1) as network.py or N(0,1/n_in) as network2.py", inits, defaultInit))
    .addOption(choice("--dtype <type>", "parameter precision; float64 also loads the data as float64, exactly", dtypes, "float32"))
    .option("--init-model <model>", "start from this model file's parameters (ours or network2.py's JSON)")
    // --init-model's old name, which read like --weight-init's scheme: still taken (with a note), not listed
    .addOption(new Option("--init <model>").hideHelp().conflicts("initModel"))
    .addOption(new Option("--epochs <n>", "passes over the training data").default(30).argParser(integer("--epochs")))
    .addOption(new Option("--batch <n>", "mini-batch size").default(10).argParser(integer("--batch")))
    .addOption(new Option("--eta <number>", "learning rate η").default(3.0, "3.0").argParser(positiveNumber("--eta")))
    .addOption(new Option("--lambda <number>", "L2 regularisation λ: w ← (1 − ηλ/n)·w − (η/m)·Σ∂C/∂w, n the training examples (network2.py); 0: none").argParser(nonNegativeNumber("--lambda")))
    .addOption(new Option("--momentum <number>", "momentum μ in [0, 1): v ← μ·v − (η/m)·Σ∂C/∂w, w ← w + v (chapter 3); 0: none").argParser(fraction("--momentum")))
    .addOption(new Option("--dropout <p>", "dropout rate p in [0, 1): each mini-batch drops every hidden neuron with probability p and scales the kept ones by 1/(1 − p) (chapter 3); 0: none").argParser(fraction("--dropout")))
    .addOption(new Option("--eta-schedule <schedule>", "how η changes: plateau[:patience] (halve it when the monitored accuracy stalls for patience epochs, default 10; stop at η/128) or step:<every>:<factor>").argParser(etaScheduleFlag("--eta-schedule")))
    .addOption(new Option("--monitor <list>", "more to measure after each epoch, comma-separated: training-accuracy, test-cost, validation-cost (with --validation)").argParser(list(oneOf("--monitor", monitorFlags))))
    .addOption(new Option("--early-stopping <patience>", "stop when the monitored accuracy (validation if --validation, else test) has not improved for this many epochs").argParser(integer("--early-stopping")))
    .option("--keep-best", "with --early-stopping: end with (and save) the parameters of the best epoch")
    .addOption(new Option("--threads <n>", '"auto" (the count a cost model predicts is fastest for this network and batch on this machine), a count, or 0 (in process)').default("auto").argParser(threads("--threads", availableParallelism())))
    .addOption(choice("--parallelism <how>", "how the threads share each mini-batch: its examples, or (one hidden layer, sigmoid, quadratic cost, float32) the hidden layer's neurons, or auto: the one a cost model predicts is faster; the same bits either way", ["auto", "examples", "neurons"], "auto"))
    .addOption(new Option("--seed <n>", "seed of the initial weights and of the shuffle (default: random, printed)").argParser(integer("--seed", 0)))
    .option("--no-shuffle", "keep the data order in every epoch")
    .option("--out <file>", "model file, rewritten after every epoch (default: <data>.shoal.json)")
    .addOption(new Option("--plot <file.svg>", "learning curve (accuracy and cost per epoch) as SVG, rewritten after every epoch")
      .argParser(fileWithExtension("--plot", ".svg", "the learning curve is written as SVG (PNG would need a canvas)")))
    .option("--json", "one JSON object per epoch on stdout (NDJSON), nothing else")
    .addOption(new Option("--validation <n>", "hold out n training examples and report accuracy on them").argParser(integer("--validation")))
    .addOption(choice("--validation-split <how>", "which examples --validation holds out: drawn with the run's seed, or the last n", validationSplits, "random"))
    .addOption(limitOption())
    .addOption(testLimitOption())
    .option("--test-data <file.csv>", "CSV data: the test set")
    .option("--label-column <name>", "CSV data: the label column, by header name or 0-based number (default: the first)")
    .addOption(new Option("--scale <number>", "CSV data: divide every feature by this, e.g. 255").argParser(positiveNumber("--scale")))
    .addOption(separatorOption("CSV data"))
    .option("--checkpoint <file>", "write a checkpoint (parameters, shuffle state, options) atomically after epochs, to --resume later")
    .addOption(new Option("--checkpoint-every <n>", "epochs between checkpoints (default 1; the last epoch always writes one)").argParser(integer("--checkpoint-every")))
    .option("--resume <file>", "continue the run that wrote this checkpoint (its data, options, files); only --epochs (to train longer), --threads and --json may be given with it")
    .addHelpText("after", examples([
      "shoal train                                   # 784-30-10 on the bundled digits, 30 epochs",
      "shoal train --data fashion-mnist --hidden 100 --cost cross-entropy --eta 0.5 --plot curve.svg",
      "shoal train --data ./mnist --validation 10000 --validation-split last  # original MNIST files: Nielsen's 50,000/10,000 split",
      "shoal train --data iris.csv --label-column species --hidden 8 --json",
    ]));
  train.action(run(async () => (await import("./train-command.js")).trainCommand(renamedInit(train.opts()), givenFlags(train))));

  const evaluate = program
    .command("evaluate")
    .description("accuracy, per-class accuracy and the confusion matrix of a model on a test set")
    .requiredOption("--model <file>", "model file")
    .addOption(dataOption("the data whose test set to use (default: what the model was trained on); a CSV file is used whole", false))
    .addOption(limitOption("evaluate only the first n examples"))
    .option("--label-column <name>", "CSV data: the label column, by header name or 0-based number")
    .addOption(new Option("--scale <number>", "CSV data: divide every feature by this").argParser(positiveNumber("--scale")))
    .addOption(separatorOption("CSV data"))
    .option("--json", "print the result as one JSON object")
    .addHelpText("after", examples(["shoal evaluate --model mnist.shoal.json", "shoal evaluate --model fashion.json --data fashion-mnist"]));
  evaluate.action(run(async () => (await import("./evaluate-command.js")).evaluateCommand(evaluate.opts())));

  const predict = program
    .command("predict")
    .description("classify one input: a PNG image, an image of an IDX file, a CSV row, or inline values")
    .argument("<input>", "a .png file, an IDX images file (with --index), a .csv file (with --row), or values like 0,0.5,1")
    .requiredOption("--model <file>", "model file")
    .addOption(new Option("--index <i>", "IDX input: which image (0-based)").default(0).argParser(integer("--index", 0)))
    .addOption(new Option("--row <n>", "CSV input: which row, by its line number in the file as error messages count (1-based; default: the first data row)").argParser(integer("--row")))
    .option("--label-column <name>", "CSV input: the label column, dropped if the row has one more value than the model's inputs")
    .addOption(new Option("--scale <number>", "CSV or inline input: divide every value by this").argParser(positiveNumber("--scale")))
    .addOption(separatorOption("CSV input"))
    .option("--json", "print the result as one JSON object")
    .addHelpText("after", examples([
      "shoal predict --model mnist.shoal.json digit.png",
      "shoal predict --model m.json /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz --index 7",
      "shoal predict --model iris.shoal.json 5.1,3.5,1.4,0.2",
    ]));
  predict.action(run(async () => (await import("./predict-command.js")).predictCommand(predict.args[0]!, predict.opts())));

  const info = program
    .command("info")
    .description("a model's layers, parameters, activation, cost, dtype and training metadata")
    .requiredOption("--model <file>", "model file")
    .option("--json", "print the result as one JSON object")
    .addHelpText("after", examples(["shoal info --model mnist.shoal.json"]));
  info.action(run(async () => (await import("./info-command.js")).infoCommand(info.opts())));
  addServeCommand(program);
  addWorkerCommand(program);
  addSweepCommand(program);
  addBenchCommand(program);
  addExportCommand(program);

  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExit(error);
    return reportError(error);
  }
}

/** Help and --version exit 0; a parse error prints one line and exits 2, as do usage errors. */
function commanderExit(error: CommanderError): number {
  if (error.exitCode === 0) return exitCodes.ok;
  // `shoal` alone: commander has already printed the help to stderr
  if (error.code === "commander.help") return exitCodes.usage;
  // one line: commander puts its "(Did you mean train?)" on a line of its own
  process.stderr.write(`shoal: ${error.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ")}\n`);
  return exitCodes.usage;
}

const validationSplits: readonly ValidationSplit[] = ["random", "last"];

/** The deprecated `--init <model>` as `--init-model <model>`, with a note on stderr (stdout may be --json's). */
function renamedInit(opts: OptionValues): TrainFlags {
  const { init, ...flags } = opts;
  if (init === undefined) return flags as TrainFlags;
  process.stderr.write("shoal: note: --init is now --init-model\n");
  return { ...flags, initModel: init } as TrainFlags;
}

/** The flags given on the command line (not defaults), as typed: `--batch`, `--no-shuffle`. */
function givenFlags(command: Command): string[] {
  return command.options.filter((o) => command.getOptionValueSource(o.attributeName()) === "cli").map((o) => o.long ?? o.flags);
}

function dataOption(description: string, withDefault = true): Option {
  const option = new Option("--data <source>", `${description}: mnist, fashion-mnist, an IDX folder or a .csv file`);
  return withDefault ? option.default("mnist") : option;
}

function separatorOption(what: string): Option {
  return new Option("--separator <char>", `${what}: the field separator, e.g. ";" or tab (default: detected from the first line: , ; or tab)`).argParser(separator("--separator"));
}

function limitOption(description = "use only the first n training examples"): Option {
  return new Option("--limit <n>", description).argParser(integer("--limit"));
}

function testLimitOption(): Option {
  return new Option("--test-limit <n>", "use only the first n test examples").argParser(integer("--test-limit"));
}

/**
 * A flag taking one of `allowed`. Its default (if any) is applied by the command, not by commander,
 * so the command can tell a flag that was given (it conflicts with --init-model) from one that was not.
 */
function choice<T extends string>(flags: string, description: string, allowed: readonly T[], byDefault?: T, note?: string): Option {
  const flag = flags.split(" ")[0]!;
  const names = allowed.map((name) => (name === byDefault ? `${name} (default)` : name)).join(", ");
  return new Option(flags, `${description}: ${names}${note ? ` (${note})` : ""}`).argParser(oneOf(flag, allowed));
}

/** --activation: a hidden layer's σ; softmax is refused with what to give instead. */
function hiddenActivation(value: string): ActivationName {
  if (value === "softmax") {
    throw new UsageError("--activation softmax: softmax is for the output layer only; give --output-activation softmax --cost log-likelihood");
  }
  return oneOf("--activation", hiddenActivationNames)(value);
}

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}`;
}
