import { describe, expect, it } from "vitest";
import { loadMnistDigits } from "../src/data/mnist.js";
import { Network, train } from "../src/index.js";

describe("learning real digits", () => {
  it("784-30-10 reaches ≥ 85% test accuracy after 5 epochs on 2 threads (median of 3 seeds, Nielsen's η 3.0, batch 10)", async () => {
    const { train: data, test } = await loadMnistDigits();
    const accuracies: number[] = [];
    for (const seed of [1, 2, 3]) {
      const net = Network.create([784, 30, 10], { seed });
      const result = await train(net, data, { epochs: 5, miniBatchSize: 10, eta: 3.0, seed, threads: 2, testData: test });
      accuracies.push(result.epochs.at(-1)!.accuracy!);
      expect(net.evaluate(test).accuracy).toBe(result.epochs.at(-1)!.accuracy);
    }
    const median = [...accuracies].sort((a, b) => a - b)[1]!;
    console.log(`test accuracy after 5 epochs, seeds 1-3: ${accuracies.map((a) => (a * 100).toFixed(1)).join("%, ")}%`);
    expect(median).toBeGreaterThanOrEqual(0.85);
  }, 180_000);
});
