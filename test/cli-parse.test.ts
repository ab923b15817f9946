import { describe, expect, it } from "vitest";
import { UsageError } from "../src/cli/errors.js";
import { checkThreadsFit, integer, oneOf, positiveNumber, sizeList, threads } from "../src/cli/parse.js";

// The flag-value parsers behind `shoal`'s options, in process (cli-errors.test.ts runs the binary).
describe("flag values", () => {
  const bad = (parse: (v: string) => unknown, value: string, message: string): void => {
    expect(() => parse(value)).toThrow(UsageError);
    expect(() => parse(value)).toThrow(message);
  };

  it("positive numbers", () => {
    expect(positiveNumber("--eta")("3.0")).toBe(3);
    expect(positiveNumber("--eta")(".5")).toBe(0.5);
    expect(positiveNumber("--eta")("1e-3")).toBe(0.001);
    for (const v of ["0", "-1", "", "abc", "0x10", "Infinity", "NaN", "1,5"]) bad(positiveNumber("--eta"), v, `--eta must be a positive number, got ${v}`);
  });

  it("integers", () => {
    expect(integer("--epochs")("30")).toBe(30);
    expect(integer("--seed", 0)("0")).toBe(0);
    bad(integer("--epochs"), "2.5", "--epochs must be a positive integer, got 2.5");
    bad(integer("--epochs"), "0", "--epochs must be a positive integer, got 0");
    bad(integer("--seed", 0), "-1", "--seed must be an integer ≥ 0, got -1");
    bad(integer("--epochs"), "1e30", "--epochs must be a positive integer, got 1e30");
  });

  it("threads", () => {
    expect(threads("--threads")("auto")).toBe("auto");
    expect(threads("--threads")("0")).toBe(0);
    bad(threads("--threads"), "many", '--threads must be "auto" or an integer ≥ 0, got many');
    bad(threads("--threads"), "-2", '--threads must be "auto" or an integer ≥ 0, got -2');
  });

  it("threads: at most the machine's cores, when given", () => {
    expect(threads("--threads", 2)("2")).toBe(2);
    expect(threads("--threads", 2)("auto")).toBe("auto");
    bad(threads("--threads", 2), "64", "--threads 64 is more than this machine's 2 cores: give at most 2, or auto");
    expect(threads("--threads")("64")).toBe(64); // no bound given (a sweep over Redis: the workers' cores count)
    expect(() => checkThreadsFit("--threads", 3, 4)).not.toThrow();
    expect(() => checkThreadsFit("--threads", 5, 4)).toThrow("--threads 5 is more than this machine's 4 cores: give at most 4, or auto");
  });

  it("names from a list", () => {
    expect(oneOf("--cost", ["quadratic", "cross-entropy"])("cross-entropy")).toBe("cross-entropy");
    bad(oneOf("--cost", ["quadratic", "cross-entropy"]), "hinge", "--cost must be one of quadratic, cross-entropy, got hinge");
  });

  it("layer sizes", () => {
    expect(sizeList("--layers")("784, 30,10")).toEqual([784, 30, 10]);
    expect(sizeList("--hidden")("100")).toEqual([100]);
    bad(sizeList("--layers"), "784,0,10", "--layers must be comma-separated positive integers, got 784,0,10 (entry 2 is 0)");
    bad(sizeList("--layers"), "784,,10", "--layers must be comma-separated positive integers, got 784,,10 (entry 2 is empty)");
    bad(sizeList("--hidden"), "30.5", "--hidden must be comma-separated positive integers, got 30.5 (entry 1 is 30.5)");
  });
});
