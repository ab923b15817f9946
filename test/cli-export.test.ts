// `shoal export`: a model trained by `shoal train`, exported from the command line, runs in
// onnxruntime-node and as a plain ES module with shoal's answers and the model file's metadata;
// bad input is one line on stderr, the documented exit status, and no file (nor a stray *.tmp).
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../src/core/dataset.js";
import type { Network } from "../src/core/network.js";
import { loadModel } from "../src/io/model-file.js";
import { makeTempDir, removeTempDir, shoal } from "./fixtures/cli-helpers.js";
import { someDigits } from "./fixtures/digits.js";
import { runJsModule } from "./fixtures/js-module-runner.js";
import { readOnnx } from "./fixtures/onnx-reader.js";
import { runOnnx } from "./fixtures/onnx-runtime.js";
import { classesOf, feedforwardAll } from "./fixtures/shoal-outputs.js";

let dir: string;
let model: string;
let net: Network;
let metadata: Record<string, unknown> | undefined;
let test: Dataset;
beforeAll(async () => {
  dir = await makeTempDir();
  model = path.join(dir, "digits.shoal.json");
  const trained = await shoal(["train", "--hidden", "20", "--epochs", "1", "--limit", "2000", "--test-limit", "200", "--threads", "0", "--seed", "1", "--out", model, "--json"]);
  expect(trained.code, trained.stderr).toBe(0);
  ({ network: net, metadata } = await loadModel(model));
  test = (await someDigits(0, 1000)).test;
});
afterAll(() => removeTempDir(dir));

/** A fresh folder under the test's, for files one test writes. */
async function folder(name: string): Promise<string> {
  const f = path.join(dir, name);
  await mkdir(f);
  return f;
}

describe("shoal export", () => {
  it("--format onnx writes a file onnxruntime runs as shoal predicts, with the model file's metadata", async () => {
    const out = path.join(await folder("onnx"), "digits.onnx");
    const result = await shoal(["export", "--model", model, "--format", "onnx", "--out", out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^wrote ${out}: ONNX \\(IR version 7, opset 13\\), 784-20-10 sigmoid/sigmoid float32, \\d+ kB\\n$`));
    expect(result.stderr).toBe("");

    const answer = await runOnnx(out, test.inputs, 784, "float32");
    const shoalAnswer = feedforwardAll(net, test.inputs);
    expect(classesOf(answer.values, 10)).toEqual(shoalAnswer.classes);
    expect(answer.values.every((v, i) => Math.abs(v - shoalAnswer.outputs[i]!) < 1e-5)).toBe(true);

    const props = readOnnx(await readFile(out)).metadata;
    expect(props).toMatchObject({ sizes: "[784,20,10]", data: "mnist", trainExamples: "2000", seed: "1", testAccuracy: String(metadata!.testAccuracy) });
  });

  it("--format js writes a module a fresh node process imports, answering with shoal's very outputs", async () => {
    const where = await folder("js");
    const out = path.join(where, "digits.mjs");
    const result = await shoal(["export", "--model", model, "--format", "js", "--out", out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^wrote ${out}: an ES module exporting predict\\(\\), 784-20-10 sigmoid/sigmoid float32, \\d+ kB\\n$`));
    const inputs = test.inputs.subarray(0, 100 * 784);
    const answer = await runJsModule(where, out, inputs, 784);
    const shoalAnswer = feedforwardAll(net, inputs);
    expect(answer.outputs.every((v, i) => Object.is(v, shoalAnswer.outputs[i]))).toBe(true);
    expect(answer.classes).toEqual(shoalAnswer.classes);
    expect(answer.metadata).toMatchObject({ data: "mnist", seed: 1, testAccuracy: metadata!.testAccuracy });
  });

  it("--force overwrites an existing file", async () => {
    const out = path.join(await folder("force"), "m.onnx");
    await writeFile(out, "old");
    const result = await shoal(["export", "--model", model, "--format", "onnx", "--out", out, "--force"]);
    expect(result.code, result.stderr).toBe(0);
    expect(readOnnx(await readFile(out)).producer).toBe("shoal");
  });
});

describe("shoal export refuses bad input: one line, the documented exit status, no file written", () => {
  /** Runs the command, expects `code` and the one line, and returns what the folder holds afterwards. */
  async function fails(args: string[], code: number, message: string, where: string): Promise<string[]> {
    const result = await shoal(["export", ...args]);
    expect(result.code, result.stderr).toBe(code);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`shoal: ${message}\n`);
    return (await readdir(where)).sort();
  }

  it("an unknown format: exit 2", async () => {
    const where = await folder("format");
    const out = path.join(where, "m.tflite");
    expect(await fails(["--model", model, "--format", "tflite", "--out", out], 2, "--format must be one of onnx, js, got tflite", where)).toEqual([]);
  });

  it("an existing output file without --force: exit 2, the file untouched", async () => {
    const where = await folder("exists");
    const out = path.join(where, "m.onnx");
    await writeFile(out, "keep me");
    expect(await fails(["--model", model, "--format", "onnx", "--out", out], 2, `--out ${out} exists: give --force to overwrite it, or another file name`, where)).toEqual(["m.onnx"]);
    expect(await readFile(out, "utf8")).toBe("keep me");
  });

  it("an output path in a missing folder: exit 1", async () => {
    const where = await folder("missing");
    const out = path.join(where, "nope", "m.onnx");
    expect(await fails(["--model", model, "--format", "onnx", "--out", out], 1, `--out ${out}: folder ${path.dirname(out)} does not exist`, where)).toEqual([]);
  });

  it("an output path that is a folder: exit 1", async () => {
    const where = await folder("is-folder");
    expect(await fails(["--model", model, "--format", "js", "--out", where], 1, `--out ${where} is a folder, expected a file name`, where)).toEqual([]);
  });

  it("a model with a non-finite parameter: exit 1, and with --force the existing file stays as it was", async () => {
    const where = await folder("non-finite");
    const bad = path.join(where, "bad.shoal.json");
    // JSON has no NaN or Infinity, but 1e999 reads as Infinity
    await writeFile(bad, (await readFile(model, "utf8")).replace(/"weights":\[\[\[[^,\]]+/, '"weights":[[[1e999'));
    const out = path.join(where, "m.onnx");
    await writeFile(out, "previous export");
    const files = await fails(["--model", bad, "--format", "onnx", "--out", out, "--force"], 1, `${bad}: weights[0][0][0] is Infinity, expected a finite number`, where);
    expect(files).toEqual(["bad.shoal.json", "m.onnx"]);
    expect(await readFile(out, "utf8")).toBe("previous export");
  });

  it("--out naming the model file itself, even with --force: exit 2, the model kept", async () => {
    const where = await folder("same-file");
    const copy = path.join(where, "m.shoal.json");
    const text = await readFile(model, "utf8");
    await writeFile(copy, text);
    expect(await fails(["--model", copy, "--format", "js", "--out", copy, "--force"], 2, `--out ${copy} is the model file: give another file name`, where)).toEqual(["m.shoal.json"]);
    expect(await readFile(copy, "utf8")).toBe(text);
  });

  it("a missing --format: exit 2", async () => {
    const where = await folder("no-format");
    expect(await fails(["--model", model, "--out", path.join(where, "m.onnx")], 2, "required option '--format <format>' not specified", where)).toEqual([]);
  });
});
