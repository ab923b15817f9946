import { check, show, ValidationError } from "../core/errors.js";
import { Network, type NetworkSpec } from "../core/network.js";

/*
 * What every export format takes: a network whose parameters are all finite, and the metadata it
 * carries along (the network's own description, then the model file's metadata).
 */

/** Throws a ValidationError unless `network` is a Network with finite parameters and `metadata` (if given) a plain object. */
export function checkExportable(network: Network, metadata: Record<string, unknown> | undefined): void {
  check(network instanceof Network, `network must be a Network, got ${show(network)}`);
  check(
    metadata === undefined || (typeof metadata === "object" && metadata !== null && !Array.isArray(metadata)),
    `metadata must be a plain object, got ${show(metadata)}`,
  );
  try {
    JSON.stringify(metadata);
  } catch (err) {
    throw new ValidationError(`metadata must be JSON (as a model file's is): ${err instanceof Error ? err.message : String(err)}`);
  }
  // A NaN would not fail in a runtime: it would silently answer NaN (or one class) for every input.
  const bad = network.params.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new ValidationError(`cannot export a model whose parameter ${bad} is ${network.params[bad]}: training must have diverged`);
}

/** The network's description fields, which an export writes before (and instead of) metadata keys of the same name. */
const specKeys = ["sizes", "activation", "outputActivation", "cost", "dtype", "init"] as const satisfies readonly (keyof NetworkSpec)[];

/**
 * What an export records about the model: the network's sizes, activations, cost, dtype (and init,
 * when known), then every key of the model file's metadata (what it was trained on, its class
 * names, its accuracy…) except those names, which the network itself answers.
 */
export function exportedMetadata(network: Network, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  const own = specKeys.filter((key) => network.spec[key] !== undefined).map((key) => [key, network.spec[key]] as const);
  // as JSON has it (what a model file would hold): undefined values dropped, dates as strings…
  const json = JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>;
  const rest = Object.entries(json).filter(([key]) => !(specKeys as readonly string[]).includes(key));
  // fromEntries, not assignment: a metadata key "__proto__" stays a key
  return Object.fromEntries([...own, ...rest]);
}
