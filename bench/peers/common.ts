/**
 * What every contender of `npm run bench:peers` shares: the workload, the data, the initial
 * weights, the shuffle, and the interface each contender module implements.
 *
 * The peer libraries are loaded with `requirePeer` (a CommonJS require rooted at bench/peers/, so
 * it finds bench/peers/node_modules). That keeps them out of the TypeScript program: `npm run
 * typecheck` covers bench/ but must pass on a clone where the peers are not installed, so each
 * contender module declares the few library types it uses itself.
 */
import { createRequire } from "node:module";
import { loadMnistDigits, Network, Rng } from "../../src/index.js";

/** W1's hyperparameters (Nielsen's network.py): plain SGD, w ← w − (η/m) Σ_batch ∇C_x, C_x = ½‖y − a‖². */
export const eta = 3.0;
export const miniBatchSize = 10;
export const classes = 10;

/** What one contender's child process is asked to do. */
export interface ContenderConfig {
  /** Layer sizes, e.g. [784, 30, 10]. */
  sizes: number[];
  /** Seeds the initial weights (identical for every contender) and the per-epoch shuffles. */
  seed: number;
}

/** What a contender reports after training. */
export interface TrainOutcome {
  /** Training examples per epoch. */
  examples: number;
  /** Wall time of each epoch, in seconds (epoch 1 includes JIT warm-up and library start-up). */
  epochSeconds: number[];
  /** Test accuracy (fraction of the 2,000 test digits) after the last epoch. */
  accuracy: number;
  /** Library, version, backend and the hyperparameter mapping actually used. */
  info: string;
}

/** The common interface of the contender modules. */
export interface Contender {
  readonly name: string;
  /** Trains a fresh network for `epochs` epochs on the 8,000 training digits; evaluation is not timed. */
  train(epochs: number): Promise<TrainOutcome>;
}

export type ContenderFactory = (config: ContenderConfig) => Promise<Contender>;

/** A plain view of a labelled digit set. */
export interface Digits {
  count: number;
  /** count × 784 pixels in [0, 1], row-major. */
  inputs: Float32Array;
  labels: Int32Array;
  inputSize: number;
}

/** The bundled 8,000 training / 2,000 test digits (src/data/mnist.ts), as plain arrays. */
export async function loadDigits(): Promise<{ train: Digits; test: Digits }> {
  const split = await loadMnistDigits();
  const plain = (d: typeof split.train): Digits => {
    if (d.targets.kind !== "labels") throw new Error("expected labelled digits");
    return { count: d.count, inputs: d.inputs as Float32Array, labels: d.targets.labels, inputSize: d.inputSize };
  };
  return { train: plain(split.train), test: plain(split.test) };
}

/**
 * The initial parameters every contender starts from: exactly those of shoal's
 * `Network.create(sizes, { seed })` (N(0, 1) weights and biases, network.py's init).
 * weights[l] is sizes[l+1] × sizes[l], row-major (row j = neuron j of layer l+1); biases[l] has sizes[l+1].
 */
export function initialParams(sizes: number[], seed: number): { weights: Float32Array[]; biases: Float32Array[] } {
  const net = Network.create(sizes, { seed });
  const weights: Float32Array[] = [];
  const biases: Float32Array[] = [];
  for (let l = 0; l < net.layerCount; l++) {
    weights.push(Float32Array.from(net.weights(l)));
    biases.push(Float32Array.from(net.biases(l)));
  }
  return { weights, biases };
}

/**
 * A generator of per-epoch example orders: Fisher–Yates over one running order, drawing from
 * Rng(seed) — the same orders shoal's train() draws for `seed` (so with the same initial parameters
 * every exact-SGD contender computes the same sequence of steps, up to rounding).
 */
export function shuffler(count: number, seed: number): () => Int32Array {
  const rng = new Rng(seed);
  const order = Int32Array.from({ length: count }, (_, i) => i);
  return () => {
    for (let i = count - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    return order;
  };
}

/** Index of the largest value. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Loads a peer library from bench/peers/node_modules, with a clear message if it is not installed. */
const peerRequire = createRequire(import.meta.url);
export function requirePeer<T>(name: string): T {
  try {
    return peerRequire(name) as T;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "MODULE_NOT_FOUND" && String((error as Error).message).includes(`'${name}'`)) {
      throw new Error(`${name} is not installed: run \`npm --prefix bench/peers ci --omit=optional\` (or \`npm run bench:peers\`)`, { cause: error });
    }
    throw error;
  }
}

/** The installed version of a peer package. */
export function peerVersion(name: string): string {
  try {
    return requirePeer<{ version: string }>(`${name}/package.json`).version;
  } catch {
    return "?";
  }
}

/** Resolves a file inside a peer package. */
export function resolvePeer(specifier: string): string {
  return peerRequire.resolve(specifier);
}
