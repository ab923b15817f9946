/**
 * The trainer thread's entry (a node:worker_threads Worker started by createBackgroundTrainer).
 * `workerData` holds the trainer's options and the port of the handle's event callback; the
 * TrainerCore is exposed over comlink on the thread's parent port. Each job's train() starts and
 * destroys its own piscina pool from here.
 */
import { expose, wrap } from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import type { WireEvent } from "./job.js";
import { TrainerCore, type TrainerCoreOptions } from "./trainer-core.js";

const { options, events } = workerData as { options: TrainerCoreOptions; events: MessagePort };
const emit = wrap<(event: WireEvent) => void>(nodeEndpoint(events));
expose(new TrainerCore(options, (event) => emit(event)), nodeEndpoint(parentPort!));
