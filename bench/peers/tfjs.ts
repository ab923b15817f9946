/**
 * TensorFlow.js (core API, no tfjs-node) on its WebAssembly backend or its pure-JS CPU backend.
 *
 * Mapping of W1: variables W^l (sizes[l] × sizes[l+1], i.e. shoal's w^l transposed) and b^l, from
 * the common initial parameters; per mini-batch of m examples the loss is
 *   L = (1/m) Σ_x Σ_j ½ (y_j − a_j)²   (a custom loss: tf.losses.meanSquaredError would also divide by 10)
 * minimised by tf.train.sgd(3.0), whose update is w ← w − 3.0 ∇L = w − (η/m) Σ_x ∇C_x: exactly
 * network.py's step. Examples are shuffled every epoch; the batch tensors are built from the
 * shuffled rows inside the timed epoch (a copy of 10 rows per step).
 *
 * wasm: the .wasm binaries are loaded from node_modules/@tensorflow/tfjs-backend-wasm/dist
 * (setWasmPaths, offline). setThreadsCount(1) is set, but in Node the backend never uses its
 * threaded build anyway (its WASM_HAS_MULTITHREAD_SUPPORT flag is false under Node); it runs the
 * SIMD build when the engine supports wasm SIMD (Node 20 does).
 */
import path from "node:path";
import {
  classes,
  eta,
  initialParams,
  loadDigits,
  miniBatchSize,
  peerVersion,
  requirePeer,
  resolvePeer,
  shuffler,
  type Contender,
  type ContenderConfig,
} from "./common.js";

/** The few parts of the tfjs API used here. */
interface Tensor {
  dataSync(): Float32Array | Int32Array;
  dispose(): void;
}
interface Tf {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  env(): { getAsync(flag: string): Promise<unknown>; set(flag: string, value: unknown): void };
  tensor2d(values: Float32Array, shape: [number, number]): Tensor;
  tensor1d(values: Float32Array): Tensor;
  scalar(value: number): Tensor;
  variable(initial: Tensor): Tensor;
  tidy<T>(fn: () => T): T;
  matMul(a: Tensor, b: Tensor): Tensor;
  add(a: Tensor, b: Tensor): Tensor;
  mul(a: Tensor, b: Tensor): Tensor;
  sigmoid(x: Tensor): Tensor;
  squaredDifference(a: Tensor, b: Tensor): Tensor;
  sum(x: Tensor): Tensor;
  argMax(x: Tensor, axis: number): Tensor;
  train: { sgd(learningRate: number): { minimize(f: () => Tensor, returnCost?: boolean): Tensor | null; dispose(): void } };
}
interface TfWasm {
  setWasmPaths(prefix: string): void;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/** Loads tfjs and activates the backend; returns the API and a description. */
async function loadBackend(backend: "wasm" | "cpu"): Promise<{ tf: Tf; info: string }> {
  if (backend === "wasm") {
    // the union package: tfjs-core alone registers no gradients (tfjs-core/dist/register_all_gradients)
    const tf = requirePeer<Tf>("@tensorflow/tfjs");
    const wasm = requirePeer<TfWasm>("@tensorflow/tfjs-backend-wasm");
    wasm.setWasmPaths(path.join(path.dirname(resolvePeer("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep);
    wasm.setThreadsCount(1);
    if (!(await tf.setBackend("wasm"))) throw new Error("tfjs: the wasm backend failed to initialise");
    await tf.ready();
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    const threaded = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
    return {
      tf,
      info:
        `@tensorflow/tfjs + tfjs-backend-wasm ${peerVersion("@tensorflow/tfjs-backend-wasm")}, ` +
        `${simd ? "SIMD" : "no SIMD"} build, ${threaded ? "threaded" : "single-threaded (no wasm threads under Node)"}, ` +
        `XNNPACK threads ${wasm.getThreadsCount()}`,
    };
  }
  const tf = requirePeer<Tf>("@tensorflow/tfjs");
  if (!(await tf.setBackend("cpu"))) throw new Error("tfjs: the cpu backend failed to initialise");
  await tf.ready();
  return { tf, info: `@tensorflow/tfjs ${peerVersion("@tensorflow/tfjs")} (pure-JS cpu backend, not tfjs-node)` };
}

export function tfjs(backend: "wasm" | "cpu") {
  return async (config: ContenderConfig): Promise<Contender> => {
    const { tf, info } = await loadBackend(backend);
    if (tf.getBackend() !== backend) throw new Error(`tfjs: backend is ${tf.getBackend()}, expected ${backend}`);
    const { train: data, test } = await loadDigits();
    const { sizes, seed } = config;
    const d = data.inputSize;

    return {
      name: `tfjs-${backend}`,
      async train(epochs) {
        // Variables from the common initial parameters (tfjs multiplies x · W, so W is in × out).
        const init = initialParams(sizes, seed);
        const W: Tensor[] = [];
        const b: Tensor[] = [];
        for (let l = 0; l + 1 < sizes.length; l++) {
          const nIn = sizes[l]!, nOut = sizes[l + 1]!;
          const src = init.weights[l]!;
          const t = new Float32Array(nIn * nOut);
          for (let j = 0; j < nOut; j++) for (let k = 0; k < nIn; k++) t[k * nOut + j] = src[j * nIn + k]!;
          W.push(tf.variable(tf.tensor2d(t, [nIn, nOut])));
          b.push(tf.variable(tf.tensor1d(init.biases[l]!)));
        }
        const forward = (x: Tensor): Tensor => {
          let a = x;
          for (let l = 0; l < W.length; l++) a = tf.sigmoid(tf.add(tf.matMul(a, W[l]!), b[l]!));
          return a;
        };
        const optimizer = tf.train.sgd(eta);
        const nextOrder = shuffler(data.count, seed);

        const epochSeconds: number[] = [];
        for (let epoch = 0; epoch < epochs; epoch++) {
          const started = performance.now();
          const order = nextOrder();
          for (let start = 0; start < data.count; start += miniBatchSize) {
            const m = Math.min(miniBatchSize, data.count - start);
            // fresh buffers: a backend may keep a reference to the array it was given
            const xs = new Float32Array(m * d);
            const ys = new Float32Array(m * classes);
            for (let i = 0; i < m; i++) {
              const e = order[start + i]!;
              xs.set(data.inputs.subarray(e * d, (e + 1) * d), i * d);
              ys[i * classes + data.labels[e]!] = 1;
            }
            tf.tidy(() => {
              const x = tf.tensor2d(xs, [m, d]);
              const y = tf.tensor2d(ys, [m, classes]);
              const scale = tf.scalar(0.5 / m);
              // L = (1/m) Σ ½‖y − a‖²  →  sgd(η) steps w − (η/m) Σ ∇C_x
              optimizer.minimize(() => tf.mul(tf.sum(tf.squaredDifference(y, forward(x))), scale), false);
            });
          }
          epochSeconds.push((performance.now() - started) / 1000);
        }

        const predicted = tf.tidy(() => tf.argMax(forward(tf.tensor2d(test.inputs, [test.count, d])), 1)).dataSync();
        let correct = 0;
        for (let i = 0; i < test.count; i++) if (predicted[i] === test.labels[i]) correct++;
        optimizer.dispose();
        return {
          examples: data.count,
          epochSeconds,
          accuracy: correct / test.count,
          info: `${info}; core API, custom loss (1/m)Σ½‖y−a‖², tf.train.sgd(${eta}), batch ${miniBatchSize}, reshuffled every epoch`,
        };
      },
    };
  };
}
