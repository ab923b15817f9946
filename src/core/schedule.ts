import { check, checkInteger, checkKnownKeys, checkOneOf, checkPositive, show } from "./errors.js";

/**
 * How η changes over the epochs (Nielsen, chapter 3). `plateau`: halve η each time the monitored
 * accuracy has not improved for `patience` epochs (default 10), and stop once η has come down to
 * η₀/128. `step`: η₀ · factor^⌊(epoch − 1) / every⌋, a step decay.
 */
export type EtaSchedule =
  | { readonly kind: "plateau"; readonly patience?: number }
  | { readonly kind: "step"; readonly every: number; readonly factor: number };

/**
 * Stop when the monitored accuracy has not improved for `patience` epochs. `monitor`: the
 * accuracy on `validationData` (the default when it is given) or on `testData`. With
 * `restoreBest`, the network ends with the parameters of its best epoch (TrainResult.bestEpoch).
 */
export interface EarlyStopping {
  readonly patience: number;
  readonly monitor?: "validation" | "test";
  readonly restoreBest?: boolean;
}

/** What TrainOptions.monitor may ask for besides the reports' usual figures (network2.py's monitor flags). */
export type MonitorFlag = "training-accuracy" | "test-cost" | "validation-cost";
export const monitorFlags: readonly MonitorFlag[] = ["training-accuracy", "test-cost", "validation-cost"];

/** What the schedule and early stopping watch: validation or test accuracy. */
export type Monitor = "validation" | "test";

/** η₀ ÷ this is where the plateau schedule stops (chapter 3's rule). */
export const PLATEAU_FLOOR = 128;
const DEFAULT_PATIENCE = 10;

/** Why a run ended before its last epoch. */
export type StopReason = "early-stopping" | "eta-schedule";

/**
 * The monitor's state after an epoch, carried in checkpoints so a resumed run continues the
 * schedule where it stopped: the η of the next epoch, the best accuracy so far (−1: none yet) and
 * its epoch, epochs since it improved, epochs since η last changed or the accuracy last improved,
 * and whether the run has stopped (after which epoch, why).
 */
export interface ScheduleState {
  readonly eta: number;
  readonly best: number;
  readonly bestEpoch: number;
  readonly sinceImprovement: number;
  readonly sinceChange: number;
  readonly stopped?: { readonly epoch: number; readonly reason: StopReason };
}

/** Checks an etaSchedule option (as the library or a job spec gives it). */
export function checkEtaSchedule(value: unknown): asserts value is EtaSchedule {
  check(value !== null && typeof value === "object" && !Array.isArray(value), `etaSchedule must be an object such as { kind: "plateau", patience: 10 }, got ${show(value)}`);
  const s = value as { kind?: unknown; patience?: unknown; every?: unknown; factor?: unknown };
  checkOneOf("etaSchedule.kind", s.kind, ["plateau", "step"]);
  if (s.kind === "plateau") {
    checkKnownKeys("etaSchedule option", s, { kind: true, patience: true });
    if (s.patience !== undefined) checkInteger("etaSchedule.patience", s.patience);
  } else {
    checkKnownKeys("etaSchedule option", s, { kind: true, every: true, factor: true });
    checkInteger("etaSchedule.every", s.every);
    checkPositive("etaSchedule.factor", s.factor);
    check((s.factor as number) < 1, `etaSchedule.factor must be below 1 (a decay), got ${show(s.factor)}`);
  }
}

/** Checks an earlyStopping option. */
export function checkEarlyStopping(value: unknown): asserts value is EarlyStopping {
  check(value !== null && typeof value === "object" && !Array.isArray(value), `earlyStopping must be an object such as { patience: 10 }, got ${show(value)}`);
  checkKnownKeys("earlyStopping option", value, { patience: true, monitor: true, restoreBest: true });
  const e = value as { patience?: unknown; monitor?: unknown; restoreBest?: unknown };
  checkInteger("earlyStopping.patience", e.patience);
  if (e.monitor !== undefined) checkOneOf("earlyStopping.monitor", e.monitor, ["validation", "test"]);
  check(e.restoreBest === undefined || typeof e.restoreBest === "boolean", `earlyStopping.restoreBest must be true or false, got ${show(e.restoreBest)}`);
}

/**
 * `--eta-schedule` text: `plateau`, `plateau:<patience>` or `step:<every>:<factor>` (e.g.
 * `step:10:0.5`, halving η every 10 epochs).
 */
export function parseEtaSchedule(text: string): EtaSchedule {
  const [kind, ...args] = text.split(":");
  const number = (s: string | undefined): number => (s === undefined || s.trim() === "" ? NaN : Number(s));
  let schedule: unknown;
  if (kind === "plateau" && args.length <= 1) schedule = args.length === 0 ? { kind } : { kind, patience: number(args[0]) };
  else if (kind === "step" && args.length === 2) schedule = { kind, every: number(args[0]), factor: number(args[1]) };
  else check(false, `eta schedule ${show(text)} is not plateau, plateau:<patience> or step:<every>:<factor>`);
  checkEtaSchedule(schedule);
  return schedule;
}

/** The text form of a schedule, as `--eta-schedule` takes it. */
export function etaScheduleText(schedule: EtaSchedule): string {
  return schedule.kind === "plateau" ? `plateau:${schedule.patience ?? DEFAULT_PATIENCE}` : `step:${schedule.every}:${schedule.factor}`;
}

/** The state before the first epoch of a run with learning rate `eta`. */
export function initialScheduleState(eta: number): ScheduleState {
  return { eta, best: -1, bestEpoch: 0, sinceImprovement: 0, sinceChange: 0 };
}

/**
 * The state after `epoch` ended with monitored `accuracy` (undefined: nothing is monitored) —
 * `stopped` is set if the run stops there — and whether the accuracy improved. η₀ is the run's first η.
 */
export function scheduleStep(
  state: ScheduleState,
  epoch: number,
  accuracy: number | undefined,
  settings: { readonly eta0: number; readonly etaSchedule?: EtaSchedule; readonly earlyStopping?: EarlyStopping },
): { state: ScheduleState; improved: boolean } {
  const { eta0, etaSchedule, earlyStopping } = settings;
  const improved = accuracy !== undefined && accuracy > state.best;
  let { eta, best, bestEpoch, sinceImprovement, sinceChange } = state;
  if (improved) {
    best = accuracy;
    bestEpoch = epoch;
    sinceImprovement = 0;
    sinceChange = 0;
  } else {
    sinceImprovement++;
    sinceChange++;
  }
  let stop: StopReason | undefined;
  if (etaSchedule?.kind === "step") eta = eta0 * etaSchedule.factor ** Math.floor(epoch / etaSchedule.every);
  else if (etaSchedule?.kind === "plateau" && sinceChange >= (etaSchedule.patience ?? DEFAULT_PATIENCE)) {
    eta /= 2;
    sinceChange = 0;
    if (eta <= eta0 / PLATEAU_FLOOR) stop = "eta-schedule";
  }
  if (earlyStopping && sinceImprovement >= earlyStopping.patience) stop ??= "early-stopping";
  const state2: ScheduleState = { eta, best, bestEpoch, sinceImprovement, sinceChange, ...(stop && { stopped: { epoch, reason: stop } }) };
  return { state: state2, improved };
}

/** Checks a schedule state read from a checkpoint. */
export function checkScheduleState(value: unknown): asserts value is ScheduleState {
  check(value !== null && typeof value === "object", `schedule must be an object, got ${show(value)}`);
  const s = value as Partial<Record<keyof ScheduleState, unknown>>;
  checkPositive("schedule.eta", s.eta);
  check(typeof s.best === "number" && s.best >= -1 && s.best <= 1, `schedule.best must be an accuracy or −1, got ${show(s.best)}`);
  checkInteger("schedule.bestEpoch", s.bestEpoch, 0);
  checkInteger("schedule.sinceImprovement", s.sinceImprovement, 0);
  checkInteger("schedule.sinceChange", s.sinceChange, 0);
  const stopped = s.stopped as { epoch?: unknown; reason?: unknown } | undefined;
  if (stopped !== undefined) {
    check(stopped !== null && typeof stopped === "object", `schedule.stopped must be an object, got ${show(stopped)}`);
    checkInteger("schedule.stopped.epoch", stopped.epoch);
    checkOneOf("schedule.stopped.reason", stopped.reason, ["early-stopping", "eta-schedule"]);
  }
}
