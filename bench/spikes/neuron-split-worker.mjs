// The spike's worker thread (see neuron-split.ts): plain JavaScript, because a Worker started
// directly (not through the pool) does not get the tsx loader here. One epoch per message: the
// four steps described at the top of neuron-split.ts. Replies with its loop time and (thread 0)
// the cost sum. The barrier is src/parallel/barrier.ts's arrive() without the failure handling.
import { parentPort, workerData } from "node:worker_threads";

const COUNT = 0;
const GENERATION = 1;
const SPIN = 2000;
function arrive(control, parties) {
  const generation = Atomics.load(control, GENERATION);
  if (Atomics.add(control, COUNT, 1) === parties - 1) {
    Atomics.store(control, COUNT, 0);
    Atomics.add(control, GENERATION, 1);
    Atomics.notify(control, GENERATION);
  } else {
    for (let i = 0; i < SPIN && Atomics.load(control, GENERATION) === generation; i++);
    while (Atomics.load(control, GENERATION) === generation) Atomics.wait(control, GENERATION, generation);
  }
}

const { memory, module, layout, k, miniBatchSize, eta } = workerData;
const wasm = new WebAssembly.Instance(module, { env: { memory } }).exports;
const buffer = memory.buffer;
const int32 = new Int32Array(buffer);
const control = new Int32Array(buffer, 0, 32);
const p = layout.parts[k];
const [n0, n1, n2] = layout.sizes;
const { np2, stride, threads } = layout;
const order = new Int32Array(buffer, layout.order, layout.count);
const labels = new Int32Array(buffer, layout.labels, layout.count);
const y = new Float64Array(buffer, p.y, n2);

/** The hidden layer's z and a of this thread's neurons for the batch's examples (step 1). */
function hidden(start, m, exchange) {
  for (let s = 0; s < m; s++) {
    const i = order[start + s];
    const first = int32[(layout.offsets >> 2) + i];
    const count = int32[(layout.offsets >> 2) + i + 1] - first;
    const slot = p.slots + s * stride;
    const idx = layout.indices + 4 * first;
    const val = layout.values + 4 * first;
    int32[slot >> 2] = idx; // abi.slotPositions
    int32[(slot + 4) >> 2] = val; // abi.slotValues
    int32[(slot + 8) >> 2] = count; // abi.slotCount
    wasm.forward(p.w1, p.b1, idx, val, count, p.z1, p.width);
    wasm.sigmoid(p.z1, exchange + s * stride + 4 * p.c0, p.nk);
  }
}

/** The output layer, BP1 and this thread's part of BP2 for the batch's examples (step 3); returns the batch's cost. */
function output(start, m, exchange) {
  let cost = 0;
  for (let s = 0; s < m; s++) {
    const slot = p.slots + s * stride;
    const a1 = exchange + s * stride;
    wasm.forward(p.w2, p.b2, p.identity, a1, n1, p.z2, np2);
    wasm.sigmoid(p.z2, p.a2, n2);
    y.fill(0);
    y[labels[order[start + s]]] = 1;
    cost += wasm.quadraticSigmoidOutput(p.a2, p.y, slot + p.delta2, n2);
    wasm.backward(p.w2 + 4 * np2 * p.c0, p.nk, slot + p.delta2, slot + p.delta1, np2, a1 + 4 * p.c0);
  }
  return cost;
}

const timing = process.env.PHASES === "1";
parentPort.on("message", () => {
  const started = performance.now();
  const phases = { hidden: 0, barrier: 0, output: 0, layer1: 0, layer2: 0 };
  let costSum = 0;
  for (let start = 0, step = 0; start < order.length; start += miniBatchSize, step++) {
    const m = Math.min(miniBatchSize, order.length - start);
    const exchange = layout.exchange[step & 1];
    const t0 = timing ? performance.now() : 0;
    hidden(start, m, exchange);
    const t1 = timing ? performance.now() : 0;
    arrive(control, threads);
    const t2 = timing ? performance.now() : 0;
    const cost = output(start, m, exchange);
    if (k === 0) costSum += cost;
    const scale = Math.fround(eta / m);
    const t3 = timing ? performance.now() : 0;
    wasm.stepLayer(p.w1, p.b1, p.slots, stride, m, p.delta1, -1, 0, n0, p.width, 1, scale, 1, p.list, p.heads, 0, 0);
    const t4 = timing ? performance.now() : 0;
    wasm.stepLayer(p.w2, p.b2, p.slots, stride, m, p.delta2, exchange - p.slots, 0, n1, np2, 1, scale, 1, p.list, p.heads, 0, 0);
    if (timing) {
      const t5 = performance.now();
      phases.hidden += t1 - t0;
      phases.barrier += t2 - t1;
      phases.output += t3 - t2;
      phases.layer1 += t4 - t3;
      phases.layer2 += t5 - t4;
    }
  }
  parentPort.postMessage({ ms: performance.now() - started, costSum, phases });
});
