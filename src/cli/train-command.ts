import { stat } from "node:fs/promises";
import path from "node:path";
import type { ActivationName } from "../core/activations.js";
import { classCount } from "../core/classes.js";
import type { CostName } from "../core/costs.js";
import { targetClass, type Dataset } from "../core/dataset.js";
import { AbortError, ShoalError } from "../core/errors.js";
import { Network, randomSeed, type DType, type Init } from "../core/network.js";
import { etaScheduleText, type EtaSchedule, type MonitorFlag, type StopReason } from "../core/schedule.js";
import type { Parallelism } from "../parallel/shared-state.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { loadCheckpoint, type Checkpoint } from "../io/checkpoint.js";
import { loadModel, saveNetwork } from "../io/model-file.js";
import { kernelChoice, neuronSplitRuns, threadChoice } from "../train/options.js";
import { chooseThreads, type ThreadChoice } from "../train/auto-threads.js";
import { mnistDigitsSplit } from "../data/mnist.js";
import { startDefaultPool, train } from "../train/train.js";
import { outputClosed } from "./closed-output.js";
import { checkModelFits, classesMissing, holdOut, loadData, type LoadedData, type ValidationSplit } from "./data-source.js";
import { exitCodes, UsageError } from "./errors.js";
import { count, duration, percent } from "./format.js";
import { dataMetadata } from "../io/model-metadata.js";
import { createReporter, type EpochRecord, type Reporter } from "./output.js";

/** `shoal train`'s flags, parsed. Architecture flags are undefined unless given (they conflict with --init-model). */
export interface TrainFlags {
  data: string;
  layers?: number[];
  hidden?: number[];
  activation?: ActivationName;
  outputActivation?: ActivationName;
  cost?: CostName;
  weightInit?: Init;
  dtype?: DType;
  /** A model file to start from. */
  initModel?: string;
  epochs: number;
  batch: number;
  eta: number;
  /** L2's λ. */
  lambda?: number;
  /** Momentum's μ. */
  momentum?: number;
  /** Dropout's rate p. */
  dropout?: number;
  /** --eta-schedule, parsed. */
  etaSchedule?: EtaSchedule;
  /** --monitor: more to measure after each epoch. */
  monitor?: MonitorFlag[];
  /** --early-stopping: the patience in epochs. */
  earlyStopping?: number;
  keepBest?: boolean;
  threads: number | "auto";
  /** How the threads share each mini-batch (the bits are the same either way); default auto. */
  parallelism?: Parallelism | "auto";
  seed?: number;
  shuffle: boolean;
  out?: string;
  plot?: string;
  json?: boolean;
  validation?: number;
  /** How --validation picks its examples (default random). */
  validationSplit?: ValidationSplit;
  limit?: number;
  testLimit?: number;
  testData?: string;
  labelColumn?: string;
  scale?: number;
  /** CSV only: the field separator (default: detected). */
  separator?: string;
  /** Checkpoint file, rewritten every `checkpointEvery` epochs. */
  checkpoint?: string;
  checkpointEvery?: number;
  /** A checkpoint to continue from: its network, options, shuffle state, data and files replace the flags'. */
  resume?: string;
}

/**
 * What a checkpoint of `shoal train` records besides the library's options (in its metadata), so
 * that `--resume` alone continues the run: the data flags and the files, with absolute paths.
 */
interface RecordedRun {
  data: string;
  limit?: number;
  testLimit?: number;
  validation?: number;
  validationSplit?: ValidationSplit;
  testData?: string;
  labelColumn?: string;
  scale?: number;
  separator?: string;
  out: string;
  plot?: string;
  checkpointEvery: number;
  /** The model file the run started from (--init-model). */
  initModel?: string;
}

/** The flags `--resume` takes from the checkpoint (or, for a checkpoint that records no run, refuses). */
const recordedFlags = ["--data", "--limit", "--test-limit", "--validation", "--validation-split", "--test-data", "--label-column", "--scale", "--separator", "--out", "--plot", "--checkpoint", "--checkpoint-every"];
/** Flags that only change what --resume shows or how fast it runs, not its result. */
const resumeFlags = ["--resume", "--epochs", "--threads", "--parallelism", "--json"];

/** Hidden layers when neither --layers nor --hidden is given: Nielsen's 784-30-10. */
export const defaultHidden = [30];

/**
 * Trains a network on the data `flags` name and saves it. After every finished epoch the model
 * (and the plot) are rewritten atomically, so `--out` always holds either its old contents or a
 * complete model of the last finished epoch. Ctrl-C stops after the current mini-batch; the
 * unfinished epoch is dropped, a summary is printed and the exit code is 130. A reader that closes
 * stdout (`| head -1`) stops it the same way, quietly (main() then exits 141).
 */
export async function trainCommand(flags: TrainFlags, given: readonly string[] = []): Promise<number> {
  checkArchitectureFlags(flags);
  if (flags.keepBest && flags.earlyStopping === undefined) throw new UsageError("--keep-best applies to --early-stopping <patience>, which was not given");
  if (flags.resume === undefined && flags.validationSplit !== undefined && flags.validation === undefined) {
    throw new UsageError("--validation-split applies to --validation n, which was not given");
  }
  const resumed = flags.resume === undefined ? undefined : await resumeFlagsOf(flags, flags.resume, given);
  const stoppedBefore = resumed?.checkpoint.schedule?.stopped;
  if (resumed && stoppedBefore) {
    const reporter = createReporter({ json: flags.json === true });
    reporter.note(`nothing to train: the run of ${flags.resume} stopped after epoch ${stoppedBefore.epoch} (${stopText(stoppedBefore.reason)})`);
    reporter.close();
    return exitCodes.ok;
  }
  if (resumed && resumed.checkpoint.epoch === flags.epochs) {
    const reporter = createReporter({ json: flags.json === true });
    reporter.note(
      `nothing to train: ${flags.resume} already holds all ${plural(flags.epochs, "epoch")} of its run` +
        `${resumed.recorded ? `, and ${resumed.recorded.out} its model` : ""}; give --epochs n (more than ${flags.epochs}) to train longer`,
    );
    reporter.close();
    return exitCodes.ok;
  }
  const out = flags.out ?? defaultOut(flags.data);
  await Promise.all([checkWritable(out, "--out"), flags.plot === undefined ? undefined : checkWritable(flags.plot, "--plot")]);
  const plot = flags.plot === undefined ? undefined : await import("./plot.js");

  // The threads start (on the other cores) while this thread loads the data: a given count at once
  // (a resumed run's flags are its checkpoint's by now), and "auto" where it can decide before the
  // data is here; else it decides once the data is loaded.
  const early = threadsBeforeLoading(flags, resumed !== undefined);
  if (early !== undefined && early > 0) startDefaultPool(early);
  // the data comes in the network's dtype: a resumed run's or an --init-model's, else --dtype's
  const initial = flags.initModel === undefined ? undefined : await loadModel(flags.initModel);
  const dtype = (resumed?.checkpoint.network ?? initial?.network)?.spec.dtype ?? flags.dtype;
  const loaded = await loadData({ ...flags, ...(dtype && { dtype }) });
  const seed = flags.seed ?? randomSeed();
  const { train: trainSet, validation } =
    flags.validation === undefined
      ? { train: loaded.train, validation: undefined }
      : holdOut(loaded.train, flags.validation, flags.validationSplit ?? "random", seed);
  warnMissingClasses(loaded, trainSet, validation, flags.validationSplit ?? "random");
  const net = resumed ? resumed.checkpoint.network : await buildNetwork(flags, loaded, seed, initial?.network);
  // what train() will make of --threads (the same function, so the header and metadata say what runs)
  const { activation, outputActivation, cost } = net.spec;
  const threads = threadChoice(
    { threads: flags.threads, miniBatchSize: flags.batch, ...(flags.parallelism && { parallelism: flags.parallelism }), ...(flags.dropout !== undefined && { dropout: flags.dropout }) },
    { sizes: net.sizes, dtype: net.spec.dtype, data: trainSet, layers: { activation, outputActivation, cost } },
  );
  if (threads.threads > 0) startDefaultPool(threads.threads);
  const initModel = flags.initModel ?? resumed?.recorded?.initModel;
  const checkpointPath = flags.checkpoint ?? flags.resume;
  const recordedRun: RecordedRun = {
    data: flags.data === "mnist" || flags.data === "fashion-mnist" ? flags.data : path.resolve(flags.data),
    ...(flags.limit !== undefined && { limit: flags.limit }),
    ...(flags.testLimit !== undefined && { testLimit: flags.testLimit }),
    ...(flags.validation !== undefined && { validation: flags.validation, validationSplit: flags.validationSplit ?? "random" }),
    ...(flags.testData !== undefined && { testData: path.resolve(flags.testData) }),
    ...(flags.labelColumn !== undefined && { labelColumn: flags.labelColumn }),
    ...(flags.scale !== undefined && { scale: flags.scale }),
    ...(flags.separator !== undefined && { separator: flags.separator }),
    out: path.resolve(out),
    ...(flags.plot !== undefined && { plot: path.resolve(flags.plot) }),
    checkpointEvery: flags.checkpointEvery ?? 1,
    ...(initModel !== undefined && { initModel: path.resolve(initModel) }),
  };
  const done = resumed?.checkpoint.epoch ?? 0;

  const reporter = createReporter({ json: flags.json === true, showEta: flags.etaSchedule !== undefined || resumed?.checkpoint.options.etaSchedule !== undefined });
  const controller = new AbortController();
  // Ctrl-C (SIGINT) or SIGTERM (a service manager, `kill`): stop after the current mini-batch;
  // a second signal quits at once (--out is still whole: it is only ever replaced by a rename).
  let stoppedBy: NodeJS.Signals | undefined;
  const stopCode = (): number => (stoppedBy === "SIGTERM" ? exitCodes.terminated : exitCodes.interrupted);
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      reporter.close();
      process.exit(stopCode());
    }
    stoppedBy = name;
    controller.abort();
    reporter.note(`${name === "SIGINT" ? "interrupted" : "terminated (SIGTERM)"}: stopping after the current mini-batch (${name === "SIGINT" ? "Ctrl-C" : "a second signal"} again to quit at once)`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const signal = AbortSignal.any([controller.signal, outputClosed]);

  const records: EpochRecord[] = [];
  const chance = loaded.test ? chanceLevel(loaded.test, loaded.classes) : undefined;
  let hinted = false;
  let atChanceBefore = false;
  const started = performance.now();
  const description = describeRun(flags, loaded, net, trainSet, validation, seed, initModel, resumed && done, threads);
  reporter.start(description, flags.epochs);
  try {
    const result = await train(net, trainSet, {
      epochs: flags.epochs,
      miniBatchSize: flags.batch,
      eta: flags.eta,
      ...(flags.lambda !== undefined && { lambda: flags.lambda }),
      ...(flags.momentum !== undefined && { momentum: flags.momentum }),
      ...(flags.dropout !== undefined && { dropout: flags.dropout }),
      seed,
      shuffle: flags.shuffle,
      threads: flags.threads,
      ...(flags.parallelism && { parallelism: flags.parallelism }),
      testData: loaded.test,
      ...(validation && { validationData: validation }),
      ...(flags.etaSchedule && { etaSchedule: flags.etaSchedule }),
      ...(flags.monitor && { monitor: flags.monitor }),
      ...(flags.earlyStopping !== undefined && { earlyStopping: { patience: flags.earlyStopping, restoreBest: flags.keepBest === true } }),
      signal,
      ...(checkpointPath !== undefined && { checkpoint: { path: checkpointPath, every: recordedRun.checkpointEvery, metadata: { train: recordedRun } } }),
      ...(resumed && { resume: resumed.checkpoint }),
      onProgress: (p) => reporter.progress(p),
      onEpoch: async (r) => {
        const record: EpochRecord = {
          epoch: r.epoch,
          cost: r.cost,
          testAccuracy: r.accuracy ?? null,
          ...(r.validationAccuracy !== undefined && { validationAccuracy: r.validationAccuracy }),
          ...(r.trainingAccuracy !== undefined && { trainingAccuracy: r.trainingAccuracy }),
          ...(r.testCost !== undefined && { testCost: r.testCost }),
          ...(r.validationCost !== undefined && { validationCost: r.validationCost }),
          eta: r.eta,
          examplesPerSecond: r.examplesPerSecond,
          seconds: r.seconds,
          threads: threads.threads,
          threadsReason: threads.reason,
          ...(threads.threads > 0 && { parallelism: threads.parallelism }),
        };
        records.push(record);
        reporter.epoch(record, flags.epochs);
        // one epoch at chance is often just a slow start on small data: hint after two in a row, or at the last
        const atChance = chance !== undefined && record.testAccuracy !== null && record.testAccuracy <= chance + CHANCE_MARGIN;
        if (atChance && !hinted && (atChanceBefore || r.epoch === flags.epochs)) {
          hinted = true;
          reporter.warn(chanceHint(record, loaded.classes, flags, net));
        }
        atChanceBefore = atChance;
        const seconds = (performance.now() - started) / 1000;
        await saveNetwork(net, out, trainingMetadata(flags, loaded, trainSet, validation, seed, records, seconds, net, initModel, threads));
        if (plot && flags.plot) await writeFileAtomic(flags.plot, await plot.learningCurveSvg(records, plotTitle(net, loaded)));
      },
    });
    reporter.close();
    if (result.stopped) reporter.note(`stopped after epoch ${result.stopped.epoch}: ${stopText(result.stopped.reason)}`);
    if (result.bestEpoch !== undefined) {
      // the network now holds its best epoch's parameters: the model file gets them too
      const seconds = (performance.now() - started) / 1000;
      await saveNetwork(net, out, { ...trainingMetadata(flags, loaded, trainSet, validation, seed, records, seconds, net, initModel, threads), bestEpoch: result.bestEpoch });
      reporter.note(`${out} holds the parameters of epoch ${result.bestEpoch}, the best (--keep-best)`);
    }
    reporter.note(summary(records, result.threads, performance.now() - started, out, flags.plot));
    return exitCodes.ok;
  } catch (error) {
    reporter.close();
    if (!(error instanceof AbortError && signal.aborted)) throw error;
    if (outputClosed.aborted) return exitCodes.outputClosed;
    const kept =
      records.length === 0
        ? `no epoch finished: ${out} was left as it was`
        : `${out} holds the model after epoch ${done + records.length}`;
    reporter.note(`interrupted during epoch ${done + records.length + 1} of ${flags.epochs}; ${kept}`);
    if (records.length > 0) reporter.note(summary(records, undefined, performance.now() - started, out, flags.plot));
    return stopCode();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Why a run stopped before its last epoch, for people. */
function stopText(reason: StopReason): string {
  return reason === "early-stopping" ? "the monitored accuracy stopped improving (--early-stopping)" : "η came down to η/128 (--eta-schedule plateau)";
}

/** A model given with --init-model fixes the architecture; so does --layers against --hidden. */
function checkArchitectureFlags(flags: TrainFlags): void {
  if (flags.layers && flags.hidden) throw new UsageError("give --layers (all layers) or --hidden (hidden layers only), not both");
  if (flags.resume !== undefined && flags.initModel !== undefined) throw new UsageError("give --resume or --init-model, not both");
  if (flags.initModel !== undefined || flags.resume !== undefined) {
    const given = (
      [
        ["layers", "--layers"],
        ["hidden", "--hidden"],
        ["activation", "--activation"],
        ["outputActivation", "--output-activation"],
        ["cost", "--cost"],
        ["weightInit", "--weight-init"],
        ["dtype", "--dtype"],
      ] as const
    ).find(([key]) => flags[key] !== undefined);
    const source = flags.initModel !== undefined ? "--init-model: the model file" : "--resume: the checkpoint";
    if (given) throw new UsageError(`${given[1]} cannot be combined with ${source} fixes the network`);
  }
  if (flags.cost === "cross-entropy" && flags.outputActivation !== undefined && flags.outputActivation !== "sigmoid") {
    throw new UsageError(`--cost cross-entropy needs --output-activation sigmoid, got ${flags.outputActivation}`);
  }
  if (flags.cost === "log-likelihood" && flags.outputActivation !== undefined && flags.outputActivation !== "softmax") {
    throw new UsageError(`--cost log-likelihood needs --output-activation softmax, got ${flags.outputActivation}`);
  }
  if (flags.outputActivation === "softmax" && flags.cost !== "log-likelihood") {
    throw new UsageError(`--output-activation softmax needs --cost log-likelihood, got ${flags.cost ?? "quadratic (the default)"}`);
  }
}

/**
 * Loads the --resume checkpoint and sets `flags` to its run: batch, η, shuffle, seed, epochs and
 * threads from its options, and data, files and validation from what it records. Flags that would
 * change the run are refused, except --epochs (to train longer) and --threads (the same weights on
 * the same kernel). A checkpoint that records no run (made before shoal recorded one, or by the
 * library) takes the data flags from the command line, as then.
 */
async function resumeFlagsOf(
  flags: TrainFlags,
  file: string,
  given: readonly string[],
): Promise<{ checkpoint: Checkpoint; recorded?: RecordedRun }> {
  const checkpoint = await loadCheckpoint(file);
  const recorded = recordedRunOf(checkpoint, file);
  const fixed = ["--batch", "--eta", "--lambda", "--momentum", "--dropout", "--monitor", "--eta-schedule", "--early-stopping", "--keep-best", "--seed", "--no-shuffle", ...(recorded ? recordedFlags : ["--validation-split"])];
  const refused = given.filter((flag) => recorded ? !resumeFlags.includes(flag) : fixed.includes(flag));
  if (refused.length > 0) {
    const names = refused.join(", ");
    throw new UsageError(
      recorded
        ? `--resume continues the run as ${file} recorded it: ${names} cannot be given with it (only --epochs, to train longer, --threads and --json)`
        : `--resume continues the run as ${file} recorded it: ${names} cannot be given with it`,
    );
  }
  const o = checkpoint.options;
  const epochs = given.includes("--epochs") ? flags.epochs : o.epochs;
  if (epochs < checkpoint.epoch) {
    throw new UsageError(`--epochs ${epochs}: ${file} already has ${plural(checkpoint.epoch, "epoch")} done`);
  }
  Object.assign(flags, {
    epochs,
    batch: o.miniBatchSize,
    eta: o.eta,
    ...(o.lambda !== undefined && { lambda: o.lambda }),
    ...(o.momentum !== undefined && { momentum: o.momentum }),
    ...(o.dropout !== undefined && { dropout: o.dropout }),
    shuffle: o.shuffle,
    seed: checkpoint.seed,
    threads: given.includes("--threads") ? flags.threads : o.threads,
    // before checkpoints recorded the run, --validation always held out the last examples
    validationSplit: recorded?.validationSplit ?? "last",
  });
  if (recorded) {
    const { initModel: _, ...dataAndFiles } = recorded;
    Object.assign(flags, { ...dataAndFiles, checkpoint: undefined });
  }
  return recorded ? { checkpoint, recorded } : { checkpoint };
}

/** The run a checkpoint's metadata records, if it has one (checkpoints of `shoal train` since format 2). */
function recordedRunOf(checkpoint: Checkpoint, file: string): RecordedRun | undefined {
  const run = checkpoint.metadata?.train;
  if (typeof run !== "object" || run === null) return undefined;
  const r = run as Partial<RecordedRun>;
  if (typeof r.data !== "string" || typeof r.out !== "string" || typeof r.checkpointEvery !== "number") {
    throw new ShoalError(`${file}: the run it records (metadata.train) lacks data, out or checkpointEvery`);
  }
  return r as RecordedRun;
}

/**
 * A validation or test set with classes the training set lacks scores 0 on them whatever is learnt:
 * say so on stderr (never in --json's stdout), before the first epoch.
 */
function warnMissingClasses(data: LoadedData, train: Dataset, validation: Dataset | undefined, split: ValidationSplit): void {
  const sets: [string, Dataset | undefined, string][] = [
    ["validation set", validation, split === "last" ? " (--validation-split last holds out the last examples: is the data sorted by class? --validation-split random draws them)" : ""],
    ["test set", data.test, ""],
  ];
  for (const [name, set, hint] of sets) {
    const missing = set ? classesMissing(train, set) : [];
    if (missing.length === 0) continue;
    const names = missing.map((c) => (data.classNames?.[c] !== undefined ? `${c} (${data.classNames[c]})` : String(c)));
    process.stderr.write(
      `warning: the ${name} has ${missing.length === 1 ? "class" : "classes"} ${names.join(", ")} that no training example has: ` +
        `the network cannot learn ${missing.length === 1 ? "it" : "them"}${hint}\n`,
    );
  }
}

/** The network to train: the model --init-model names, or a new one with layers from the flags and the data. */
async function buildNetwork(flags: TrainFlags, data: LoadedData, seed: number, initial?: Network): Promise<Network> {
  if (flags.initModel !== undefined && initial !== undefined) {
    checkModelFits(initial.sizes, data, flags.initModel);
    return initial;
  }
  const inputs = data.train.inputSize;
  let sizes: number[];
  if (flags.layers) {
    sizes = flags.layers;
    if (sizes.length < 2) throw new UsageError(`--layers needs at least an input and an output layer, got ${sizes.join(",")}`);
    const [first, last] = [sizes[0]!, sizes[sizes.length - 1]!];
    if (first !== inputs) {
      throw new UsageError(`--layers ${sizes.join(",")} starts with ${first}, but ${data.name} has ${inputs} inputs per example`);
    }
    if (classCount(last) < data.classes) {
      throw new UsageError(`--layers ${sizes.join(",")} ends with ${last}, but ${data.name} has ${data.classes} classes`);
    }
  } else {
    sizes = [inputs, ...(flags.hidden ?? defaultHidden), data.classes];
  }
  const activation = flags.activation ?? "sigmoid";
  const cost = flags.cost ?? "quadratic";
  // cross-entropy needs sigmoid outputs, log-likelihood softmax ones: that is the default output layer with each, whatever the hidden layers use
  const outputActivation = flags.outputActivation ?? (cost === "cross-entropy" ? "sigmoid" : cost === "log-likelihood" ? "softmax" : activation);
  return Network.create(sizes, { seed, activation, outputActivation, cost, init: flags.weightInit, dtype: flags.dtype });
}

/**
 * The thread count known before the data loads: a given one; or what "auto" comes to for a new
 * network on the bundled digits, whose shape and share of non-zero inputs are fixed (the run
 * decides again on the loaded data: the same unless --limit keeps a very different share).
 */
function threadsBeforeLoading(flags: TrainFlags, resumed: boolean): number | undefined {
  if (typeof flags.threads === "number") return flags.threads;
  if (flags.data !== "mnist" || resumed || flags.initModel !== undefined) return undefined;
  const { inputSize, classes, inputDensity } = mnistDigitsSplit;
  const sizes = flags.layers ?? [inputSize, ...(flags.hidden ?? defaultHidden), classes];
  const dtype = flags.dtype ?? "float32";
  const kernel = kernelChoice(undefined, dtype, "auto", flags.parallelism);
  const layers = { activation: flags.activation ?? "sigmoid", outputActivation: flags.outputActivation ?? flags.activation ?? "sigmoid", cost: flags.cost ?? "quadratic" } as const;
  const neuronSplit = flags.parallelism !== "examples" && neuronSplitRuns(sizes, kernel, layers, flags.batch, flags.dropout, dtype);
  return chooseThreads({ sizes, miniBatchSize: flags.batch, kernel, dtype, inputDensity, neuronSplit }).threads;
}

/** `mnist` → mnist.shoal.json; `data/iris.csv` → iris.shoal.json; an IDX folder → its name. */
function defaultOut(data: string): string {
  const base = path.basename(path.resolve(data)).replace(/\.csv$/i, "") || "model";
  return `${base}.shoal.json`;
}

/** Fails before training, not after the first epoch, when an output file's folder is missing. */
async function checkWritable(file: string, flag: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new ShoalError(`${flag} ${file}: folder ${dir} does not exist`);
  const target = await stat(file).catch(() => undefined);
  if (target?.isDirectory()) throw new ShoalError(`${flag} ${file} is a folder, expected a file name`);
}

/** How far above chance level a test accuracy still counts as "not learning". */
const CHANCE_MARGIN = 0.01;

/**
 * The test accuracy of a network that has learned nothing: 1/classes, or the share of the most
 * common class when the test set is unbalanced (a network answering that class always scores it).
 */
function chanceLevel(test: Dataset, classes: number): number {
  const counts = new Array<number>(Math.max(classes, 2)).fill(0);
  for (let i = 0; i < test.count; i++) counts[targetClass(test, i)]!++;
  const most = test.count === 0 ? 0 : Math.max(...counts) / test.count;
  return Math.max(1 / Math.max(classes, 2), most);
}

/**
 * Printed once, when two epochs in a row (or the last) end at chance level. Measured on the bundled digits with relu: a
 * relu output layer (the default with --activation relu) dies in the first epoch whatever η; with
 * sigmoid outputs, η 0.5 and scaled-gaussian weights it reached 86% in 2 epochs of 2,000 examples.
 */
function chanceHint(record: EpochRecord, classes: number, flags: TrainFlags, net: Network): string {
  const tries = [
    ...(net.spec.outputActivation === "relu" ? ["--output-activation sigmoid (relu outputs stuck at 0 stop learning)"] : []),
    `a smaller --eta than ${flags.eta} (relu and tanh often need 0.01–0.5)`,
    ...(flags.initModel === undefined && net.spec.init === "gaussian" ? ["--weight-init scaled-gaussian"] : []),
  ];
  return (
    `shoal: hint: epoch ${record.epoch} ended at chance level (test ${percent(record.testAccuracy ?? 0)} with ${classes} classes): ` +
    `the network is not learning. Try ${tries.join("; ")}.`
  );
}

/** What the model file records about how it was trained (`shoal info` shows it). */
function trainingMetadata(
  flags: TrainFlags,
  data: LoadedData,
  trainSet: Dataset,
  validation: Dataset | undefined,
  seed: number,
  records: readonly EpochRecord[],
  seconds: number,
  net: Network,
  initModel: string | undefined,
  threads: ThreadChoice,
): Record<string, unknown> {
  const last = records[records.length - 1];
  return {
    ...dataMetadata({
      data: data.name,
      ...(data.kind === "csv" && {
        csv: { labelColumn: flags.labelColumn, scale: flags.scale, testData: flags.testData, separator: flags.separator },
      }),
      classNames: data.classNames,
    }),
    trainExamples: trainSet.count,
    ...(validation && { validationExamples: validation.count }),
    testExamples: data.test?.count ?? 0,
    ...(validation && { validationSplit: flags.validationSplit ?? "random" }),
    epochs: last?.epoch ?? 0,
    ...((last?.epoch ?? 0) < flags.epochs && { epochsRequested: flags.epochs }),
    batch: flags.batch,
    eta: flags.eta,
    ...(flags.lambda !== undefined && flags.lambda > 0 && { lambda: flags.lambda }),
    ...(flags.momentum !== undefined && flags.momentum > 0 && { momentum: flags.momentum }),
    ...(flags.dropout !== undefined && flags.dropout > 0 && { dropout: flags.dropout }),
    ...(flags.etaSchedule && { etaSchedule: etaScheduleText(flags.etaSchedule) }),
    ...(flags.earlyStopping !== undefined && { earlyStopping: { patience: flags.earlyStopping, keepBest: flags.keepBest === true } }),
    seed,
    threads: threads.threads,
    threadsReason: threads.reason,
    ...(threads.threads > 0 && { parallelism: threads.parallelism }),
    shuffle: flags.shuffle,
    ...(initModel === undefined ? { weightInit: net.spec.init } : { initModel }),
    ...(last && {
      trainingCost: last.cost,
      ...(last.testAccuracy !== null && { testAccuracy: last.testAccuracy }),
      ...(last.validationAccuracy !== undefined && { validationAccuracy: last.validationAccuracy }),
    }),
    seconds,
    date: new Date().toISOString(),
  };
}

/** The first line: what is trained on what, with which settings. */
function describeRun(
  flags: TrainFlags,
  data: LoadedData,
  net: Network,
  trainSet: Dataset,
  validation: Dataset | undefined,
  seed: number,
  initModel: string | undefined,
  resumedAfter: number | undefined,
  threads: ThreadChoice,
): string {
  const sets = [
    `${count(trainSet.count)} examples`,
    ...(validation ? [`validating on ${count(validation.count)}`] : []),
    data.test ? `testing on ${count(data.test.count)}` : "no test set",
  ];
  const { activation, outputActivation, cost, dtype } = net.spec;
  const act = activation === outputActivation ? activation : `${activation}/${outputActivation}`;
  const from =
    resumedAfter !== undefined ? ` from ${flags.resume} (after epoch ${resumedAfter})` : initModel === undefined ? "" : ` from ${initModel}`;
  return (
    `training ${net.sizes.join("-")}${from} on ${data.name}: ${sets.join(", ")}\n` +
    `${act}, ${cost} cost, ${dtype}${net.spec.init === undefined ? "" : `, ${net.spec.init} init`}, η ${flags.eta}, batch ${flags.batch}, ${plural(flags.epochs, "epoch")}, ${rulesText(flags)}` +
    `${threadsText(threads.threads, flags.threads === "auto")}${threads.parallelism === "neurons" && flags.threads !== "auto" ? " sharing the hidden layer's neurons" : ""}, seed ${seed}${flags.shuffle ? "" : ", no shuffle"}` +
    (flags.threads === "auto" ? `\nauto chose ${threads.reason}` : "")
  );
}

/** Chapter 3's rules the run uses, as "λ 5, μ 0.5, dropout 0.5, " (nothing for plain SGD). */
function rulesText(flags: Pick<TrainFlags, "lambda" | "momentum" | "dropout">): string {
  const rules = [["λ", flags.lambda], ["μ", flags.momentum], ["dropout", flags.dropout]] as const;
  return rules.filter(([, value]) => value !== undefined && value > 0).map(([name, value]) => `${name} ${value}, `).join("");
}

/** "2 threads (auto)", "3 threads", "in process". */
function threadsText(threads: number, auto: boolean): string {
  return threads === 0 ? "in process" : `${plural(threads, "thread")}${auto ? " (auto)" : ""}`;
}

function plotTitle(net: Network, data: LoadedData): string {
  return `${net.sizes.join("-")} on ${data.name}`;
}

/** The last line: how far it got and where the results are. */
function summary(records: readonly EpochRecord[], threads: number | undefined, ms: number, out: string, plot?: string): string {
  const last = records[records.length - 1];
  const parts = [`${plural(records.length, "epoch")} in ${duration(ms / 1000)}`];
  if (threads !== undefined) parts.push(threads === 0 ? "in process" : plural(threads, "thread"));
  if (last?.testAccuracy != null) parts.push(`test accuracy ${percent(last.testAccuracy)}`);
  if (last?.validationAccuracy !== undefined) parts.push(`validation accuracy ${percent(last.validationAccuracy)}`);
  parts.push(`saved ${out}${plot ? ` and ${plot}` : ""}`);
  return parts.join("; ");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
