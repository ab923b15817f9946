/**
 * What the neuron split's epoch protocol (neuron-share.ts) needs from a kernel: thread k's part of
 * each mini-batch when the threads share the hidden layer's neurons. The WebAssembly kernel's part
 * is in neuron-share.ts, the TypeScript kernel's in neuron-split-js.ts; both compute every
 * parameter's sum over the same examples in the same order as their kernel's example split, so a
 * run has the same bits by neurons or by examples.
 */
export interface NeuronSplit {
  /** The two exchange buffers (byte offsets), one per step parity. */
  readonly exchange: readonly [number, number];
  /** Copies what it keeps privately out of the run's parameters (and velocities, with momentum). */
  load(): void;
  /** Writes it back into the run's parameters (and velocities). */
  store(): void;
  /** z¹ and a¹ of its neurons for examples order[start …] (m of them) into the exchange rows. */
  hidden(start: number, m: number, exchange: number): void;
  /** The output layer, BP1, and BP2 for its neurons, for every example; returns the batch's cost, summed in example order. */
  output(start: number, m: number, exchange: number): number;
  /** BP3/BP4 and the SGD step on its neurons and its copy of the output layer. False if a new weight is NaN or infinite. */
  update(m: number, scale: number, decay: number, exchange: number): boolean;
}
