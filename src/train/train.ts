import { asFloat32, type Dataset } from "../core/dataset.js";
import { AbortError, check, checkInteger, DivergenceError, show } from "../core/errors.js";
import { Network } from "../core/network.js";
import { Rng, shuffleInPlace } from "../core/rng.js";
import { initialScheduleState, scheduleStep } from "../core/schedule.js";
import { meanCost } from "../core/evaluate.js";
import type { Engine } from "./engine.js";
import { saveCheckpoint, type Checkpoint } from "../io/checkpoint.js";
import { planResumedRun, planRun, type EpochReport, type ResumeTrainOptions, type RunPlan, type TrainOptions, type TrainResult } from "./options.js";
import { MAX_THREADS, type TrainingPool } from "../parallel/pool.js";
import { parallelEngine } from "./parallel.js";
import { PoolSet } from "./pool-set.js";
import { serialEngine } from "./serial.js";

/** The process-wide pool that train() runs on when it is given none (made on first use). */
let defaultPools: PoolSet | undefined;

/**
 * Starts `threads` threads of the default pool now (unless idle ones are there), so that the next
 * train() on that many threads finds them started: call it before loading the data, and they start
 * meanwhile. They stay idle until then, and do not keep the process alive.
 */
export function startDefaultPool(threads: number): void {
  checkInteger("threads", threads);
  check(threads <= MAX_THREADS, `threads must be at most ${MAX_THREADS}, got ${threads}`);
  (defaultPools ??= new PoolSet()).start(threads);
}

/**
 * Ends the threads of the default pool, which train() uses when it is given no `pool` (runs in
 * progress finish first). Not needed before a process exits: idle threads do not keep it alive.
 * The next train() starts new threads.
 */
export async function closeDefaultPool(): Promise<void> {
  const pools = defaultPools;
  defaultPools = undefined;
  await pools?.close();
}

/**
 * Mini-batch stochastic gradient descent, as network.py's SGD: for each epoch, shuffle the training
 * data, cut it into mini-batches of `miniBatchSize`, and for each batch apply
 * w ← w − (η/m) Σ_x ∂C_x/∂w (likewise b), the gradients coming from backpropagation.
 * With `threads` ≥ 1 each batch is split across worker threads; with 0 it runs in process.
 * The threads are the given `pool`'s, or the default pool's: started by the first run that needs
 * them and kept, idle and warm, for the next (concurrent runs each get threads of their own).
 * The network's parameters are updated in place. Every option and both datasets are validated
 * before any thread starts. With `resume`, options the checkpoint records may be left out.
 */
export function train(network: Network, trainingData: Dataset, options: TrainOptions | ResumeTrainOptions): Promise<TrainResult> {
  return trainOn(defaultPools ??= new PoolSet(), network, trainingData, options);
}

/**
 * train() with `pools` in place of the default pool when the options give no `pool` (a background
 * trainer keeps its own set of warm pools, which it closes with itself).
 */
export async function trainOn(pools: PoolSet, network: Network, trainingData: Dataset, options: TrainOptions | ResumeTrainOptions): Promise<TrainResult> {
  check(network instanceof Network, "train() needs a Network as its first argument");
  check(options !== null && typeof options === "object", `train options must be an object, got ${show(options)}`);
  const resumeValue: unknown = options.resume;
  check(
    resumeValue === undefined ||
      (typeof resumeValue === "object" && resumeValue !== null && (resumeValue as Checkpoint).network instanceof Network &&
        (resumeValue as Checkpoint).order instanceof Int32Array && Array.isArray((resumeValue as Checkpoint).rngState)),
    "resume must be a checkpoint from loadCheckpoint()",
  );
  const { activation, outputActivation, cost } = network.spec;
  const shape = { sizes: network.sizes, dtype: network.spec.dtype, data: trainingData, layers: { activation, outputActivation, cost } };
  const plan = options.resume ? planResumedRun(options, options.resume, shape) : planRun(options as TrainOptions, shape);
  network.checkFits(trainingData, "training data");
  check(trainingData.count > 0, "training data has no examples");
  if (options.testData !== undefined) network.checkFits(options.testData, "testData");
  if (options.validationData !== undefined) network.checkFits(options.validationData, "validationData");
  if (network.spec.dtype === "float32") {
    // a float32 network trains on float32 values, whichever path runs it (a float64 dataset is rounded once, here)
    trainingData = asFloat32(trainingData);
    options = {
      ...options,
      ...(options.testData && { testData: asFloat32(options.testData) }),
      ...(options.validationData && { validationData: asFloat32(options.validationData) }),
    };
  }
  const test = options.testData;
  const resume = options.resume;
  if (resume) checkResumable(network, trainingData, resume, plan);
  const signal = options.signal;
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  if (resume) network.params.set(resume.network.params);

  if (plan.threads === 0) return runEpochs(network, trainingData, options, plan, serialEngine(network, trainingData, test, plan, signal));
  const onPool = async (pool: TrainingPool): Promise<TrainResult> =>
    runEpochs(network, trainingData, options, plan, await parallelEngine(network, trainingData, test, plan, signal, pool));
  return options.pool ? onPool(options.pool) : pools.with(plan.threads, onPool);
}

/** The epochs of a validated run, on `engine`; the engine is closed however the run ends. */
async function runEpochs(network: Network, trainingData: Dataset, options: TrainOptions | ResumeTrainOptions, plan: RunPlan, engine: Engine): Promise<TrainResult> {
  const { resume, signal, testData: test, validationData: validation } = options;
  const rng = resume ? Rng.fromState(resume.rngState) : new Rng(plan.seed);
  const order = resume ? resume.order.slice() : Int32Array.from({ length: trainingData.count }, (_, i) => i);
  const reports: EpochReport[] = [];
  const scheduled = { eta0: plan.eta, etaSchedule: plan.etaSchedule, earlyStopping: plan.earlyStopping };
  let schedule = resume?.schedule ?? initialScheduleState(plan.eta);
  const restoreBest = plan.earlyStopping?.restoreBest === true;
  let best = restoreBest ? resume?.bestParams?.slice() : undefined;
  if (resume?.velocities) engine.load(network.params, resume.velocities);
  try {
    // A run on a busy pool waited for its turn: the signal may have fired meanwhile.
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    for (let epoch = (resume?.epoch ?? 0) + 1; epoch <= plan.epochs && schedule.stopped === undefined; epoch++) {
      if (plan.shuffle) shuffleInPlace(order, rng);
      const started = performance.now();
      const epochStart = network.params.slice();
      const epochStartVelocities = engine.velocities();
      const onProgress = options.onProgress;
      const eta = schedule.eta;
      const outcome = await engine.runEpoch(
        order,
        epoch,
        eta,
        onProgress && ((examplesDone) => onProgress({ epoch, examplesDone, examples: order.length })),
      );
      if (outcome.aborted) throw new AbortError(undefined, { cause: signal?.reason });
      if (outcome.divergedAt >= 0) {
        if (outcome.divergedAfterUpdate) {
          // The failing step's update was applied: replay the epoch (deterministic) up to the step before it.
          engine.load(epochStart, epochStartVelocities);
          network.params.set(epochStart);
          if (outcome.divergedAt > 0) await engine.runEpoch(order, epoch, eta, undefined, outcome.divergedAt);
        }
        throw new DivergenceError(epoch, outcome.divergedAt + 1, eta);
      }
      const report: EpochReport = {
        epoch,
        cost: outcome.costSum / outcome.examples,
        eta,
        examplesPerSecond: outcome.examples / outcome.trainSeconds,
        seconds: 0,
      };
      if (outcome.phases) report.phases = outcome.phases;
      if (test && outcome.correct !== undefined) {
        report.correct = outcome.correct;
        report.accuracy = test.count === 0 ? 0 : outcome.correct / test.count;
      }
      if (validation) {
        const { correct, accuracy } = network.evaluate(validation);
        report.validationCorrect = correct;
        report.validationAccuracy = accuracy;
      }
      const extra = plan.monitor;
      if (extra.includes("training-accuracy")) report.trainingAccuracy = network.evaluate(trainingData).accuracy;
      if (test && extra.includes("test-cost")) report.testCost = meanCost(network.architecture, network.params, test);
      if (validation && extra.includes("validation-cost")) report.validationCost = meanCost(network.architecture, network.params, validation);
      report.seconds = (performance.now() - started) / 1000;
      reports.push(report);
      const watched = plan.watched === "validation" ? report.validationAccuracy : plan.watched === "test" ? report.accuracy : undefined;
      const next = scheduleStep(schedule, epoch, watched, scheduled);
      schedule = next.state;
      if (restoreBest && next.improved) best = network.params.slice();
      const every = options.checkpoint?.every ?? 1;
      if (options.checkpoint && (epoch % every === 0 || epoch === plan.epochs || schedule.stopped !== undefined)) {
        const { epochs, miniBatchSize, eta: eta0, lambda, momentum, dropout, shuffle, threads, kernel, etaSchedule, earlyStopping } = plan;
        const metadata = options.checkpoint.metadata ?? resume?.metadata;
        await saveCheckpoint(options.checkpoint.path, {
          network, epoch, seed: plan.seed, rngState: rng.state(), order,
          options: {
            epochs, miniBatchSize, eta: eta0, shuffle, threads, kernel,
            ...(lambda > 0 && { lambda }), ...(momentum > 0 && { momentum }), ...(dropout > 0 && { dropout }), ...(etaSchedule && { etaSchedule }), ...(earlyStopping && { earlyStopping }),
          },
          ...(momentum > 0 && { velocities: engine.velocities()! }),
          ...(metadata !== undefined && { metadata }),
          ...((etaSchedule !== undefined || earlyStopping !== undefined) && { schedule }),
          ...(best !== undefined && { bestParams: best }),
        });
      }
      await options.onEpoch?.(report);
      if (signal?.aborted && epoch < plan.epochs && schedule.stopped === undefined) throw new AbortError(undefined, { cause: signal.reason });
    }
    // With restoreBest the network ends with the parameters of its best epoch.
    if (best) network.params.set(best);
  } finally {
    await engine.close();
  }
  return {
    epochs: reports, seed: plan.seed, threads: plan.threads, threadsReason: plan.threadsReason, parallelism: plan.parallelism,
    ...(schedule.stopped && { stopped: schedule.stopped }),
    ...(restoreBest && { bestEpoch: schedule.bestEpoch }),
  };
}

/** A checkpoint must belong to this network shape and this training data. */
function checkResumable(network: Network, data: Dataset, resume: Checkpoint, plan: RunPlan): void {
  const a = network.spec;
  const b = resume.network.spec;
  check(
    a.sizes.join() === b.sizes.join() && a.activation === b.activation && a.outputActivation === b.outputActivation && a.cost === b.cost && a.dtype === b.dtype,
    `the checkpoint is of a ${b.sizes.join("-")} ${b.activation} ${b.cost} ${b.dtype} network, not of this ${a.sizes.join("-")} ${a.activation} ${a.cost} ${a.dtype} one`,
  );
  check(
    a.init === undefined || b.init === undefined || a.init === b.init,
    `the checkpoint's network was initialised with ${b.init}, this one with ${a.init}: create it with init: "${b.init}" (or train checkpoint.network)`,
  );
  check(resume.order.length === data.count, `the checkpoint was made on ${resume.order.length} training examples, not ${data.count}`);
  check(resume.epoch <= plan.epochs, `the checkpoint has ${resume.epoch} epochs done, more than epochs ${plan.epochs}`);
}
