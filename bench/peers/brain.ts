/**
 * brain.js 2 (beta): `NeuralNetwork`, its CPU implementation in plain JavaScript (Float32Array
 * weights), trained with its own `train()`.
 *
 * Mapping of W1 and what brain.js does not allow:
 * - net: `inputSize 784, hiddenLayers [h], outputSize 10`, `activation: 'sigmoid'` (every layer,
 *   including the output, as in network.py).
 * - cost: brain.js's output error is (y − a) and its delta (y − a)·a(1 − a): the gradient of
 *   ½‖y − a‖², i.e. the quadratic cost.
 * - initial weights: brain.js draws U(−0.2, 0.2); we overwrite weights and biases after
 *   `initialize()` with the common N(0, 1) initial parameters (the same numbers as every contender).
 * - DEVIATION, batch: brain.js has no mini-batches; `NeuralNetwork` updates after every example
 *   (online SGD, w += learningRate·δ·x). The closest match to "η = 3 on the mean of 10" is
 *   learningRate = η/m = 0.3 per example (the same total step per 10 examples, applied
 *   sequentially). brain.js also rejects learningRate ≥ 1, so 3.0 could not be passed anyway.
 * - DEVIATION (none in effect), momentum: brain.js's validator only accepts 0 < momentum < 1; to get
 *   plain SGD (momentum 0) the validator is wrapped so that it checks every other option as usual and
 *   lets momentum = 0 through. brain.js still computes `momentum · previousChange` (= 0) per weight.
 * - DEVIATION, order: `train()` never reshuffles; the data is shuffled once (seeded) and one
 *   `train()` call runs all epochs (`iterations` = epochs) in that order. Each epoch's time is taken
 *   from brain.js's per-iteration `callback`.
 * - brain.js's default loop (errorCheckInterval 1) also sums the training MSE during each epoch
 *   (10 squares per example); `errorThresh` is set to 1e-9 so training never stops early; log off;
 *   timeout Infinity. Regularisation: brain.js has none. Praxis: default (SGD), not 'adam'.
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

interface BrainNetwork {
  sizes: number[];
  weights: Float32Array[][];
  biases: Float32Array[];
  initialize(): void;
  train(data: { input: number[]; output: number[] }[], options: Record<string, unknown>): { iterations: number; error: number };
  run(input: ArrayLike<number>): ArrayLike<number>;
  validateTrainingOptions(options: Record<string, unknown>): void;
  trainOpts: { learningRate: number; momentum: number; praxis?: string };
}
interface Brain {
  NeuralNetwork: new (options: Record<string, unknown>) => BrainNetwork;
}

export const brain = async (config: ContenderConfig): Promise<Contender> => {
  const lib = requirePeer<Brain>("brain.js");
  const { train: data, test } = await loadDigits();
  const { sizes, seed } = config;
  const d = data.inputSize;
  const learningRate = eta / miniBatchSize;

  return {
    name: "brain.js",
    async train(epochs) {
      const net = new lib.NeuralNetwork({ inputSize: sizes[0], hiddenLayers: sizes.slice(1, -1), outputSize: sizes.at(-1) });
      // momentum 0 = plain SGD, which brain.js's validator refuses: check everything else as usual
      const validate = net.validateTrainingOptions.bind(net);
      net.validateTrainingOptions = (options) =>
        validate(options.momentum === 0 ? { ...options, momentum: 0.5 } : options);
      net.initialize();
      const init = initialParams(sizes, seed);
      for (let l = 0; l + 1 < sizes.length; l++) {
        const nIn = sizes[l]!, nOut = sizes[l + 1]!;
        const w = net.weights[l + 1]!;
        for (let j = 0; j < nOut; j++) w[j]!.set(init.weights[l]!.subarray(j * nIn, (j + 1) * nIn));
        net.biases[l + 1]!.set(init.biases[l]!);
      }

      // brain.js takes plain arrays (a typed array would be read as a key→value object)
      const order = shuffler(data.count, seed)();
      const examples = Array.from(order, (e) => {
        const output = new Array<number>(classes).fill(0);
        output[data.labels[e]!] = 1;
        return { input: Array.from(data.inputs.subarray(e * d, (e + 1) * d)), output };
      });

      const stamps: number[] = [];
      const started = performance.now();
      const status = net.train(examples, {
        activation: "sigmoid",
        iterations: epochs,
        learningRate,
        momentum: 0,
        errorThresh: 1e-9,
        log: false,
        timeout: Infinity,
        callbackPeriod: 1,
        callback: () => stamps.push(performance.now()),
      });
      if (status.iterations !== epochs || stamps.length !== epochs) {
        throw new Error(`brain.js stopped after ${status.iterations} of ${epochs} iterations`);
      }
      const used = net.trainOpts;
      if (used.learningRate !== learningRate || used.momentum !== 0 || used.praxis) {
        throw new Error(`brain.js trained with ${JSON.stringify(used)}, not plain SGD at learningRate ${learningRate}`);
      }
      const epochSeconds = stamps.map((t, i) => (t - (i === 0 ? started : stamps[i - 1]!)) / 1000);

      let correct = 0;
      for (let i = 0; i < test.count; i++) {
        if (argmax(net.run(test.inputs.subarray(i * d, (i + 1) * d))) === test.labels[i]) correct++;
      }
      return {
        examples: data.count,
        epochSeconds,
        accuracy: correct / test.count,
        info:
          `brain.js ${peerVersion("brain.js")} NeuralNetwork (CPU), sigmoid, train(): per-example SGD, ` +
          `learningRate ${learningRate} (= η/m), momentum 0, data shuffled once (brain.js does not reshuffle), N(0,1) init overwritten`,
      };
    },
  };
};
