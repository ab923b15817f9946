/**
 * The memory layouts kernel.wat and wasm-kernel.ts both use, in one table per kernel (float32,
 * float64). kernel.wat names them as `{slotCount}`, `{entryBytes}` …, filled in when it is
 * assembled (build-kernel.ts).
 */
const slot = {
  /** An example slot starts with three i32s — the byte offsets of the example's non-zero positions
   * (i32) and values (the kernel's floats), and their count — then a^l and δ^l of every layer. */
  slotPositions: 0,
  slotValues: 4,
  slotCount: 8,
  /** The three i32s, padded to 16 bytes so a^1 starts 16-aligned. */
  slotHeaderBytes: 16,
} as const;

/** Each kernel's table: the slots', then one entry of a row's list for stepRow — the byte offset of
 * a δ, a value (float32: 4 bytes; float64: 8, aligned), and the next entry's byte offset (0 ends the list). */
export const abis = {
  float32: { ...slot, entryDelta: 0, entryValue: 4, entryNext: 8, entryBytes: 12 },
  float64: { ...slot, entryDelta: 0, entryNext: 4, entryValue: 8, entryBytes: 16 },
} as const;

/** The float32 kernel's table (the slots' part is both kernels'). */
export const abi = abis.float32;

/** Each kernel's assembled file, beside kernel.wat (build-kernel.ts writes them, wasm-kernel.ts loads them). */
export const kernelFiles = { float32: "kernel.wasm", float64: "kernel64.wasm" } as const;
