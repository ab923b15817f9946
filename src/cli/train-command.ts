import { stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import type { ActivationName } from "../core/activations.js";
import type { CostName } from "../core/costs.js";
import type { Dataset } from "../core/dataset.js";
import { AbortError, ShoalError } from "../core/errors.js";
import { Network, randomSeed, type DType, type Init } from "../core/network.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { loadCheckpoint } from "../io/checkpoint.js";
import { loadModel, saveNetwork } from "../io/model-file.js";
import { train } from "../train/train.js";
import { outputClosed } from "./closed-output.js";
import { checkModelFits, holdOut, loadData, type LoadedData } from "./data-source.js";
import { exitCodes, UsageError } from "./errors.js";
import { count, duration, percent } from "./format.js";
import { createReporter, type EpochRecord, type Reporter } from "./output.js";

/** `shoal train`'s flags, parsed. Architecture flags are undefined unless given (they conflict with --init). */
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
  init?: string;
  epochs: number;
  batch: number;
  eta: number;
  threads: number | "auto";
  seed?: number;
  shuffle: boolean;
  out?: string;
  plot?: string;
  json?: boolean;
  validation?: number;
  limit?: number;
  testLimit?: number;
  testData?: string;
  labelColumn?: string;
  scale?: number;
  /** Checkpoint file, rewritten every `checkpointEvery` epochs. */
  checkpoint?: string;
  checkpointEvery?: number;
  /** A checkpoint to continue from: its network, options and shuffle state replace the flags'. */
  resume?: string;
}

/** Hidden layers when neither --layers nor --hidden is given: Nielsen's 784-30-10. */
export const defaultHidden = [30];

/**
 * Trains a network on the data `flags` name and saves it. After every finished epoch the model
 * (and the plot) are rewritten atomically, so `--out` always holds either its old contents or a
 * complete model of the last finished epoch. Ctrl-C stops after the current mini-batch; the
 * unfinished epoch is dropped, a summary is printed and the exit code is 130. A reader that closes
 * stdout (`| head -1`) stops it the same way, quietly (main() then exits 141).
 */
export async function trainCommand(flags: TrainFlags): Promise<number> {
  checkArchitectureFlags(flags);
  const out = flags.out ?? defaultOut(flags.data);
  await Promise.all([checkWritable(out, "--out"), flags.plot === undefined ? undefined : checkWritable(flags.plot, "--plot")]);
  const plot = flags.plot === undefined ? undefined : await import("./plot.js");

  const loaded = await loadData(flags);
  const { train: trainSet, validation } =
    flags.validation === undefined ? { train: loaded.train, validation: undefined } : holdOut(loaded.train, flags.validation);
  const resumed = flags.resume === undefined ? undefined : await loadCheckpoint(flags.resume);
  if (resumed) {
    // the run continues as it was started: its network, batch, η, shuffle, threads, seed and epochs
    const o = resumed.options;
    Object.assign(flags, { epochs: o.epochs, batch: o.miniBatchSize, eta: o.eta, shuffle: o.shuffle, threads: o.threads, seed: resumed.seed });
  }
  const seed = flags.seed ?? randomSeed();
  const net = resumed ? resumed.network : await buildNetwork(flags, loaded, seed);

  const reporter = createReporter({ json: flags.json === true });
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) {
      // a second Ctrl-C: quit at once (--out is still whole: it is only ever replaced by a rename)
      reporter.close();
      process.exit(exitCodes.interrupted);
    }
    controller.abort();
    reporter.note("interrupted: stopping after the current mini-batch (Ctrl-C again to quit at once)");
  };
  process.on("SIGINT", onSigint);
  const signal = AbortSignal.any([controller.signal, outputClosed]);

  const records: EpochRecord[] = [];
  const started = performance.now();
  const description = describeRun(flags, loaded, net, trainSet, validation, seed);
  reporter.start(description, flags.epochs);
  try {
    const result = await train(net, trainSet, {
      epochs: flags.epochs,
      miniBatchSize: flags.batch,
      eta: flags.eta,
      seed,
      shuffle: flags.shuffle,
      threads: flags.threads,
      testData: loaded.test,
      signal,
      ...(flags.checkpoint !== undefined && { checkpoint: { path: flags.checkpoint, every: flags.checkpointEvery ?? 1 } }),
      ...(resumed && { resume: resumed }),
      onProgress: (p) => reporter.progress(p),
      onEpoch: async (r) => {
        const record: EpochRecord = {
          epoch: r.epoch,
          cost: r.cost,
          testAccuracy: r.accuracy ?? null,
          ...(validation && { validationAccuracy: net.evaluate(validation).accuracy }),
          examplesPerSecond: r.examplesPerSecond,
          seconds: r.seconds,
        };
        records.push(record);
        reporter.epoch(record, flags.epochs);
        const seconds = (performance.now() - started) / 1000;
        await saveNetwork(net, out, trainingMetadata(flags, loaded, trainSet, validation, seed, records, seconds));
        if (plot && flags.plot) await writeFileAtomic(flags.plot, await plot.learningCurveSvg(records, plotTitle(net, loaded)));
      },
    });
    reporter.close();
    reporter.note(summary(records, result.threads, performance.now() - started, out, flags.plot));
    return exitCodes.ok;
  } catch (error) {
    reporter.close();
    if (!(error instanceof AbortError && signal.aborted)) throw error;
    if (outputClosed.aborted) return exitCodes.outputClosed;
    const kept =
      records.length === 0
        ? `no epoch finished: ${out} was left as it was`
        : `${out} holds the model after epoch ${records.length}`;
    reporter.note(`interrupted during epoch ${records.length + 1} of ${flags.epochs}; ${kept}`);
    if (records.length > 0) reporter.note(summary(records, undefined, performance.now() - started, out, flags.plot));
    return exitCodes.interrupted;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** A model given with --init fixes the architecture; so does --layers against --hidden. */
function checkArchitectureFlags(flags: TrainFlags): void {
  if (flags.layers && flags.hidden) throw new UsageError("give --layers (all layers) or --hidden (hidden layers only), not both");
  if (flags.resume !== undefined && flags.init !== undefined) throw new UsageError("give --resume or --init, not both");
  if (flags.init !== undefined || flags.resume !== undefined) {
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
    const source = flags.init !== undefined ? "--init: the model file" : "--resume: the checkpoint";
    if (given) throw new UsageError(`${given[1]} cannot be combined with ${source} fixes the network`);
  }
  if (flags.cost === "cross-entropy" && flags.outputActivation !== undefined && flags.outputActivation !== "sigmoid") {
    throw new UsageError(`--cost cross-entropy needs --output-activation sigmoid, got ${flags.outputActivation}`);
  }
}

/** The network to train: the --init model, or a new one with layers from the flags and the data. */
async function buildNetwork(flags: TrainFlags, data: LoadedData, seed: number): Promise<Network> {
  if (flags.init !== undefined) {
    const { network } = await loadModel(flags.init);
    checkModelFits(network.sizes, data, flags.init);
    return network;
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
    if (last < data.classes) {
      throw new UsageError(`--layers ${sizes.join(",")} ends with ${last}, but ${data.name} has ${data.classes} classes`);
    }
  } else {
    sizes = [inputs, ...(flags.hidden ?? defaultHidden), data.classes];
  }
  const activation = flags.activation ?? "sigmoid";
  const cost = flags.cost ?? "quadratic";
  // cross-entropy needs sigmoid outputs: that is the default output layer with it, whatever the hidden layers use
  const outputActivation = flags.outputActivation ?? (cost === "cross-entropy" ? "sigmoid" : activation);
  return Network.create(sizes, { seed, activation, outputActivation, cost, init: flags.weightInit, dtype: flags.dtype });
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

/** The worker threads train() uses for this option (it resolves "auto" the same way). */
function threadsOf(threads: number | "auto"): number {
  return threads === "auto" ? availableParallelism() : threads;
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
): Record<string, unknown> {
  const last = records[records.length - 1];
  return {
    data: data.name,
    ...(data.kind === "csv" && {
      labelColumn: flags.labelColumn ?? 0,
      scale: flags.scale ?? 1,
      ...(flags.testData !== undefined && { testData: flags.testData }),
    }),
    ...(data.classNames && { classNames: data.classNames }),
    trainExamples: trainSet.count,
    ...(validation && { validationExamples: validation.count }),
    testExamples: data.test?.count ?? 0,
    epochs: records.length,
    ...(records.length < flags.epochs && { epochsRequested: flags.epochs }),
    batch: flags.batch,
    eta: flags.eta,
    seed,
    threads: threadsOf(flags.threads),
    shuffle: flags.shuffle,
    ...(flags.init === undefined ? { weightInit: flags.weightInit ?? "gaussian" } : { initModel: flags.init }),
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
): string {
  const sets = [
    `${count(trainSet.count)} examples`,
    ...(validation ? [`validating on ${count(validation.count)}`] : []),
    data.test ? `testing on ${count(data.test.count)}` : "no test set",
  ];
  const { activation, outputActivation, cost, dtype } = net.spec;
  const act = activation === outputActivation ? activation : `${activation}/${outputActivation}`;
  const from = flags.init === undefined ? "" : ` from ${flags.init}`;
  return (
    `training ${net.sizes.join("-")}${from} on ${data.name}: ${sets.join(", ")}\n` +
    `${act}, ${cost} cost, ${dtype}, η ${flags.eta}, batch ${flags.batch}, ${plural(flags.epochs, "epoch")}, ` +
    `${threadsText(flags.threads)}, seed ${seed}${flags.shuffle ? "" : ", no shuffle"}`
  );
}

/** "2 threads (auto)", "3 threads", "in process". */
function threadsText(threads: number | "auto"): string {
  const n = threadsOf(threads);
  return n === 0 ? "in process" : `${plural(n, "thread")}${threads === "auto" ? " (auto)" : ""}`;
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
