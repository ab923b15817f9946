/**
 * Where a 1-thread W1 epoch's time goes outside the kernel's maths: the same epoch (784-30-10,
 * batch 10, the digits, float32 wasm) run in this thread three ways, taking turns, medians of 9:
 *   - StepKernel: the worker's kernel interface (stepKernel), as epoch-share.ts drives it, without
 *     its barriers, claims and timing;
 *   - trainStep-like: the same plus what epoch-share.ts adds per step (claims, costs, 2 barriers of
 *     1 party, phase timing);
 *   - train(): a real 1-thread run on a warm pool (the worker's own timing).
 *
 *   npx tsx bench/probes/step-overhead.ts
 */
import { createPool, loadMnistDigits, Network, train } from "../../src/index.js";
import { arrive, CLAIM } from "../../src/parallel/barrier.js";
import { COST_STRIDE, createSharedRun, mapRun } from "../../src/parallel/shared-state.js";
import { stepKernel } from "../../src/parallel/step-kernel.js";

const { train: data } = await loadMnistDigits();
const net = Network.create([784, 30, 10], { seed: 1 });
const run = createSharedRun(net.spec, net.params, data, undefined, { threads: 1, miniBatchSize: 10, kernel: "wasm", privateWeights: false, parallelism: "examples" });
const views = mapRun(run);
// a shuffled order, as a training's (cache behaviour differs from walking the data in file order)
views.order.forEach((_, i) => (views.order[i] = i));
for (let i = views.order.length - 1, seed = 1; i > 0; i--) {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  const j = seed % (i + 1);
  [views.order[i], views.order[j]] = [views.order[j]!, views.order[i]!];
}
const kernel = stepKernel(run, views, 0);
const { order, control, costs } = views;

function plain(): number {
  const started = performance.now();
  for (let start = 0; start < order.length; start += 10) {
    for (let s = 0; s < 10; s++) kernel.forwardAndDeltas(order[start + s]!, s);
    kernel.step(10, 0.3, 1);
  }
  return performance.now() - started;
}

function withProtocol(): number {
  const started = performance.now();
  let tally = 0;
  for (let start = 0; start < order.length; start += 10) {
    const t0 = performance.now();
    for (let s = Atomics.add(control, CLAIM, 1); s < 10; s = Atomics.add(control, CLAIM, 1)) costs[s * COST_STRIDE] = kernel.forwardAndDeltas(order[start + s]!, s);
    const t1 = performance.now();
    arrive(control, 1, (c) => Atomics.store(c, CLAIM, 0));
    const t2 = performance.now();
    kernel.step(10, 0.3, 1);
    const t3 = performance.now();
    arrive(control, 1);
    tally += t1 - t0 + (t2 - t1) + (t3 - t2) + (performance.now() - t3);
  }
  void tally;
  return performance.now() - started;
}

const pool = createPool({ threads: 1 });
const times: Record<string, number[]> = { "StepKernel loop": [], "with epoch-share's protocol": [], "train(), worker's epoch": [] };
for (let round = 0; round < 12; round++) {
  const a = plain();
  const b = withProtocol();
  const r = await train(Network.create([784, 30, 10], { seed: 1 }), data, { miniBatchSize: 10, eta: 3, epochs: 1, pool });
  if (round < 3) continue;
  times["StepKernel loop"]!.push(a);
  times["with epoch-share's protocol"]!.push(b);
  times["train(), worker's epoch"]!.push(data.count / r.epochs[0]!.examplesPerSecond * 1000);
}
await pool.close();
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
for (const [name, xs] of Object.entries(times)) console.log(`${name}: ${median(xs).toFixed(1)} ms`);
