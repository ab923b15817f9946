/**
 * shoal itself, through its public API (src/index.ts), at a given number of worker threads.
 *
 * W1 is shoal's native setting: Network.create(sizes, { seed }) (sigmoid, quadratic cost, N(0, 1),
 * float32 — the same initial parameters every contender starts from) and
 * train(net, data, { miniBatchSize: 10, eta: 3.0, threads }). An epoch's time is the wall time
 * between consecutive onEpoch calls (so it includes everything the trainer does between epochs);
 * epoch 1 also includes starting the worker pool.
 */
import { loadMnistDigits, Network, train } from "../../src/index.js";
import { eta, miniBatchSize, type Contender, type ContenderConfig } from "./common.js";

export function shoal(threads: number) {
  return async (config: ContenderConfig): Promise<Contender> => {
    const { train: data, test } = await loadMnistDigits();
    const { sizes, seed } = config;
    return {
      name: `shoal-${threads}`,
      async train(epochs) {
        const net = Network.create(sizes, { seed });
        const stamps: number[] = [];
        const started = performance.now();
        const result = await train(net, data, {
          epochs,
          miniBatchSize,
          eta,
          seed,
          threads,
          onEpoch: () => {
            stamps.push(performance.now());
          },
        });
        const epochSeconds = stamps.map((t, i) => (t - (i === 0 ? started : stamps[i - 1]!)) / 1000);
        return {
          examples: data.count,
          epochSeconds,
          accuracy: net.evaluate(test).accuracy,
          info:
            `shoal (this repository), ${net.spec.dtype}, threads ${result.threads} ` +
            `(${result.threads === 0 ? "in-process" : "worker threads"}), batch ${miniBatchSize}, η ${eta}, reshuffled every epoch`,
        };
      },
    };
  };
}
