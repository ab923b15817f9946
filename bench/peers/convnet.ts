/**
 * convnetjs 0.3: `Net` + `Trainer` (plain JavaScript, Float64Array weights).
 *
 * Mapping of W1:
 * - net: input → fc(h) → sigmoid → fc(10) → sigmoid → regression. convnetjs's layer definitions
 *   (`makeLayers`) always put a linear fc layer straight before a 'regression' loss, so the sigmoid
 *   output layer cannot be declared that way; the same layer objects are built directly
 *   (convnetjs.InputLayer, FullyConnLayer, SigmoidLayer, RegressionLayer) and set as `net.layers`.
 * - cost: the regression layer's gradient is (a − y) per output: the gradient of ½‖y − a‖².
 * - optimiser: `Trainer` with method 'sgd', learning_rate 3.0, batch_size 10, momentum 0 (its default
 *   is 0.9), l1_decay 0, l2_decay 0. It accumulates the gradients of batch_size examples and steps
 *   p −= learning_rate · Σg / batch_size: exactly network.py's update.
 * - initial weights: convnetjs draws N(0, 1/n_in) weights and 0 biases; both are overwritten with
 *   the common N(0, 1) initial parameters.
 * - inputs: one convnetjs `Vol` per training digit, built once before training (not timed); the
 *   examples are reshuffled every epoch. The Trainer's own per-example bookkeeping (timers, decay
 *   loss sums) is left as it is.
 */
import {
  argmax,
  classes,
  eta,
  initialParams,
  loadDigits,
  miniBatchSize,
  peerVersion,
  requirePeer,
  shuffler,
  type Contender,
  type ContenderConfig,
} from "./common.js";

interface Vol {
  w: Float64Array;
}
interface Layer {
  filters?: Vol[];
  biases?: Vol;
}
interface Net {
  layers: Layer[];
  forward(x: Vol, isTraining?: boolean): Vol;
}
type Shape = { in_sx: number; in_sy: number; in_depth: number };
interface ConvNetJs {
  Vol: new (sx: number, sy: number, depth: number, fill?: number) => Vol;
  Net: new () => Net;
  InputLayer: new (options: { out_sx: number; out_sy: number; out_depth: number }) => Layer;
  FullyConnLayer: new (options: Shape & { num_neurons: number }) => Layer;
  SigmoidLayer: new (options: Shape) => Layer;
  RegressionLayer: new (options: Shape) => Layer;
  Trainer: new (net: Net, options: Record<string, unknown>) => { train(x: Vol, y: number[]): unknown };
}

export const convnet = async (config: ContenderConfig): Promise<Contender> => {
  const cj = requirePeer<ConvNetJs>("convnetjs");
  const { train: data, test } = await loadDigits();
  const { sizes, seed } = config;
  const d = data.inputSize;
  const toVol = (inputs: Float32Array, e: number): Vol => {
    const v = new cj.Vol(1, 1, d, 0);
    v.w.set(inputs.subarray(e * d, (e + 1) * d));
    return v;
  };

  return {
    name: "convnetjs",
    async train(epochs) {
      const net = new cj.Net();
      const shape = (n: number): Shape => ({ in_sx: 1, in_sy: 1, in_depth: n });
      const layers: Layer[] = [new cj.InputLayer({ out_sx: 1, out_sy: 1, out_depth: sizes[0]! })];
      const fcs: Layer[] = [];
      for (let l = 0; l + 1 < sizes.length; l++) {
        const fc = new cj.FullyConnLayer({ ...shape(sizes[l]!), num_neurons: sizes[l + 1]! });
        fcs.push(fc);
        layers.push(fc, new cj.SigmoidLayer(shape(sizes[l + 1]!)));
      }
      layers.push(new cj.RegressionLayer(shape(sizes.at(-1)!)));
      net.layers = layers;

      const init = initialParams(sizes, seed);
      fcs.forEach((fc, l) => {
        const nIn = sizes[l]!;
        fc.filters!.forEach((f, j) => f.w.set(init.weights[l]!.subarray(j * nIn, (j + 1) * nIn)));
        fc.biases!.w.set(init.biases[l]!);
      });

      const trainer = new cj.Trainer(net, {
        method: "sgd",
        learning_rate: eta,
        batch_size: miniBatchSize,
        momentum: 0,
        l1_decay: 0,
        l2_decay: 0,
      });
      const vols = Array.from({ length: data.count }, (_, e) => toVol(data.inputs, e));
      // targets must be plain Arrays (or Float64Array) for the regression layer
      const targets = Array.from({ length: classes }, (_, c) => Array.from({ length: classes }, (_, j) => (j === c ? 1 : 0)));
      const nextOrder = shuffler(data.count, seed);

      const epochSeconds: number[] = [];
      for (let epoch = 0; epoch < epochs; epoch++) {
        const started = performance.now();
        const order = nextOrder();
        for (let i = 0; i < data.count; i++) {
          const e = order[i]!;
          trainer.train(vols[e]!, targets[data.labels[e]!]!);
        }
        epochSeconds.push((performance.now() - started) / 1000);
      }

      let correct = 0;
      for (let i = 0; i < test.count; i++) {
        if (argmax(net.forward(toVol(test.inputs, i)).w) === test.labels[i]) correct++;
      }
      return {
        examples: data.count,
        epochSeconds,
        accuracy: correct / test.count,
        info:
          `convnetjs ${peerVersion("convnetjs")} Net+Trainer, fc/sigmoid layers built directly, regression loss, ` +
          `sgd learning_rate ${eta}, batch_size ${miniBatchSize}, momentum 0, l1/l2 decay 0, N(0,1) init overwritten`,
      };
    },
  };
};
