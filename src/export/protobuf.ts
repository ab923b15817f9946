/**
 * A protobuf message writer: just what the ONNX file needs (varints, strings, bytes, nested
 * messages). Ours rather than a package's because the ONNX subset shoal writes is a dozen fields,
 * the wire format is a few lines (https://protobuf.dev/programming-guides/encoding/), and a
 * dependency would be one more thing to audit, update and have installed offline.
 *
 * Wire format: each field is a key varint (field number << 3 | wire type), then a varint (wire type
 * 0) or a length varint and that many bytes (wire type 2: strings, bytes, nested messages). A
 * repeated field is the same field written again; fields are written in the order given.
 */

const VARINT = 0;
const LENGTH_DELIMITED = 2;

const utf8 = new TextEncoder();

/** One protobuf message under construction; {@link ProtoMessage.encode} gives its bytes. */
export class ProtoMessage {
  // The encoding is kept as chunks and joined once, so a nested message (a tensor of weights, say)
  // is not copied at every level it is nested in.
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  /** Encoded length in bytes. */
  get length(): number {
    return this.size;
  }

  /** An integer field (int32, int64, enum) holding `value`, a non-negative safe integer. */
  varint(field: number, value: number): this {
    this.key(field, VARINT);
    this.push(varintBytes(value));
    return this;
  }

  /** A string field, UTF-8. */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** A bytes field. */
  bytes(field: number, value: Uint8Array): this {
    this.key(field, LENGTH_DELIMITED);
    this.push(varintBytes(value.length));
    this.push(value);
    return this;
  }

  /** A field holding a nested message. */
  message(field: number, value: ProtoMessage): this {
    this.key(field, LENGTH_DELIMITED);
    this.push(varintBytes(value.size));
    for (const chunk of value.chunks) this.push(chunk);
    return this;
  }

  /** The message's encoding. */
  encode(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  private key(field: number, wireType: number): void {
    this.push(varintBytes(field * 8 + wireType));
  }

  private push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }
}

/** Base-128 varint: 7 bits per byte, least significant first, the high bit set on all but the last. */
export function varintBytes(value: number): Uint8Array {
  // Negative int64s would need ten bytes of two's complement; nothing shoal writes is negative.
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`protobuf varint must be a non-negative safe integer, got ${value}`);
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80); // not >>> 7: values may exceed 32 bits
  }
  bytes.push(v);
  return Uint8Array.from(bytes);
}
