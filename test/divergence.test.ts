import { describe, expect, it } from "vitest";
import { DivergenceError, Network, sliceDataset, train } from "../src/index.js";
import { someDigits } from "./fixtures/digits.js";

// η = 1e6 on an identity-activation network blows the weights up within a few mini-batches.
describe("divergence guard", () => {
  for (const [threads, kernel] of [[0, "js"], [2, "js"], [2, "wasm"]] as const) {
    it(`threads ${threads} (${kernel}): η = 1e6 stops at the failing mini-batch and keeps the last good step's weights`, async () => {
      const { train: data } = await someDigits(400);
      const settings = { miniBatchSize: 10, eta: 1e6, shuffle: false, threads, kernel: threads === 0 ? "auto" : kernel } as const;
      const net = Network.create([784, 30, 10], { seed: 1, activation: "identity" });
      const error = await train(net, data, { ...settings, epochs: 3 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DivergenceError);
      const { epoch, miniBatch } = error as DivergenceError;
      expect((error as Error).message).toBe(
        `training diverged at epoch ${epoch}, mini-batch ${miniBatch}: the cost or a weight became NaN or infinite. ` +
          "The network keeps its weights from before that mini-batch; try a smaller eta (now 1000000)",
      );
      expect(net.params.every(Number.isFinite)).toBe(true);

      // The same run on exactly the mini-batches before the failing one gives the same weights.
      expect(epoch).toBe(1);
      const reference = Network.create([784, 30, 10], { seed: 1, activation: "identity" });
      if (miniBatch > 1) await train(reference, sliceDataset(data, 0, (miniBatch - 1) * 10), { ...settings, epochs: 1 });
      expect(Buffer.from(net.params.buffer).equals(Buffer.from(reference.params.buffer))).toBe(true);
    });
  }
});
