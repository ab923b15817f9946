import { describe, expect, it } from "vitest";
import { backprop, createScratch } from "../src/core/backprop.js";
import { activation } from "../src/core/activations.js";
import { cost } from "../src/core/costs.js";
import { kernelLayoutOf, kernelModule, pack, unpack } from "../src/core/wasm/wasm-kernel.js";
import { Network, train, ValidationError, type ActivationName, type CostName } from "../src/index.js";
import { someDigits } from "./fixtures/digits.js";
import { kernelMemory } from "./fixtures/kernel-memory.js";

/** One example's gradient from the wasm kernel, in the network's own layout. */
function wasmGradient(net: Network, x: Float32Array, y: Float64Array): { gradient: Float32Array; cost: number; output: Float32Array } {
  const { memory, kernel, x: dense, gradients, kernelFor } = kernelMemory(net, [x]);
  const wasm = kernelFor(0);
  const cost = wasm.forwardAndDeltas(0, y, 0);
  wasm.accumulate(1);
  const output = Float32Array.from(wasm.forward(dense));
  const gradient = new Float32Array(net.params.length);
  unpack(kernel, new Float32Array(memory.buffer, gradients[0]!, kernel.paramCount), net.architecture.layout, gradient);
  return { gradient, cost, output };
}

describe("WebAssembly SIMD kernel", () => {
  const nets: [number[], ActivationName, CostName][] = [
    [[5, 7, 3], "sigmoid", "quadratic"],
    [[6, 9, 5, 2], "tanh", "quadratic"],
    [[8, 13, 4], "relu", "cross-entropy"],
    [[3, 4, 1], "identity", "quadratic"],
    [[784, 30, 10], "sigmoid", "cross-entropy"],
    // softmax: not elementwise, applied in TypeScript to the whole output layer's float32 z
    [[8, 13, 4], "tanh", "log-likelihood"],
    [[784, 30, 10], "sigmoid", "log-likelihood"],
  ];
  for (const [sizes, activation, cost] of nets) {
    it(`matches the TypeScript kernel: ${sizes.join("-")} ${activation} ${cost} (pads, zeros, every layer)`, () => {
      const outputActivation = cost === "cross-entropy" ? "sigmoid" : cost === "log-likelihood" ? "softmax" : activation;
      const net = Network.create(sizes, { seed: 5, activation, outputActivation, cost, init: "scaled-gaussian" });
      const x = Float32Array.from({ length: sizes[0]! }, (_, k) => (k % 3 === 0 ? 0 : Math.sin(k + 1))); // a third are zeros
      const y = Float64Array.from({ length: sizes.at(-1)! }, (_, j) => (j === 1 % sizes.at(-1)! ? 1 : 0));
      const scratch = createScratch(sizes);
      scratch.y.set(y);
      const reference = new Float64Array(net.params.length);
      const referenceCost = backprop(net.architecture, net.params, x, 0, reference, scratch);
      const { gradient, cost: wasmCost, output } = wasmGradient(net, x, y);
      expect(wasmCost).toBeCloseTo(referenceCost, 5);
      for (let j = 0; j < output.length; j++) expect(output[j]).toBeCloseTo(scratch.a.at(-1)![j]!, 5);
      let scale = 0;
      for (const g of reference) scale = Math.max(scale, Math.abs(g));
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < reference.length; i++) {
        expect(Math.abs(gradient[i]! - reference[i]!)).toBeLessThanOrEqual(1e-5 * scale);
      }
    });
  }

  it("step (BP3, BP4 and the update in one pass, no gradient written) gives the bits of accumulate + update, however the rows are split", () => {
    for (const sizes of [[70, 40, 10], [21, 7, 5, 3]]) {
      const net = Network.create(sizes, { seed: 3 });
      // six examples, half their inputs zero; inputs 0, 5, 10, … are zero in all of them
      const xs = Array.from({ length: 6 }, (_, i) =>
        Float32Array.from({ length: sizes[0]! }, (_, k) => (k % 5 === 0 || (k + i) % 2 === 0 ? 0 : Math.cos(3 * k + i))),
      );
      const ys = xs.map((_, i) => Float64Array.from({ length: sizes.at(-1)! }, (_, j) => (j === i % sizes.at(-1)! ? 1 : 0)));
      for (const parts of [1, 2, 3]) {
        const trainOnce = (fused: boolean, scale = 0.37) => {
          const { memory, kernel, params, gradients, kernelFor } = kernelMemory(net, xs, parts);
          const kernels = Array.from({ length: parts }, (_, k) => kernelFor(k));
          xs.forEach((_, s) => kernels[s % parts]!.forwardAndDeltas(s, ys[s]!, s));
          const finite = kernels.map((k) => (fused ? k.step(xs.length, scale) : (k.accumulate(xs.length), k.update(scale))));
          const gradientBits = gradients.map((g) => new Uint32Array(memory.buffer, g, kernel.paramCount).some((v) => v !== 0));
          return { finite, gradientBits, params: new Uint32Array(memory.buffer, params, kernel.paramCount).slice(), kernel };
        };
        const plain = trainOnce(false);
        const fused = trainOnce(true);
        expect(fused.finite).toEqual(plain.finite.map(() => true));
        expect(plain.finite.every(Boolean)).toBe(true);
        expect(fused.gradientBits.some(Boolean)).toBe(false); // no gradient was written
        expect(fused.params).toEqual(plain.params);
        // the step did change weights, and left the rows of inputs that are 0 in every example alone
        const start = trainOnce(true, 0).params;
        const np = fused.kernel.padded[0]!;
        let changed = 0;
        for (let i = 0; i < start.length; i++) if (fused.params[i] !== start[i]) changed++;
        expect(changed).toBeGreaterThan(sizes[1]! * 5);
        for (let k = 0; k < sizes[0]!; k += 5) expect(fused.params.slice(k * np, (k + 1) * np)).toEqual(start.slice(k * np, (k + 1) * np));
        // a step to infinite weights is reported, as update reports it
        expect(trainOnce(true, Infinity).finite.some((f) => !f)).toBe(true);
      }
    }
  });

  it("sigmoid gives the TypeScript sigmoid's float32 values, bit for bit, and keeps NaN", () => {
    const n = 100_001; // odd: the last value is written alone
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 16, shared: true });
    const { sigmoid } = new WebAssembly.Instance(kernelModule(), { env: { memory } }).exports as { sigmoid(z: number, a: number, n: number): void };
    const z = new Float32Array(memory.buffer, 0, n + 1);
    const edges = [0, -0, 1e-30, -1e-30, 1e-8, 0.5, -0.5, 17, -17, 88, -88, 104, -104, 700, -700, 800, -800, 3e38, -3e38, Infinity, -Infinity, NaN];
    let seed = 1;
    for (let i = 0; i < n; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      z[i] = i < edges.length ? edges[i]! : ((seed / 2 ** 32) * 2 - 1) * (i % 3 === 0 ? 40 : 6);
    }
    z[n] = 12345; // past n: must not be written into a
    const a = new Float32Array(memory.buffer, 4 * (n + 8), n + 1);
    a[n] = -1;
    sigmoid(z.byteOffset, a.byteOffset, n);
    const expected = new Float32Array(n);
    activation("sigmoid").apply(z.subarray(0, n), expected);
    let differing = 0;
    for (let i = 0; i < n; i++) if (!Object.is(a[i], expected[i])) differing++;
    expect(differing).toBe(0);
    expect(a[n]).toBe(-1);
    expect(Number.isNaN(a[edges.findIndex(Number.isNaN)])).toBe(true);
    expect([a[edges.indexOf(Infinity)], a[edges.indexOf(-Infinity)]]).toEqual([1, 0]);
  });

  it("BP1 with the quadratic cost and BP2's σ' in wasm give the TypeScript kernel's values, bit for bit", () => {
    interface Tail {
      quadraticSigmoidOutput(a: number, y: number, delta: number, n: number): number;
      backward(wt: number, n: number, delta: number, out: number, np: number, a: number): void;
    }
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
    const { quadraticSigmoidOutput, backward } = new WebAssembly.Instance(kernelModule(), { env: { memory } }).exports as unknown as Tail;
    const n = 10;
    const np = 12;
    const hidden = 30;
    let seed = 3;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    // one region after another, 16-byte aligned: a and δ (float32), y (float64), then BP2's weights, a and outputs
    const a = new Float32Array(memory.buffer, 0, np);
    const delta = new Float32Array(memory.buffer, 64, np);
    const y = new Float64Array(memory.buffer, 128, n);
    const wt = new Float32Array(memory.buffer, 256, hidden * np);
    const aHidden = new Float32Array(memory.buffer, 256 + 4 * hidden * np, hidden);
    const fused = new Float32Array(memory.buffer, aHidden.byteOffset + 4 * hidden, hidden);
    const plain = new Float32Array(memory.buffer, fused.byteOffset + 4 * hidden, hidden);
    const quadratic = cost("quadratic");
    const sigmoid = activation("sigmoid");
    let differing = 0;
    for (let trial = 0; trial < 2000; trial++) {
      // outputs anywhere in [0, 1] (some saturated), one-hot or arbitrary targets
      for (let j = 0; j < n; j++) a[j] = trial % 7 === 0 && j % 3 === 0 ? j % 2 : random();
      for (let j = 0; j < n; j++) y[j] = trial % 2 ? Number(j === trial % n) : random();
      const c = quadraticSigmoidOutput(a.byteOffset, y.byteOffset, delta.byteOffset, n);
      const expected = new Float32Array(n);
      const output = a.slice(0, n);
      quadratic.outputDelta(output, output, y, sigmoid, expected);
      if (!Object.is(c, quadratic.value(output, y))) differing++;
      for (let j = 0; j < n; j++) if (!Object.is(delta[j], expected[j])) differing++;

      for (let k = 0; k < wt.length; k++) wt[k] = k % np < n ? random() * 4 - 2 : 0;
      for (let k = 0; k < hidden; k++) aHidden[k] = random();
      backward(wt.byteOffset, hidden, delta.byteOffset, fused.byteOffset, np, aHidden.byteOffset);
      backward(wt.byteOffset, hidden, delta.byteOffset, plain.byteOffset, np, 0);
      sigmoid.scaleByDerivative(aHidden, aHidden, plain);
      for (let k = 0; k < hidden; k++) if (!Object.is(fused[k], plain[k])) differing++;
    }
    expect(differing).toBe(0);
  });

  it("pack and unpack are inverse (the kernel layout is a permutation plus zero pads)", () => {
    const net = Network.create([7, 5, 3], { seed: 2 });
    const kernel = kernelLayoutOf(net.sizes);
    expect(kernel.padded).toEqual([8, 4]);
    const packed = new Float32Array(kernel.paramCount);
    pack(net.architecture.layout, net.params, kernel, packed);
    const back = new Float32Array(net.params.length);
    unpack(kernel, packed, net.architecture.layout, back);
    expect(Array.from(back)).toEqual(Array.from(net.params));
    expect(packed.filter((v) => v !== 0).length).toBe(net.params.filter((v) => v !== 0).length);
  });
});

describe("kernel option", () => {
  it("float32 runs on wasm by default and agrees with kernel js and the in-process path", async () => {
    const { train: data } = await someDigits(300);
    const run = async (threads: number, kernel: "auto" | "js") => {
      const net = Network.create([784, 30, 10], { seed: 1 });
      await train(net, data, { epochs: 2, miniBatchSize: 10, eta: 3, seed: 3, threads, kernel });
      return net.params;
    };
    const [serial, wasm, js] = [await run(0, "auto"), await run(2, "auto"), await run(2, "js")];
    let worstWasm = 0;
    let worstJs = 0;
    for (let i = 0; i < serial.length; i++) {
      const scale = Math.max(1, Math.abs(serial[i]!));
      worstWasm = Math.max(worstWasm, Math.abs(wasm[i]! - serial[i]!) / scale);
      worstJs = Math.max(worstJs, Math.abs(js[i]! - serial[i]!) / scale);
    }
    expect(worstWasm).toBeLessThan(1e-4);
    expect(worstJs).toBeLessThan(1e-4);
    expect(worstWasm).toBeGreaterThan(0); // float32 SIMD sums in another order: close, not identical
  });

  it("wasm needs worker threads", async () => {
    const { train: data } = await someDigits(10);
    const net32 = Network.create([784, 10, 10], { seed: 1 });
    await expect(train(net32, data, { epochs: 1, miniBatchSize: 10, eta: 3, kernel: "wasm", threads: 0 })).rejects.toThrow(
      "kernel wasm runs on worker threads; threads 0 is the in-process TypeScript path",
    );
    await expect(train(net32, data, { epochs: 1, miniBatchSize: 10, eta: 3, kernel: "simd" as never })).rejects.toThrow(
      'kernel must be one of auto, js, wasm, got "simd"',
    );
  });
});
