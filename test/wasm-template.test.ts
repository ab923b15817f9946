import { describe, expect, it } from "vitest";
import { kernelText } from "../src/core/wasm/build-kernel.js";
import { expandTemplate } from "../src/core/wasm/template.js";

describe("kernel.wat's template (each repeated block written once)", () => {
  it("unrolls a part once per width, lane lines once per lane (consecutive ones together), with loop/block and the branch back", () => {
    const source = [
      "(func",
      "  ;; @unroll 2 1:once",
      "  ({loop} $next",
      "    (i32.const {16*W})",
      "    @lane (a $z{i} offset={16*i})",
      "    @lane (b $z{i} {i*4+size})",
      "    {again})",
      "  ;; @end",
      "  (i32.const {size}))",
    ].join("\n");
    expect(expandTemplate(source, { size: 12 }).split("\n")).toEqual([
      "(func",
      "  (loop $next",
      "    (i32.const 32)",
      "    (a $z0 offset=0)",
      "    (b $z0 12)",
      "    (a $z1 offset=16)",
      "    (b $z1 16)",
      "    (br $next))",
      "  (block $next",
      "    (i32.const 16)",
      "    (a $z0 offset=0)",
      "    (b $z0 12)",
      "    )",
      "  (i32.const 12))",
    ]);
  });

  it("keeps a part marked @if NAME … @endif only where the constant NAME is not 0, and fills in text constants", () => {
    const source = ["a {f}", ";; @if float32", "b", ";; @endif", ";; @if float64", "c {v}.add", ";; @endif", "d"].join("\n");
    expect(expandTemplate(source, { f: "f32", v: "f32x4", float32: 1, float64: 0 }).split("\n")).toEqual(["a f32", "", "b", "", "", "", "", "d"]);
    expect(expandTemplate(source, { f: "f64", v: "f64x2", float32: 0, float64: 1 }).split("\n")).toEqual(["a f64", "", "", "", "", "c f64x2.add", "", "d"]);
    expect(() => expandTemplate(";; @if float32\nb", { float32: 1 })).toThrow("kernel.wat:1: @if float32 without ;; @endif");
    expect(() => expandTemplate("b\n;; @endif", {})).toThrow("kernel.wat:2: @endif without @if");
    expect(() => expandTemplate(";; @if f\n;; @endif", { f: "f32" })).toThrow('kernel.wat:1: @if needs a number constant, "f" is not one');
  });

  it("names the line of a mistake", () => {
    expect(() => expandTemplate("x\n(i32.const {nope})", {})).toThrow('kernel.wat:2: unknown name "nope" in {nope}');
    expect(() => expandTemplate("  @lane (x)", {})).toThrow("kernel.wat:1: @lane (x) outside an @unroll");
    expect(() => expandTemplate(";; @unroll 2\n(x)", {})).toThrow("kernel.wat:1: @unroll without ;; @end");
    expect(() => expandTemplate(";; @unroll 2:twice\n;; @end", {})).toThrow("kernel.wat:1: bad width 2:twice");
  });

  it("kernel.wat expands to plain WebAssembly text: no directive or placeholder is left", async () => {
    const text = await kernelText();
    expect(text).not.toMatch(/@unroll|@lane|;; @end|[{}]/);
    // the three widths of both unrolled functions: 8 sums, then 4, then 1
    expect(text.match(/\(local\.set \$z7 \(f32x4\.add/g)).toHaveLength(1);
    expect(text.match(/\(local\.set \$g3 \(f32x4\.add/g)).toHaveLength(2);
    expect(text.match(/\(local\.set \$g0 \(f32x4\.add/g)).toHaveLength(3);
  });
});
