import { expose, transfer, wrap, type Remote } from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import { check, checkInteger, show } from "../core/errors.js";
import type { ModelJson } from "../io/model-format.js";
import { reviveError, TrainerClosedError } from "./errors.js";
import type { JobEvent, JobInfo, Prediction, WireEvent } from "./job.js";
import { isFinal, MirroredJobs } from "./job-records.js";
import type { JobSource } from "./job-source.js";
import { flattenRows } from "./predict.js";
import { defaultSpecLimits, prepareSpec, type JobSpec, type SpecLimits } from "./spec.js";
import type { CoreStart, TrainerCore, TrainerCoreOptions } from "./trainer-core.js";

/** Options of {@link createBackgroundTrainer}; all optional. */
export interface BackgroundTrainerOptions {
  /** Jobs that train at the same time (default 1: each job gets every worker thread it asks for). */
  concurrency?: number;
  /** Jobs that may wait in the queue (default 16); submitting one more throws a QueueFullError. */
  maxQueue?: number;
  /** Folder where finished jobs' models are saved atomically and found again by the next trainer (created if missing). Default: models are kept in memory only. */
  modelsDir?: string;
  /** Most numbers inline data may hold (default 4,000,000). */
  maxInlineValues?: number;
  /** Most parameters a job's network may have (default 50,000,000). */
  maxParameters?: number;
  /** Most inputs one predict call may ask about (default 10,000). */
  maxPredictInputs?: number;
  /** Most worker threads one job may ask for (default: os.availableParallelism()). */
  maxThreads?: number;
  /**
   * Most epochs × training examples one job may ask for (default: no bound; `startServer` and
   * `shoal serve` default to 60,000,000, 1,000 epochs of Fashion-MNIST). Checked when the job is submitted if the data's size is known then (named
   * datasets, inline data, a `limit`), else when its files are loaded (the job fails).
   */
  maxJobWork?: number;
  /** Folder that `idx` and `csv` paths in specs are relative to and must stay inside; job records show them relative to it. Default: paths as given. */
  dataDir?: string;
}

/** Options of {@link BackgroundTrainer.submit}. */
export interface SubmitOptions {
  /** Called in this thread with each of the job's events, in order, until its last (done, failed or cancelled). */
  onEvent?: (event: JobEvent) => void;
  /** Aborting it cancels the job (AbortSignal semantics: a running job stops within one mini-batch). */
  signal?: AbortSignal;
}

// In the repository the thread's entry is TypeScript and needs the tsx loader, which a test runner's
// transform does not give a thread: trainer-thread-tsx.mjs registers it, then loads the entry. The
// built package starts the compiled trainer-thread.js.
const fromSource = import.meta.url.endsWith(".ts");
/** How long close() waits for running jobs to stop before it ends the thread regardless. */
const CLOSE_TIMEOUT_MS = 30_000;

const threadEntry = new URL(fromSource ? "./trainer-thread-tsx.mjs" : "./trainer-thread.js", import.meta.url);

/**
 * Starts a trainer in its own worker thread and resolves once it is ready (its models folder read).
 * Training jobs are submitted as plain data ({@link JobSpec}), queued in order and run one at a time
 * (`concurrency`), each on its own worker pool started from the trainer thread; the calling thread
 * only exchanges small messages with it, so a server's event loop stays free. Close it with
 * `close()` or `await using`.
 */
export async function createBackgroundTrainer(options: BackgroundTrainerOptions = {}): Promise<BackgroundTrainer> {
  check(options != null && typeof options === "object", `trainer options must be an object, got ${show(options)}`);
  const { concurrency = 1, maxQueue = 16, modelsDir, maxPredictInputs = 10_000 } = options;
  checkInteger("options.concurrency", concurrency);
  checkInteger("options.maxQueue", maxQueue, 0);
  checkInteger("options.maxPredictInputs", maxPredictInputs);
  check(modelsDir === undefined || (typeof modelsDir === "string" && modelsDir !== ""), `options.modelsDir must be a folder path, got ${show(modelsDir)}`);
  const limits: SpecLimits = {
    maxInlineValues: options.maxInlineValues ?? defaultSpecLimits.maxInlineValues,
    maxParameters: options.maxParameters ?? defaultSpecLimits.maxParameters,
    maxThreads: options.maxThreads ?? defaultSpecLimits.maxThreads,
    ...(options.maxJobWork !== undefined && { maxJobWork: options.maxJobWork }),
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
  };
  checkInteger("options.maxInlineValues", limits.maxInlineValues);
  checkInteger("options.maxParameters", limits.maxParameters);
  checkInteger("options.maxThreads", limits.maxThreads);
  if (limits.maxJobWork !== undefined) checkInteger("options.maxJobWork", limits.maxJobWork);
  check(limits.dataDir === undefined || (typeof limits.dataDir === "string" && limits.dataDir !== ""), `options.dataDir must be a folder path, got ${show(limits.dataDir)}`);
  const core: TrainerCoreOptions = {
    concurrency,
    maxQueue,
    maxPredictInputs,
    ...(limits.maxJobWork !== undefined && { maxJobWork: limits.maxJobWork }),
    ...(modelsDir === undefined ? {} : { modelsDir }),
  };

  const trainer = new BackgroundTrainer(core, limits);
  try {
    await trainer.ready;
  } catch (error) {
    await trainer.close();
    throw error;
  }
  return trainer;
}

/**
 * The handle of a trainer thread. Job records are mirrored here from the thread's events, so
 * `job()` and `jobs()` answer at once, without a message to the thread; everything else is one
 * comlink call. Every method that reaches the thread throws the library's error classes
 * (ValidationError, ModelFileError) or the service's (QueueFullError, UnknownJobError, JobStateError,
 * TrainerClosedError).
 */
export class BackgroundTrainer extends MirroredJobs implements JobSource {
  /** Resolves when the thread has started and read the models folder. */
  readonly ready: Promise<void>;
  /** Files of the models folder that were not models of ours, with the reason (empty normally). */
  skippedModelFiles: string[] = [];

  private readonly worker: Worker;
  private readonly core: Remote<TrainerCore>;
  private readonly eventPort: MessagePort;
  /** Rejects when the thread dies or the trainer is closed, so no call waits forever. */
  private readonly gone: Promise<never>;
  private setGone!: (error: Error) => void;
  private closed?: Promise<void>;
  private isGone = false;
  private readonly maxPredictInputs: number;

  /** @internal Use {@link createBackgroundTrainer}. */
  constructor(options: TrainerCoreOptions, private readonly limits: SpecLimits) {
    super();
    this.maxPredictInputs = options.maxPredictInputs;
    this.gone = new Promise<never>((_, reject) => {
      this.setGone = (error) => {
        this.isGone = true;
        reject(error);
      };
    });
    this.gone.catch(() => {}); // only a rejection that a call races against matters
    const { port1, port2 } = new MessageChannel();
    this.eventPort = port1;
    // The trainer thread calls this function through comlink for every change of every job.
    expose((event: WireEvent) => this.dispatch(this.withReports(event)), nodeEndpoint(port1));
    this.worker = new Worker(threadEntry, { workerData: { options, events: port2 }, transferList: [port2] });
    this.worker.on("error", (error) => this.died(error));
    this.worker.on("exit", (code) => this.died(new Error(`exit code ${code}`)));
    this.core = wrap<TrainerCore>(nodeEndpoint(this.worker));
    this.ready = this.call(() => this.core.start()).then((start: CoreStart) => {
      for (const info of start.restored) this.records.store(info);
      this.skippedModelFiles = start.skipped;
    });
  }

  /** The trainer thread's id (worker_threads threadId). */
  get threadId(): number {
    return this.worker.threadId;
  }

  /**
   * Checks `spec` and queues the job; resolves to its record (status `queued`, or `running` if it
   * started at once). A bad spec throws a ValidationError naming the field; a full queue a
   * QueueFullError. Errors found only once the data is loaded (values, labels, file contents) fail
   * the job with the library's message, in `error`.
   */
  async submit(spec: JobSpec, options: SubmitOptions = {}): Promise<JobInfo> {
    const { onEvent, signal } = options;
    check(onEvent === undefined || typeof onEvent === "function", "onEvent must be a function");
    check(signal === undefined || signal instanceof AbortSignal, `signal must be an AbortSignal, got ${show(signal)}`);
    this.checkOpen();
    const { spec: prepared, transfer } = prepareSpec(spec, this.limits);
    const id = crypto.randomUUID();
    // Listen before the thread knows the job, so no event is missed.
    const unsubscribe = onEvent ? this.records.subscribe(id, onEvent) : undefined;
    let info: JobInfo;
    try {
      info = await this.call(() => this.core.submit(id, transferring(prepared, transfer)));
    } catch (error) {
      unsubscribe?.();
      throw error;
    }
    this.records.store(info);
    if (signal) {
      const cancel = (): void => void this.cancel(id).catch(() => {}); // already over: nothing to cancel
      if (signal.aborted) cancel();
      else {
        signal.addEventListener("abort", cancel, { once: true });
        void this.wait(id).then(() => signal.removeEventListener("abort", cancel));
      }
    }
    return this.records.get(id)!;
  }

  /**
   * The job's events from now on, ending with its last (done, failed or cancelled). For a job that
   * has already ended, just that last event. Breaking out of the loop stops listening.
   */
  events(id: string): AsyncIterableIterator<JobEvent> {
    return this.records.events(id);
  }

  /**
   * Cancels a queued or running job and resolves with its record once it has stopped (status
   * `cancelled`; a running job stops within one mini-batch and its worker threads end). A job that
   * has already ended is a JobStateError.
   */
  async cancel(id: string): Promise<JobInfo> {
    this.records.known(id);
    return this.records.store(await this.call(() => this.core.cancel(id)));
  }

  /** A finished job's model file (the JSON that saveNetwork writes; `metadata.job` is the job's record). */
  async model(id: string): Promise<ModelJson> {
    return JSON.parse(await this.modelText(id)) as ModelJson;
  }

  /** {@link model} as the file's text, ready to send. */
  async modelText(id: string): Promise<string> {
    this.records.known(id);
    return this.call(() => this.core.modelText(id));
  }

  /**
   * The outputs and predicted classes of a batch of inputs, computed in the trainer thread: `model`
   * is a job id, or a model file's JSON. Every row must have as many values as the model's input
   * layer (`inputs[3] has 780 values, expected 784`).
   */
  async predict(model: string | ModelJson, inputs: ArrayLike<number>[]): Promise<Prediction> {
    if (typeof model === "string") {
      const info = this.records.known(model);
      // Rows are checked and flattened here (the record knows the input size) and sent as one
      // transferred buffer, which crosses threads much faster than an array of arrays.
      const flat = flattenRows(inputs, info.spec.layers[0]!, this.maxPredictInputs);
      return this.call(() => this.core.predict(model, transferring(flat, [flat.buffer as ArrayBuffer])));
    }
    check(model != null && typeof model === "object", `model must be a job id or a model's JSON, got ${show(model)}`);
    return this.call(() => this.core.predict(model, inputs));
  }

  /**
   * Cancels every job, waits until they have stopped, and ends the trainer thread; afterwards the
   * trainer holds no thread, port or timer. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        // Jobs stop within a mini-batch; a thread that does not answer in time is ended anyway.
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
        if (!this.isGone) await Promise.race([this.core.close(), this.gone, late]);
      } catch {
        // the thread is gone already: nothing to stop
      } finally {
        clearTimeout(timer);
      }
      this.setGone(new TrainerClosedError("the trainer is closed"));
      await this.worker.terminate();
      this.eventPort.close();
      // A job the thread could not report on (it died) ends here.
      for (const info of this.records.all()) {
        if (!isFinal(info.status)) this.dispatch({ type: "cancelled", job: { ...info, status: "cancelled", seq: info.seq + 1, error: { name: "TrainerClosedError", message: "the trainer was closed" } } });
      }
    })();
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Runs a call to the thread; rejects at once if the thread is gone, and revives the error classes. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    this.checkOpen();
    try {
      return await Promise.race([fn(), this.gone]);
    } catch (error) {
      throw reviveError(error);
    }
  }

  private checkOpen(): void {
    if (this.isGone || this.closed) throw new TrainerClosedError(this.closed ? "the trainer is closed" : "the trainer thread has exited");
  }

  /** The event with its job's full record: the reports the mirror has, plus an `epoch` event's own. */
  private withReports(event: WireEvent): JobEvent {
    const known = this.records.get(event.job.id)?.reports ?? [];
    const epoch = event.job.epoch; // one report per completed epoch
    const reports = event.type === "epoch" && known.length === epoch - 1 ? [...known, event.report] : known.slice(0, epoch);
    return { ...event, job: { ...event.job, reports } } as JobEvent;
  }

  /** One event from the thread, in order: update the mirror, then tell the listeners. */
  private dispatch(event: JobEvent): void {
    this.records.dispatch(event);
  }

  private died(error: Error): void {
    if (this.isGone) return;
    const reason = new TrainerClosedError(`the trainer thread exited: ${error.message}`);
    this.setGone(reason);
    for (const info of this.records.all()) {
      if (!isFinal(info.status)) this.dispatch({ type: "failed", job: { ...info, status: "failed", seq: info.seq + 1, error: { name: reason.name, message: reason.message } } });
    }
  }
}

/** Marks buffers to be moved, not copied, when `value` crosses to the thread (comlink's transfer). */
function transferring<T>(value: T, buffers: ArrayBuffer[]): T {
  return transfer(value, buffers);
}
