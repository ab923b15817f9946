import { describe, expect, it } from "vitest";
import { backprop, createScratch } from "../src/core/backprop.js";
import { kernelLayoutOf, pack, scratchBytes, slotBytes, unpack, WasmKernel } from "../src/core/wasm/wasm-kernel.js";
import { Network, train, ValidationError, type ActivationName, type CostName } from "../src/index.js";
import { someDigits } from "./fixtures/digits.js";

/** One example's gradient from the wasm kernel, in the network's own layout. */
function wasmGradient(net: Network, x: Float32Array, y: Float64Array): { gradient: Float32Array; cost: number; output: Float32Array } {
  const kernel = kernelLayoutOf(net.sizes);
  const bytes = kernel.paramCount * 4;
  // the example twice: dense at x (for forward) and as its non-zero entries (for backpropagate)
  const nonZeros = [...x.keys()].filter((k) => x[k] !== 0);
  const at = { x: 0, offsets: 16 * Math.ceil(x.byteLength / 16), indices: 0, values: 0, params: 0 };
  at.indices = at.offsets + 16;
  at.values = at.indices + 16 * Math.ceil((4 * nonZeros.length) / 16);
  at.params = at.values + 16 * Math.ceil((4 * nonZeros.length) / 16);
  const gradients = at.params + 16 * Math.ceil(bytes / 16);
  const slots = gradients + 16 * Math.ceil(bytes / 16);
  const scratch = slots + slotBytes(kernel);
  const pages = Math.ceil((scratch + scratchBytes(kernel)) / 65536);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  new Float32Array(memory.buffer, at.x, x.length).set(x);
  new Int32Array(memory.buffer, at.offsets, 2).set([0, nonZeros.length]);
  new Int32Array(memory.buffer, at.indices, nonZeros.length).set(nonZeros);
  new Float32Array(memory.buffer, at.values, nonZeros.length).set(nonZeros.map((k) => x[k]!));
  pack(net.architecture.layout, net.params, kernel, new Float32Array(memory.buffer, at.params, kernel.paramCount));
  const inputs = { count: 1, offsets: at.offsets, indices: at.indices, values: at.values };
  const wasm = new WasmKernel(net.architecture, kernel, { memory, inputs, params: at.params, gradient: gradients, slots, slotCount: 1, scratch });
  const cost = wasm.backpropagate(0, y, 0);
  wasm.accumulate(1);
  const output = wasm.forward(at.x).slice();
  const gradient = new Float32Array(net.params.length);
  unpack(kernel, new Float32Array(memory.buffer, gradients, kernel.paramCount), net.architecture.layout, gradient);
  return { gradient, cost, output };
}

describe("WebAssembly SIMD kernel", () => {
  const nets: [number[], ActivationName, CostName][] = [
    [[5, 7, 3], "sigmoid", "quadratic"],
    [[6, 9, 5, 2], "tanh", "quadratic"],
    [[8, 13, 4], "relu", "cross-entropy"],
    [[3, 4, 1], "identity", "quadratic"],
    [[784, 30, 10], "sigmoid", "cross-entropy"],
  ];
  for (const [sizes, activation, cost] of nets) {
    it(`matches the TypeScript kernel: ${sizes.join("-")} ${activation} ${cost} (pads, zeros, every layer)`, () => {
      const outputActivation = cost === "cross-entropy" ? "sigmoid" : activation;
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

  it("wasm needs float32 and worker threads", async () => {
    const { train: data } = await someDigits(10);
    const net64 = Network.create([784, 10, 10], { seed: 1, dtype: "float64" });
    await expect(train(net64, data, { epochs: 1, miniBatchSize: 10, eta: 3, kernel: "wasm" })).rejects.toThrow(
      new ValidationError("kernel wasm needs a float32 network, this one is float64"),
    );
    const net32 = Network.create([784, 10, 10], { seed: 1 });
    await expect(train(net32, data, { epochs: 1, miniBatchSize: 10, eta: 3, kernel: "wasm", threads: 0 })).rejects.toThrow(
      "kernel wasm runs on worker threads; threads 0 is the in-process TypeScript path",
    );
    await expect(train(net32, data, { epochs: 1, miniBatchSize: 10, eta: 3, kernel: "simd" as never })).rejects.toThrow(
      'kernel must be one of auto, js, wasm, got "simd"',
    );
  });
});
