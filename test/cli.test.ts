import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import pngjs from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnistDigits, loadModel, sliceDataset, type Network } from "../src/index.js";
import { idxBytes, makeTempDir, removeTempDir, shoal } from "./fixtures/cli-helpers.js";

// One real run of `shoal train` on the bundled digits (8,000 train: the last 1,000 held out for
// validation; 2,000 test), shared by the tests below, which then evaluate, inspect and query its model.
const epochs = 2;
let dir: string;
let model: string;
let plot: string;
let run: Awaited<ReturnType<typeof shoal>>;
let lines: Record<string, unknown>[];
let net: Network;
let metadata: Record<string, unknown>;

beforeAll(async () => {
  dir = await makeTempDir();
  model = path.join(dir, "digits.json");
  plot = path.join(dir, "curve.svg");
  run = await shoal([
    "train", "--epochs", String(epochs), "--validation", "1000", "--validation-split", "last", "--seed", "1", "--threads", "2",
    "--json", "--out", model, "--plot", plot,
  ]);
  lines = run.stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
  ({ network: net, metadata = {} } = await loadModel(model));
}, 60_000);

afterAll(() => removeTempDir(dir));

/** Pixels quantised to bytes, as a PNG or IDX file holds them. */
function asBytes(pixels: Float32Array): Uint8Array {
  return Uint8Array.from(pixels, (v) => Math.round(v * 255));
}

async function testDigit(i: number): Promise<{ bytes: Uint8Array; label: number }> {
  const { test } = await loadMnistDigits();
  const labels = test.targets.kind === "labels" ? test.targets.labels : new Int32Array();
  return { bytes: asBytes((test.inputs as Float32Array).subarray(i * 784, (i + 1) * 784)), label: labels[i]! };
}

function writePng(file: string, width: number, height: number, rgba: (x: number, y: number) => [number, number, number, number], colorType: 0 | 2 | 6): Promise<void> {
  const png = new pngjs.PNG({ width, height, colorType, inputColorType: 6, inputHasAlpha: true });
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) png.data.set(rgba(x, y), 4 * (y * width + x));
  return writeFile(file, pngjs.PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true }));
}

describe("shoal train --json", () => {
  it("exits 0 and prints one JSON object per epoch on stdout, nothing else", () => {
    expect(run.code, run.stderr).toBe(0);
    expect(lines).toHaveLength(epochs);
    lines.forEach((line, i) => {
      expect(Object.keys(line).sort()).toEqual(["cost", "epoch", "eta", "examplesPerSecond", "parallelism", "seconds", "testAccuracy", "threads", "threadsReason", "validationAccuracy"]);
      expect([line.threads, line.threadsReason]).toEqual([2, "2 threads, as asked"]);
      expect(line.epoch).toBe(i + 1);
      for (const key of ["testAccuracy", "validationAccuracy"]) {
        expect(line[key]).toBeGreaterThan(0.5); // two epochs of 784-30-10 on 7,000 digits: well above chance
        expect(line[key]).toBeLessThanOrEqual(1);
      }
      expect(line.cost).toBeGreaterThan(0);
      expect(line.examplesPerSecond).toBeGreaterThan(0);
      expect(line.seconds).toBeGreaterThan(0);
    });
  });

  it("saves the model of the last epoch with how it was trained", () => {
    expect(net.sizes).toEqual([784, 30, 10]);
    expect(metadata).toMatchObject({
      data: "mnist", trainExamples: 7000, validationExamples: 1000, testExamples: 2000, epochs,
      batch: 10, eta: 3, seed: 1, threads: 2, threadsReason: "2 threads, as asked", shuffle: true, weightInit: "scaled-gaussian", validationSplit: "last",
      testAccuracy: lines[epochs - 1]!.testAccuracy, validationAccuracy: lines[epochs - 1]!.validationAccuracy,
    });
    expect(Number.isNaN(Date.parse(metadata.date as string))).toBe(false);
  });

  it("holds out the LAST examples for validation and tests on the test set", async () => {
    const { train, test } = await loadMnistDigits();
    expect(net.evaluate(test).accuracy).toBe(lines[epochs - 1]!.testAccuracy);
    expect(net.evaluate(sliceDataset(train, 7000)).accuracy).toBe(lines[epochs - 1]!.validationAccuracy);
  });

  it("writes the learning curve as an SVG with the data, axis titles and a legend", async () => {
    const svg = await readFile(plot, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(wellFormed(svg)).toBe(true);
    for (const title of ["epoch", "accuracy (%)", "training cost", "test", "validation", "784-30-10 on mnist"]) {
      expect(svg).toContain(`>${title}</text>`);
    }
    // one point per epoch and series, labelled (for screen readers) with its values
    const points = [...svg.matchAll(/<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="point"/g)].map((m) => m[1]!);
    expect(points).toHaveLength(3 * epochs);
    const value = (label: string | undefined, name: string): number => Number(new RegExp(`${name}: ([\\d.]+)`).exec(label ?? "")?.[1]);
    for (const line of lines) {
      const at = (series: string): string | undefined => points.find((p) => p.startsWith(`epoch: ${line.epoch};`) && p.includes(series));
      expect(value(at("series: test"), "accuracy \\(%\\)")).toBeCloseTo((line.testAccuracy as number) * 100, 2);
      expect(value(at("series: validation"), "accuracy \\(%\\)")).toBeCloseTo((line.validationAccuracy as number) * 100, 2);
      expect(value(at("training cost"), "training cost")).toBeCloseTo(line.cost as number, 4);
    }
    expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // nothing to fetch
  });

  it("leaves no temporary files", async () => {
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});

describe("shoal evaluate", () => {
  it("prints accuracy, per-class accuracy and the confusion matrix", async () => {
    const { code, stdout } = await shoal(["evaluate", "--model", model]);
    expect(code).toBe(0);
    const accuracy = ((lines[epochs - 1]!.testAccuracy as number) * 100).toFixed(2);
    expect(stdout).toContain(`on the mnist test set: `);
    expect(stdout).toContain(`/ 2,000 correct (${accuracy}%)`);
    expect(stdout).toMatch(/^class\s+examples\s+correct\s+accuracy$/m);
    expect(stdout).toContain("confusion matrix (rows: true class, columns: predicted class)");
    expect(stdout).toMatch(/^\s+0\s+1\s+2\s+3\s+4\s+5\s+6\s+7\s+8\s+9$/m);
  });

  it("--json: the confusion matrix adds up to the test set", async () => {
    const { code, stdout } = await shoal(["evaluate", "--model", model, "--json"]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { correct: number; total: number; accuracy: number; confusion: number[][]; perClass: { total: number; correct: number }[] };
    expect(result.total).toBe(2000);
    expect(result.accuracy).toBe(lines[epochs - 1]!.testAccuracy);
    expect(result.confusion.flat().reduce((a, b) => a + b, 0)).toBe(2000);
    expect(result.confusion.reduce((sum, row, c) => sum + row[c]!, 0)).toBe(result.correct);
    expect(result.perClass.map((c) => c.total)).toEqual(result.confusion.map((row) => row.reduce((a, b) => a + b, 0)));
  });
});

describe("shoal info", () => {
  it("shows layers, parameters, activation, cost, dtype and the training metadata", async () => {
    const { code, stdout } = await shoal(["info", "--model", model]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^layers\s+784-30-10 \(1 hidden\)$/m);
    expect(stdout).toMatch(/^parameters\s+23,860 \(23,820 weights, 40 biases\)$/m);
    expect(stdout).toMatch(/^activation\s+sigmoid$/m);
    expect(stdout).toMatch(/^cost\s+quadratic$/m);
    expect(stdout).toMatch(/^dtype\s+float32$/m);
    expect(stdout).toMatch(/^ {2}data\s+mnist$/m);
    expect(stdout).toMatch(new RegExp(`^ {2}testAccuracy\\s+${((metadata.testAccuracy as number) * 100).toFixed(2)}%$`, "m"));
  });
});

describe("shoal predict", () => {
  it("a 28×28 grayscale PNG of a test digit: the class and outputs net.predict gives on its pixels", async () => {
    const { bytes } = await testDigit(0);
    const file = path.join(dir, "digit.png");
    await writePng(file, 28, 28, (x, y) => { const v = bytes[y * 28 + x]!; return [v, v, v, 255]; }, 0);
    const { code, stdout, stderr } = await shoal(["predict", "--model", model, file, "--json"]);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as { predicted: number; outputs: number[] };
    const pixels = Array.from(bytes, (v) => v / 255);
    expect(result.predicted).toBe(net.predict(pixels));
    const expected = net.feedforward(pixels);
    result.outputs.forEach((v, c) => expect(v).toBeCloseTo(expected[c]!, 12));
  });

  it("a larger RGB PNG with dark ink on white is inverted, scaled and centred like MNIST", async () => {
    const { bytes } = await testDigit(0);
    const file = path.join(dir, "digit-rgb.png");
    // 3× larger, black on white, off-centre on a 100 × 90 canvas
    await writePng(file, 100, 90, (x, y) => {
      const [sx, sy] = [Math.floor((x - 10) / 3), Math.floor((y - 2) / 3)];
      const v = sx >= 0 && sx < 28 && sy >= 0 && sy < 28 ? bytes[sy * 28 + sx]! : 0;
      return [255 - v, 255 - v, 255 - v, 255];
    }, 2);
    const plain = await shoal(["predict", "--model", model, file]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain("(100×90); inverted");
    expect(plain.stdout).toMatch(/centred by mass in 28×28/);
    const json = JSON.parse((await shoal(["predict", "--model", model, file, "--json"])).stdout) as { predicted: number };
    expect(json.predicted).toBe(net.predict(Array.from(bytes, (v) => v / 255)));
  });

  it("an image of an IDX file (--index), with the label from the labels file beside it", async () => {
    const digits = await Promise.all([0, 1, 2].map(testDigit));
    const images = path.join(dir, "some-images-idx3-ubyte");
    await writeFile(images, idxBytes([3, 28, 28], digits.flatMap((d) => Array.from(d.bytes))));
    await writeFile(path.join(dir, "some-labels-idx1-ubyte"), idxBytes([3], digits.map((d) => d.label)));
    const { code, stdout } = await shoal(["predict", "--model", model, images, "--index", "2", "--json"]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { predicted: number; expected: number };
    expect(result.expected).toBe(digits[2]!.label);
    expect(result.predicted).toBe(net.predict(Array.from(digits[2]!.bytes, (v) => v / 255)));
  });

  it("a CSV row (--row, label column dropped, --scale) and inline values", async () => {
    const digits = await Promise.all([3, 4].map(testDigit));
    const csv = path.join(dir, "digits.csv");
    const header = ["label", ...Array.from({ length: 784 }, (_, k) => `p${k}`)].join(",");
    await writeFile(csv, [header, ...digits.map((d) => [d.label, ...d.bytes].join(","))].join("\n") + "\n");
    const row = await shoal(["predict", "--model", model, csv, "--row", "3", "--scale", "255", "--json"]); // line 3: the second data row
    expect(row.code, row.stderr).toBe(0);
    const pixels = Array.from(digits[1]!.bytes, (v) => v / 255);
    expect(JSON.parse(row.stdout)).toMatchObject({ predicted: net.predict(pixels), expected: digits[1]!.label });

    const inline = await shoal(["predict", "--model", model, pixels.join(",")]);
    expect(inline.code).toBe(0);
    expect(inline.stdout).toContain(`predicted: ${net.predict(pixels)}\n`);
    expect(inline.stdout.match(/^ {2}\d\s+\d\.\d{4}/gm)).toHaveLength(10); // every output activation
  });
});

describe("shoal train --init-model, without a terminal", () => {
  it("continues from a saved model and prints plain lines", async () => {
    const tuned = path.join(dir, "tuned.json");
    const { code, stdout } = await shoal([
      "train", "--init-model", model, "--epochs", "1", "--limit", "1000", "--test-limit", "200", "--threads", "0", "--seed", "3", "--out", tuned,
    ]);
    expect(code).toBe(0);
    const out = stdout.trim().split("\n");
    expect(out[0]).toBe(`training 784-30-10 from ${model} on mnist: 1,000 examples, testing on 200`);
    expect(out[1]).toBe("sigmoid, quadratic cost, float32, scaled-gaussian init, η 3, batch 10, 1 epoch, in process, seed 3");
    expect(out[2]).toMatch(/^epoch 1\/1 {2}cost \d\.\d{4} {2}test \d+\.\d\d% {2}[\d,]+ examples\/s {2}\d+\.\d+ s$/);
    expect(out[3]).toMatch(new RegExp(`^1 epoch in .*; in process; test accuracy .*; saved ${tuned}$`));
    const { network, metadata: meta } = await loadModel(tuned);
    expect(meta).toMatchObject({ initModel: model, epochs: 1, trainExamples: 1000, threads: 0 });
    expect(Array.from(network.params)).not.toEqual(Array.from(net.params));
  });

  it("still takes the old name --init, with one note on stderr, and refuses both names at once", async () => {
    const old = path.join(dir, "old-flag.json");
    const { code, stdout, stderr } = await shoal([
      "train", "--init", model, "--epochs", "1", "--limit", "100", "--test-limit", "50", "--threads", "0", "--seed", "3", "--json", "--out", old,
    ]);
    expect(code, stderr).toBe(0);
    expect(stderr.split("\n").filter((line) => line.includes("--init"))).toEqual(["shoal: note: --init is now --init-model"]);
    expect(stdout.trim().split("\n").map((line) => JSON.parse(line) as { epoch: number }).map((r) => r.epoch)).toEqual([1]);
    expect((await loadModel(old)).metadata).toMatchObject({ initModel: model, trainExamples: 100 });

    const both = await shoal(["train", "--init", model, "--init-model", model]);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe("shoal: option '--init <model>' cannot be used with option '--init-model <model>'\n");
  });
});

/** Every tag closed in order (the SVG vega writes has no comments, CDATA or processing instructions). */
function wellFormed(xml: string): boolean {
  const stack: string[] = [];
  for (const [, close, name, , selfClosing] of xml.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g)) {
    if (selfClosing) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0;
}
