// The protobuf writer behind the ONNX export, against the encoding guide's own examples
// (https://protobuf.dev/programming-guides/encoding/).
import { describe, expect, it } from "vitest";
import { ProtoMessage, varintBytes } from "../src/export/protobuf.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("protobuf writer", () => {
  it.each([
    [0, "00"],
    [1, "01"],
    [127, "7f"],
    [128, "8001"],
    [150, "9601"],
    [300, "ac02"],
    [2 ** 32, "8080808010"],
    [Number.MAX_SAFE_INTEGER, "ffffffffffffff0f"],
  ])("writes %d as the varint %s", (value, bytes) => {
    expect(hex(varintBytes(value))).toBe(bytes);
  });

  it.each([-1, 1.5, NaN, 2 ** 53])("refuses %d as a varint (nothing shoal writes is negative or fractional)", (value) => {
    expect(() => varintBytes(value)).toThrow(RangeError);
  });

  it("writes the guide's messages: an int field, a string field, a nested message", () => {
    const test1 = new ProtoMessage().varint(1, 150);
    expect(hex(test1.encode())).toBe("089601");
    expect(hex(new ProtoMessage().string(2, "testing").encode())).toBe("120774657374696e67");
    const test3 = new ProtoMessage().message(3, test1);
    expect(hex(test3.encode())).toBe("1a03089601");
    expect(test3.length).toBe(5);
  });

  it("writes a repeated field as the field again, in the order given, and bytes as they are", () => {
    const m = new ProtoMessage().string(1, "a").string(1, "é").bytes(9, Uint8Array.of(0, 255));
    expect(hex(m.encode())).toBe("0a01610a02c3a94a0200ff");
  });
});
