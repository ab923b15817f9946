/**
 * The memory layouts kernel.wat and wasm-kernel.ts both use, in one table. kernel.wat names them
 * as `{slotCount}`, `{entryBytes}` …, filled in when it is assembled (build-kernel.ts).
 */
export const abi = {
  /** An example slot starts with three i32s — the byte offsets of the example's non-zero positions
   * (i32) and values (f32), and their count — then a^l and δ^l of every layer. */
  slotPositions: 0,
  slotValues: 4,
  slotCount: 8,
  /** The three i32s, padded to 16 bytes so a^1 starts 16-aligned. */
  slotHeaderBytes: 16,
  /** One entry of a row's list for stepRow: the byte offset of a δ, an f32 value, and the next
   * entry's byte offset (0 ends the list). */
  entryDelta: 0,
  entryValue: 4,
  entryNext: 8,
  entryBytes: 12,
} as const;
