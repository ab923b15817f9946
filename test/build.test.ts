import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));

describe("the built package", () => {
  it("compiles to dist/ (with the wasm kernel) and trains on threads with its compiled workers, without tsx", async () => {
    await run("npm", ["run", "build"], { cwd: root });
    const script = `
      import { Network, createDataset, train } from "shoal";
      const xor = createDataset({ inputs: [[0,0],[0,1],[1,0],[1,1]], labels: [0,1,1,0], classes: 2 });
      const net = Network.create([2, 4, 2], { seed: 3 });
      const r = await train(net, xor, { epochs: 500, miniBatchSize: 4, eta: 3, seed: 1, threads: 2, testData: xor });
      const js = net.clone();
      await train(js, xor, { epochs: 1, miniBatchSize: 4, eta: 3, threads: 2, kernel: "js" });
      console.log(r.threads, r.epochs.at(-1).accuracy);`;
    // Plain node, no loader: resolves "shoal" through package.json's exports map to dist/.
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: root, timeout: 60_000 });
    expect(stdout.trim()).toBe("2 1");
  }, 120_000);
});
