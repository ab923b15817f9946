import { jobRun, modelMetadataOfSpec, trainOptionsOfSpec } from "./spec-run.js";
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { AbortError, check, show } from "../core/errors.js";
import { loadModel, saveNetwork } from "../io/model-file.js";
import { fromModelJson, toModelJson, type ModelJson } from "../io/model-format.js";
import type { Network } from "../core/network.js";
import { PoolSet } from "../train/pool-set.js";
import { trainOn } from "../train/train.js";
import { errorInfo, JobStateError, QueueFullError, TrainerClosedError, UnknownJobError } from "./errors.js";
import { MODEL_CACHE_SIZE, ModelCache } from "./model-cache.js";
import { predictRows } from "./predict.js";
import type { JobEvent, JobInfo, Prediction, WireEvent } from "./job.js";
import type { PreparedSpec } from "./spec.js";

/** Options of the trainer thread, after validation (see background-trainer.ts). */
export interface TrainerCoreOptions {
  /** Jobs that train at the same time. */
  concurrency: number;
  /** Jobs that may wait; one more is a QueueFullError. */
  maxQueue: number;
  /** Where trained models are saved (`<id>.shoal.json`) and found again after a restart. */
  modelsDir?: string;
  /** Most inputs one predict call may ask about. */
  maxPredictInputs: number;
  /** Most epochs × training examples a job may ask for (checked again once its data is loaded); default no bound. */
  maxJobWork?: number;
}

/** What the trainer thread reports when it starts. */
export interface CoreStart {
  /** Jobs whose models were found in the models folder. */
  restored: JobInfo[];
  /** Files of the models folder that could not be read as models of ours, with the reason. */
  skipped: string[];
}

interface Job {
  info: JobInfo;
  spec?: PreparedSpec;
  /** What the model file's metadata says about the data (see modelMetadataOfSpec), once trained. */
  dataMetadata?: Record<string, unknown>;
  controller?: AbortController;
  /** Settles when a running job has finished, whatever its end. */
  settled?: Promise<void>;
}

/**
 * The trainer: a FIFO queue of jobs, `concurrency` of them training at once, each with its own
 * `train()` run (and so its own worker pool), plus the trained models. It lives in the trainer
 * thread (trainer-thread.ts) and is driven over comlink by a BackgroundTrainer; it reports every
 * change of a job through `emit`. Nothing here blocks the thread: `train()` only awaits promises,
 * so predictions and status calls are answered while a job trains.
 */
export class TrainerCore {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];
  private running = 0;
  private closing = false;
  /** Trained networks kept for predictions: every one without a models folder (there is no other copy), the recently used with it. */
  private readonly networks: ModelCache;
  /** Settles once the handle has handled the latest event (events are handled in order). */
  private lastEmit: Promise<unknown> = Promise.resolve();

  /** `pools`: worker threads kept warm from job to job, by thread count (tests give a fault-injecting set). */
  constructor(
    private readonly options: TrainerCoreOptions,
    private readonly emit: (event: WireEvent) => unknown,
    private readonly pools = new PoolSet(),
  ) {
    this.networks = new ModelCache(options.modelsDir === undefined ? Infinity : MODEL_CACHE_SIZE);
  }

  /** Loads the records of the models already in the models folder. */
  async start(): Promise<CoreStart> {
    const dir = this.options.modelsDir;
    const restored: JobInfo[] = [];
    const skipped: string[] = [];
    if (dir === undefined) return { restored, skipped };
    await mkdir(dir, { recursive: true });
    for (const file of (await readdir(dir)).filter((f) => f.endsWith(modelSuffix)).sort()) {
      const id = file.slice(0, -modelSuffix.length);
      try {
        const { metadata } = await loadModel(path.join(dir, file));
        const job = metadata?.job as JobInfo | undefined;
        check(job !== undefined && job.id === id && job.status === "done", `${file}: no job record of id ${show(id)} in its metadata`);
        const info: JobInfo = { ...job, restored: true, model: true, seq: 1 };
        this.jobs.set(id, { info });
        restored.push(info);
      } catch (error) {
        skipped.push(error instanceof Error ? error.message : String(error));
      }
    }
    return { restored, skipped };
  }

  /** Queues a job (or starts it at once when fewer than `concurrency` run). The spec was checked by prepareSpec. */
  submit(id: string, spec: PreparedSpec): JobInfo {
    if (this.closing) throw new TrainerClosedError("the trainer is closing");
    check(!this.jobs.has(id), `job id ${show(id)} is taken`);
    const busy = this.running >= this.options.concurrency;
    if (busy && this.queue.length >= this.options.maxQueue) {
      throw new QueueFullError(`the job queue is full: ${this.queue.length} jobs are waiting (maxQueue ${this.options.maxQueue}); try again when one has started`);
    }
    const job: Job = {
      spec,
      info: { id, status: "queued", spec: spec.summary, epoch: 0, epochs: spec.epochs, reports: [], createdAt: new Date().toISOString(), model: false, seq: 0 },
    };
    this.jobs.set(id, job);
    this.queue.push(job);
    this.update(job, "queued", {});
    this.pump();
    return job.info;
  }

  /** Cancels a queued or running job; resolves once it has stopped (a running one within one mini-batch). */
  async cancel(id: string): Promise<JobInfo> {
    const job = this.job(id);
    const status = job.info.status;
    if (status === "queued") {
      this.queue.splice(this.queue.indexOf(job), 1);
      job.spec = undefined;
      this.update(job, "cancelled", { finishedAt: new Date().toISOString(), error: { name: "AbortError", message: "cancelled while queued" } });
    } else if (status === "running") {
      job.controller!.abort();
      await job.settled;
    } else {
      throw JobStateError.ended(id, status);
    }
    return job.info;
  }

  /** The model file text of a finished job: what saveNetwork writes, metadata included. */
  async modelText(id: string): Promise<string> {
    const job = this.withModel(id);
    const dir = this.options.modelsDir;
    if (dir !== undefined) return readFile(path.join(dir, id + modelSuffix), "utf8");
    return JSON.stringify(toModelJson(await this.network(id), { ...job.dataMetadata, job: job.info }));
  }

  /** Outputs and classes of a batch of inputs (rows, or rows flattened by the handle), from a job's model or from a model given as JSON. */
  async predict(model: string | ModelJson, inputs: ArrayLike<number>[] | Float64Array): Promise<Prediction> {
    const net = typeof model === "string" ? await this.network(this.withModel(model).info.id) : fromModelJson(model, "model");
    return predictRows(net, inputs, this.options.maxPredictInputs);
  }

  /** Cancels every job (queued ones at once, running ones within a mini-batch) and waits until all have stopped. */
  async close(): Promise<void> {
    this.closing = true;
    for (const job of [...this.queue]) await this.cancel(job.info.id);
    await Promise.all(
      [...this.jobs.values()].filter((j) => j.info.status === "running").map((j) => {
        j.controller!.abort();
        return j.settled;
      }),
    );
    await this.pools.close();
    await this.lastEmit; // so the handle has every job's last event before close() returns
  }

  private job(id: string): Job {
    const job = typeof id === "string" ? this.jobs.get(id) : undefined;
    if (job === undefined) throw new UnknownJobError(String(id));
    return job;
  }

  private withModel(id: string): Job {
    const job = this.job(id);
    if (!job.info.model) throw JobStateError.noModel(id, job.info.status);
    return job;
  }

  /** A job's trained network: in memory, or read from the models folder (and kept among the recently used). */
  private network(id: string): Promise<Network> {
    return this.networks.get(id, async () => (await loadModel(path.join(this.options.modelsDir!, id + modelSuffix))).network);
  }

  /** Starts queued jobs while fewer than `concurrency` run. */
  private pump(): void {
    while (!this.closing && this.running < this.options.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      job.settled = this.run(job).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(job: Job): Promise<void> {
    const spec = job.spec!;
    job.spec = undefined; // inline data can be large: let it go when the job ends
    const controller = new AbortController();
    job.controller = controller;
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    this.update(job, "started", { status: "running", startedAt: new Date().toISOString() });
    try {
      const { data, network: net, sets } = await jobRun(spec, this.options.maxJobWork, controller.signal);
      const options = trainOptionsOfSpec(spec, sets, {
        signal: controller.signal,
        onProgress: (progress) => {
          // Worker start-up reports 0 examples a few times: send only news.
          const last = job.info.progress;
          if (last?.epoch === progress.epoch && last.examplesDone === progress.examplesDone) return;
          this.update(job, "progress", { progress, seconds: seconds() }, { progress });
        },
        onEpoch: async (report) => {
          this.update(job, "epoch", { epoch: report.epoch, accuracy: report.accuracy, cost: report.cost, reports: [...job.info.reports, report], progress: undefined, seconds: seconds() }, { report });
          // In-process jobs (threads 0) whose epochs are shorter than the serial engine's 20 ms
          // yield interval would otherwise never give this thread's event loop a turn: no call
          // (cancel, predict, close) would be answered and events would pile up unsent.
          await nextTurn();
        },
      });
      const result = await trainOn(this.pools, net, sets.train, options); // threads stay warm from job to job
      const finished = {
        threads: result.threads, threadsReason: result.threadsReason, parallelism: result.parallelism, finishedAt: new Date().toISOString(), seconds: seconds(), model: true,
        ...(result.stopped && { stopped: result.stopped }),
        ...(result.bestEpoch !== undefined && { bestEpoch: result.bestEpoch }),
      };
      const dir = this.options.modelsDir;
      job.dataMetadata = modelMetadataOfSpec(spec, data);
      // The saved record is the final one, so a restarted trainer lists the job as it ended.
      if (dir !== undefined) {
        await saveNetwork(net, path.join(dir, job.info.id + modelSuffix), { ...job.dataMetadata, job: { ...job.info, ...finished, status: "done", progress: undefined } });
      }
      this.networks.set(job.info.id, net);
      this.update(job, "done", { ...finished, status: "done" });
    } catch (error) {
      const end = { finishedAt: new Date().toISOString(), seconds: seconds(), progress: undefined, error: errorInfo(error) };
      if (error instanceof AbortError && controller.signal.aborted) this.update(job, "cancelled", { ...end, status: "cancelled" });
      else this.update(job, "failed", { ...end, status: "failed" });
    }
  }

  /** Applies a change to a job's record and reports it. */
  private update(job: Job, type: JobEvent["type"], change: Partial<JobInfo>, extra: object = {}): void {
    const info: JobInfo = { ...job.info, ...change, seq: job.info.seq + 1 };
    if (type === "queued" || type === "cancelled" || type === "failed" || type === "done") info.status = type === "queued" ? "queued" : type;
    for (const key of Object.keys(info) as (keyof JobInfo)[]) if (info[key] === undefined) delete info[key];
    job.info = info;
    // The handle may be gone (closing): a lost event is harmless then.
    const { reports: _, ...record } = info;
    this.lastEmit = Promise.resolve(this.emit({ type, job: record, ...extra } as WireEvent)).catch(() => {});
  }
}

/** File name ending of the models the trainer saves. */
export const modelSuffix = ".shoal.json";
