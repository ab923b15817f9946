/**
 * Worker-thread entry of a training pool: the task handler of src/parallel/worker-handler.ts, with
 * no test hooks.
 */
import { poolTaskHandler } from "../src/parallel/worker-handler.js";

export default poolTaskHandler();
