import cliProgress from "cli-progress";
import { count, duration, percent } from "./format.js";

/** One finished epoch, as `shoal train` reports it. */
export interface EpochRecord {
  epoch: number;
  /** Mean training cost per example over the epoch. */
  cost: number;
  /** Accuracy on the test set (null when the data has none). */
  testAccuracy: number | null;
  /** Accuracy on the held-out validation examples (only with --validation). */
  validationAccuracy?: number;
  /** With --monitor: accuracy on the training data, mean test and validation costs. */
  trainingAccuracy?: number;
  testCost?: number;
  validationCost?: number;
  /** The learning rate the epoch trained with (it changes with --eta-schedule). */
  eta?: number;
  examplesPerSecond: number;
  seconds: number;
  /** Worker threads of the run (0: in process), and why that many (see TrainResult.threadsReason). */
  threads?: number;
  threadsReason?: string;
  /** How the threads shared each mini-batch (threaded runs). */
  parallelism?: "examples" | "neurons";
}

/** Progress within an epoch. */
export interface EpochProgress {
  epoch: number;
  examplesDone: number;
  examples: number;
}

/**
 * How `shoal train` talks while it trains. Three kinds: a progress bar on a terminal, plain lines
 * otherwise, NDJSON with `--json`. Epoch lines and NDJSON go to stdout; so do the header and notes,
 * except in JSON mode, where stdout holds nothing but the epoch objects and notes go to stderr.
 */
export interface Reporter {
  /** Before the first epoch: what is being trained. */
  start(header: string, epochs: number): void;
  /** Now and then within an epoch. */
  progress(p: EpochProgress): void;
  epoch(record: EpochRecord, epochs: number): void;
  /** A line of information (saved files, the interruption, the summary). */
  note(line: string): void;
  /** A warning or hint: on stderr in every mode (on a terminal, printed above the bar). */
  warn(line: string): void;
  /** Removes the progress bar, if any. Safe to call more than once. */
  close(): void;
}

/** The reporter for this output: JSON if asked, a bar on a terminal, else plain lines. */
export function createReporter(options: { json: boolean; showEta?: boolean; stdout?: NodeJS.WriteStream; stderr?: NodeJS.WritableStream }): Reporter {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const showEta = options.showEta ?? false;
  if (options.json) return jsonReporter(stdout, stderr);
  return stdout.isTTY ? barReporter(stdout, stderr, showEta) : plainReporter(stdout, stderr, showEta);
}

/** `epoch  3/30  cost 0.0712  test 91.45%  validation 90.80%  41,234 examples/s  1.9 s` (`η 1.5` after the accuracies with `showEta`) */
export function epochLine(r: EpochRecord, epochs: number, showEta = false): string {
  const width = String(epochs).length;
  return [
    `epoch ${String(r.epoch).padStart(width)}/${epochs}`,
    `cost ${r.cost.toFixed(4)}`,
    ...(r.testAccuracy === null ? [] : [`test ${percent(r.testAccuracy)}`]),
    ...(r.validationAccuracy === undefined ? [] : [`validation ${percent(r.validationAccuracy)}`]),
    ...(r.trainingAccuracy === undefined ? [] : [`training ${percent(r.trainingAccuracy)}`]),
    ...(r.testCost === undefined ? [] : [`test cost ${r.testCost.toFixed(4)}`]),
    ...(r.validationCost === undefined ? [] : [`validation cost ${r.validationCost.toFixed(4)}`]),
    ...(showEta && r.eta !== undefined ? [`η ${r.eta}`] : []),
    `${count(r.examplesPerSecond)} examples/s`,
    duration(r.seconds),
  ].join("  ");
}

function plainReporter(out: NodeJS.WritableStream, err: NodeJS.WritableStream, showEta: boolean): Reporter {
  return {
    start: (header) => void out.write(`${header}\n`),
    progress: () => {},
    epoch: (r, epochs) => void out.write(`${epochLine(r, epochs, showEta)}\n`),
    note: (line) => void out.write(`${line}\n`),
    warn: (line) => void err.write(`${line}\n`),
    close: () => {},
  };
}

function jsonReporter(out: NodeJS.WritableStream, err: NodeJS.WritableStream): Reporter {
  return {
    start: () => {},
    progress: () => {},
    epoch: (r) => void out.write(`${JSON.stringify(r)}\n`),
    note: (line) => void err.write(`${line}\n`),
    warn: (line) => void err.write(`${line}\n`),
    close: () => {},
  };
}

/**
 * A cli-progress bar for the current epoch with the whole run's ETA; each finished epoch's line is
 * printed above it. The ETA charges every epoch still to run (and the rest of this one) at the mean
 * epoch time so far, or during the first epoch at its rate so far.
 */
function barReporter(out: NodeJS.WriteStream, err: NodeJS.WritableStream, showEta: boolean): Reporter {
  const bars = new cliProgress.MultiBar({
    stream: out,
    format: "epoch {epoch}/{epochs} {bar} {percentage}% | {rate} examples/s | {elapsed} | ETA {left}",
    barCompleteChar: "\u2588",
    barIncompleteChar: "\u2591",
    barsize: 30,
    hideCursor: true,
    clearOnComplete: true,
    gracefulExit: false, // the train command handles SIGINT itself, and closes the bar
  });
  let bar: cliProgress.SingleBar | undefined;
  let closed = false;
  let epochs = 0;
  let runStarted = 0;
  let epochStarted = 0;
  let finished = 0;
  let finishedSeconds = 0;

  const show = (p: EpochProgress): void => {
    const now = performance.now();
    const inEpoch = (now - epochStarted) / 1000;
    const done = p.examples === 0 ? 0 : p.examplesDone / p.examples;
    const epochSeconds = finished > 0 ? finishedSeconds / finished : done > 0 ? inEpoch / done : NaN;
    const eta = (1 - done) * epochSeconds + (epochs - p.epoch) * epochSeconds;
    const payload = {
      epoch: p.epoch,
      epochs,
      rate: inEpoch > 0 && p.examplesDone > 0 ? count(p.examplesDone / inEpoch) : "…",
      elapsed: duration((now - runStarted) / 1000),
      left: Number.isFinite(eta) ? duration(eta) : "…",
    };
    if (bar === undefined) bar = bars.create(p.examples, p.examplesDone, payload);
    else {
      bar.setTotal(p.examples);
      bar.update(p.examplesDone, payload);
    }
  };

  return {
    start(header, n) {
      epochs = n;
      runStarted = epochStarted = performance.now();
      bars.log(`${header}\n`);
      show({ epoch: 1, examplesDone: 0, examples: 1 });
    },
    progress(p) {
      if (!closed) show(p);
    },
    epoch(r, n) {
      finished = r.epoch;
      finishedSeconds += r.seconds;
      epochStarted = performance.now();
      if (closed) return void out.write(`${epochLine(r, n, showEta)}\n`);
      bars.log(`${epochLine(r, n, showEta)}\n`);
      if (r.epoch < n) show({ epoch: r.epoch + 1, examplesDone: 0, examples: bar?.getTotal() ?? 1 });
      bars.update(); // print the line now, not at the next frame
    },
    note(line) {
      if (closed) return void out.write(`${line}\n`);
      bars.log(`${line}\n`);
      bars.update();
    },
    warn(line) {
      // stderr on the same terminal would be drawn over by the bar: log it above the bar instead
      if (closed || !(err as NodeJS.WriteStream).isTTY) return void err.write(`${line}\n`);
      bars.log(`${line}\n`);
      bars.update();
    },
    close() {
      if (closed) return;
      closed = true;
      bars.update(); // flush lines logged since the last frame: stop() drops them
      bars.stop();
    },
  };
}
