import fsp from "node:fs/promises";
import { dirname } from "node:path";
import { ModelFileError } from "../core/errors.js";
import type { Network } from "../core/network.js";
import { writeFileAtomic } from "./atomic-write.js";
import { parseModel, toModelJson, type ParsedModel } from "./model-format.js";

/**
 * Saves `net` as a model file (see {@link toModelJson}), atomically: a failed save leaves any
 * previous file at `path` as it was. `metadata` is any JSON object, returned by {@link loadModel}.
 */
export async function saveNetwork(net: Network, path: string, metadata?: Record<string, unknown>): Promise<void> {
  // No indentation: one number per line would bloat a 784-30-10 model (~470 KB as is, float32).
  const text = JSON.stringify(toModelJson(net, metadata)) + "\n";
  try {
    await writeFileAtomic(path, text);
  } catch (err) {
    const reason = errorCode(err) === "ENOENT" ? `directory ${dirname(path)} does not exist` : messageOf(err);
    throw new ModelFileError(`cannot write model file ${path}: ${reason}`, { cause: err });
  }
}

/** Loads a model file written by {@link saveNetwork} or by network2.py's `Network.save`. */
export async function loadNetwork(path: string): Promise<Network> {
  return (await loadModel(path)).network;
}

/** Like {@link loadNetwork}, also returning the metadata saved with the model. */
export async function loadModel(path: string): Promise<ParsedModel> {
  let text: string;
  try {
    text = await fsp.readFile(path, "utf8");
  } catch (err) {
    throw new ModelFileError(`cannot read model file ${path}: ${messageOf(err)}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ModelFileError(`${path} is not valid JSON (truncated?): ${messageOf(err)}`, { cause: err });
  }
  return parseModel(value, path);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errorCode(err: unknown): unknown {
  return typeof err === "object" && err !== null && "code" in err ? err.code : undefined;
}
