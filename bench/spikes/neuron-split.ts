/**
 * Spike for issue 17 §1 (since built as src/parallel/neuron-share.ts; kept to rerun the A/B and the
 * phase times recorded in bench/RESULTS.md, section spikes): a neuron split of two-layer sigmoid networks (784-h-10, quadratic cost,
 * float32 wasm kernel), measured against the example split shoal trains with today. Not part of
 * the library: it answers "how fast, and the same bits?" before the design is built.
 *
 * Thread k of T owns a 4-aligned block of the hidden layer's neurons: their weights (stored as a
 * block of the transposed layer, 784 rows × its columns) and biases. Each step (m examples):
 *   1. for every example, z¹ and a¹ of its own neurons (kernel `forward` and `sigmoid` over its
 *      block), written to a shared exchange row (double-buffered by step parity);
 *   2. ONE barrier: every a¹ row is complete;
 *   3. every thread computes the output layer for every example from its own private copy of the
 *      output layer (the same operations in the same order on every thread, so the copies stay
 *      identical), δ² = BP1, and δ¹ for its own neurons (BP2, `backward` over its rows of w²);
 *   4. it updates its own block of layer 1 and its private copy of layer 2 (`stepLayer`).
 * No weight crosses cores; the exchange rows are the only shared writes. The kernel functions are
 * the ones the example split runs, given sub-blocks, so every per-parameter operation is the same:
 * the spike checks the bits against the example split's kernel run in-process.
 *
 *   npx tsx bench/spikes/neuron-split.ts [--net 784-30-10] [--batch 10] [--rounds 9]
 */
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { abi } from "../../src/core/wasm/abi.js";
import type { NeuronPart } from "../../src/parallel/shared-state.js";

/** Where everything of one spike run is in its memory (byte offsets). */
interface SpikeLayout {
  readonly threads: number;
  readonly sizes: readonly [number, number, number];
  readonly np1: number;
  readonly np2: number;
  readonly slotCount: number;
  /** Bytes between slots, in each thread's private slots and in the exchange rows. */
  readonly stride: number;
  readonly order: number;
  readonly count: number;
  readonly offsets: number;
  readonly indices: number;
  readonly values: number;
  readonly labels: number;
  readonly exchange: readonly [number, number];
  readonly parts: readonly ThreadPart[];
}

/** Thread k's regions: the engine's own shape for them (the engine was built from this spike). */
type ThreadPart = NeuronPart;

interface WorkerInit {
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  readonly layout: SpikeLayout;
  readonly k: number;
  readonly miniBatchSize: number;
  readonly eta: number;
}

await main();

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { net: { type: "string", default: "784-30-10" }, batch: { type: "string", default: "10" }, rounds: { type: "string", default: "9" } } });
  const sizes = values.net.split("-").map(Number) as [number, number, number];
  if (sizes.length !== 3) throw new Error("the spike handles one hidden layer: --net 784-h-10");
  const miniBatchSize = Number(values.batch);
  const rounds = Number(values.rounds);
  const eta = 3;

  const { loadMnistDigits } = await import("../../src/data/mnist.js");
  const { Network } = await import("../../src/core/network.js");
  const { createSharedRun, mapRun } = await import("../../src/parallel/shared-state.js");
  const { stepKernel } = await import("../../src/parallel/step-kernel.js");
  const { createPool } = await import("../../src/index.js");
  const { kernelLayoutOf } = await import("../../src/core/wasm/wasm-kernel.js");
  const { takeTurns, contender } = await import("../../src/bench/turns.js");
  const { trainingContender } = await import("../../src/bench/training.js");
  const { median } = await import("../../src/bench/stats.js");

  const { train: data } = await loadMnistDigits();
  const network = Network.create(sizes, { seed: 1 });
  const settings = { threads: 1, miniBatchSize, kernel: "wasm", privateWeights: false, parallelism: "examples" } as const;
  const run = createSharedRun(network.spec, network.params, data, undefined, settings);
  const views = mapRun(run);
  // A fixed shuffle (any order will do, as long as both strategies see the same one)
  let seed = 12345;
  views.order.forEach((_, i) => (views.order[i] = i));
  for (let i = views.order.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [views.order[i], views.order[j]] = [views.order[j]!, views.order[i]!];
  }
  const initial = new Uint8Array(run.memory.buffer.slice(0));
  const kernel = kernelLayoutOf(sizes);

  // The example split's kernel, one thread, in process: the reference bits after one epoch.
  const reference = stepKernel(run, views, 0);
  let referenceCost = 0;
  for (let start = 0; start < views.order.length; start += miniBatchSize) {
    const m = Math.min(miniBatchSize, views.order.length - start);
    let stepCost = 0;
    for (let s = 0; s < m; s++) stepCost += reference.forwardAndDeltas(views.order[start + s]!, s);
    referenceCost += stepCost;
    reference.step(m, eta / m, 1);
  }
  const referenceParams = new Float32Array(views.params);

  /** A spike run of T threads in memory of its own: the example split's memory, then its regions. */
  const spike = (threads: number) => {
    const [n0, n1, n2] = sizes;
    const np1 = kernel.padded[0]!;
    const np2 = kernel.padded[1]!;
    const slotCount = run.regions.slotCount;
    let at = Math.ceil(initial.byteLength / 64) * 64;
    const take = (bytes: number): number => {
      const start = at;
      at += Math.ceil(bytes / 64) * 64;
      return start;
    };
    const blocks = np1 / 4;
    const widths = Array.from({ length: threads }, (_, k) => 4 * (Math.floor((blocks * (k + 1)) / threads) - Math.floor((blocks * k) / threads)));
    const widest = Math.max(...widths);
    const stride = Math.ceil(Math.max(16 + 4 * widest + 4 * np2, 4 * np1) / 64) * 64;
    const most = typeof run.train.inputs === "number" ? n0 : run.train.inputs.most;
    let c0 = 0;
    const parts: ThreadPart[] = widths.map((width) => {
      const part: ThreadPart = {
        c0, width, nk: Math.max(0, Math.min(width, n1 - c0)),
        w1: take(4 * n0 * width), b1: take(4 * width), w2: take(4 * n1 * np2), b2: take(4 * np2), vgap: 0,
        slots: take(slotCount * stride), delta1: 16, delta2: 16 + 4 * widest,
        z1: take(4 * width), z2: take(4 * np2), a2: take(4 * np2), y: take(8 * n2), heads: take(4 * n0),
        identity: take(4 * n1), list: take(abi.entryBytes * slotCount * Math.max(most, n1) + 64),
      };
      c0 += width;
      return part;
    });
    const exchange: [number, number] = [take(slotCount * stride), take(slotCount * stride)];
    const pages = Math.ceil(at / 65536);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const bytes = new Uint8Array(memory.buffer);
    bytes.set(initial);
    const f32 = new Float32Array(memory.buffer);
    const init = new Float32Array(initial.buffer, run.regions.params, kernel.paramCount);
    const w1 = kernel.weightOffsets[0]!;
    const b1 = kernel.biasOffsets[0]!;
    for (const part of parts) {
      for (let r = 0; r < n0; r++) f32.set(init.subarray(w1 + r * np1 + part.c0, w1 + r * np1 + part.c0 + part.width), part.w1 / 4 + r * part.width);
      f32.set(init.subarray(b1 + part.c0, b1 + part.c0 + part.width), part.b1 / 4);
      f32.set(init.subarray(kernel.weightOffsets[1]!, kernel.weightOffsets[1]! + n1 * np2), part.w2 / 4);
      f32.set(init.subarray(kernel.biasOffsets[1]!, kernel.biasOffsets[1]! + np2), part.b2 / 4);
      new Int32Array(memory.buffer, part.identity, n1).forEach((_, i, a) => (a[i] = i));
    }
    const sparse = run.train.inputs as { offsets: number; indices: number; values: number };
    const targets = run.train.targets as { labels: number };
    const layout: SpikeLayout = {
      threads, sizes, np1, np2, slotCount, stride, order: run.regions.order, count: data.count,
      offsets: sparse.offsets, indices: sparse.indices, values: sparse.values, labels: targets.labels, exchange, parts,
    };
    const workers = parts.map((_, k) => new Worker(new URL("./neuron-split-worker.mjs", import.meta.url), {
      workerData: { memory, module: run.module!, layout, k, miniBatchSize, eta } satisfies WorkerInit,
    }));
    const failed = new Promise<never>((_, reject) => workers.forEach((w) => w.on("error", reject)));
    failed.catch(() => {});
    type Reply = { ms: number; costSum: number; phases: Record<string, number> };
    const epoch = async (): Promise<{ ms: number; costSum: number }> => {
      const replies = await Promise.all(workers.map((w) => new Promise<Reply>((resolve, reject) => {
        w.once("message", resolve);
        failed.catch(reject);
        w.postMessage("epoch");
      })));
      if (process.env.PHASES === "1") console.log(`${threads}T phases, ms per epoch (thread 0): ${Object.entries(replies[0]!.phases).map(([n, v]) => `${n} ${(v as number).toFixed(1)}`).join(", ")}`);
      return { ms: Math.max(...replies.map((r) => r.ms)), costSum: replies[0]!.costSum };
    };
    /** The parameters in the kernel layout: the blocks of layer 1 put together, layer 2 from thread 0's copy (after checking every copy is the same). */
    const params = (): Float32Array => {
      const out = new Float32Array(kernel.paramCount);
      for (const part of parts) {
        for (let r = 0; r < n0; r++) out.set(f32.subarray(part.w1 / 4 + r * part.width, part.w1 / 4 + (r + 1) * part.width), w1 + r * np1 + part.c0);
        out.set(f32.subarray(part.b1 / 4, part.b1 / 4 + part.width), b1 + part.c0);
        const copy = f32.subarray(part.w2 / 4, part.w2 / 4 + n1 * np2);
        const first = f32.subarray(parts[0]!.w2 / 4, parts[0]!.w2 / 4 + n1 * np2);
        if (!Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength).equals(Buffer.from(first.buffer, first.byteOffset, first.byteLength))) throw new Error("the threads' copies of layer 2 differ");
      }
      out.set(f32.subarray(parts[0]!.w2 / 4, parts[0]!.w2 / 4 + n1 * np2), kernel.weightOffsets[1]!);
      out.set(f32.subarray(parts[0]!.b2 / 4, parts[0]!.b2 / 4 + np2), kernel.biasOffsets[1]!);
      return out;
    };
    return { epoch, params, close: () => Promise.all(workers.map((w) => w.terminate())) };
  };

  const spikes = [1, 2].map((t) => ({ threads: t, run: spike(t) }));
  for (const { threads, run: s } of spikes) {
    const { costSum } = await s.epoch();
    const same = Buffer.from(s.params().buffer).equals(Buffer.from(referenceParams.buffer));
    if (process.env.DEBUG) {
      const got = s.params();
      const init = new Float32Array(initial.buffer, run.regions.params, kernel.paramCount);
      const diff = (a: Float32Array, b: Float32Array, from: number, to: number) => { let n = 0; for (let i = from; i < to; i++) if (a[i] !== b[i]) n++; return n; };
      for (const [name, from, to] of [["w1", 0, kernel.biasOffsets[0]!], ["b1", kernel.biasOffsets[0]!, kernel.weightOffsets[1]!], ["w2", kernel.weightOffsets[1]!, kernel.biasOffsets[1]!], ["b2", kernel.biasOffsets[1]!, kernel.paramCount]] as const)
        console.log(name, "changed", diff(got, init, from, to), "ref changed", diff(referenceParams, init, from, to), "differs from ref", diff(got, referenceParams, from, to));
    }
    console.log(`neuron split, ${threads} thread(s), epoch 1: parameters ${same ? "bit-identical to" : "DIFFERENT from"} the example split's kernel; cost sum ${costSum === referenceCost ? "identical" : `${costSum} against ${referenceCost}`}`);
    if (!same || costSum !== referenceCost) throw new Error("the neuron split does not give the example split's bits: its timings would compare different computations");
  }

  const pool = createPool({ threads: 2 });
  const examples = [1, 2].map((threads) => trainingContender({ network: Network.create(sizes, { seed: 1 }), data, options: { miniBatchSize, eta, threads, pool: threads === 2 ? pool : createPool({ threads: 1 }) } }, `example split, ${threads} thread(s)`));
  const neurons = spikes.map(({ threads, run: s }) => contender(`neuron split (spike), ${threads} thread(s)`, async () => {
    const { ms } = await s.epoch();
    return { examplesPerSecond: data.count / (ms / 1000) };
  }));
  const contenders = [...examples, ...neurons];
  const measured = await takeTurns(contenders, { rounds, warm: (done) => done.every((r) => r.length >= 3) });
  await Promise.all(contenders.map((c) => c.close?.()));
  await Promise.all(spikes.map((s) => s.run.close()));
  await pool.close();
  const rate = (i: number): number => median(measured[i]!.samples.map((s) => s.examplesPerSecond));
  const ratio = (a: number, b: number): number => median(measured[a]!.samples.map((s, r) => s.examplesPerSecond / measured[b]!.samples[r]!.examplesPerSecond));
  console.log(`\n${values.net}, batch ${miniBatchSize}, ${data.count} digits, float32 wasm; examples/s, median of ${rounds} rounds taking turns (after 3 warm-up epochs each):`);
  contenders.forEach((c, i) => console.log(`  ${c.name}: ${Math.round(rate(i)).toLocaleString("en-US")}`));
  console.log(`  example split 2T ÷ 1T: ${ratio(1, 0).toFixed(2)}×; neuron split 2T ÷ example split 1T: ${ratio(3, 0).toFixed(2)}×; neuron split 2T ÷ its 1T: ${ratio(3, 2).toFixed(2)}×; neuron 1T ÷ example 1T: ${ratio(2, 0).toFixed(2)}×`);
}
