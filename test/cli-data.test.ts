import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fashionMnistClasses, fashionMnistDirectory, loadFashionMnist } from "../src/data/fashion-mnist.js";
import { loadModel } from "../src/index.js";
import { makeTempDir, removeTempDir, shoal, writeIdxFolder } from "./fixtures/cli-helpers.js";

// `shoal train` on each kind of --data other than the bundled digits (cli.test.ts), then evaluate
// and predict with the model it saved.
let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(() => removeTempDir(dir));

const parse = (stdout: string): Record<string, unknown>[] => stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

describe("--data fashion-mnist (the Debian package dataset-fashion-mnist)", () => {
  let model: string;
  let trained: Awaited<ReturnType<typeof shoal>>;
  beforeAll(async () => {
    model = path.join(dir, "fashion.json");
    trained = await shoal(["train", "--data", "fashion-mnist", "--limit", "5000", "--epochs", "1", "--threads", "2", "--seed", "1", "--json", "--out", model]);
  }, 60_000);

  it("trains one epoch on a 5,000-example slice and tests on all 10,000 test images", async () => {
    expect(trained.code, trained.stderr).toBe(0);
    const [epoch] = parse(trained.stdout);
    expect(epoch!.testAccuracy).toBeGreaterThan(0.3); // 10 classes: chance is 0.1
    const { metadata } = await loadModel(model);
    expect(metadata).toMatchObject({ data: "fashion-mnist", trainExamples: 5000, testExamples: 10000, epochs: 1, classNames: [...fashionMnistClasses] });
  });

  it("evaluate names the classes and uses the model's data by default", async () => {
    const { code, stdout } = await shoal(["evaluate", "--model", model, "--limit", "1000"]);
    expect(code).toBe(0);
    expect(stdout).toContain(`${model} on the fashion-mnist test set: `);
    expect(stdout).toContain("/ 1,000 correct (");
    for (const [c, name] of fashionMnistClasses.entries()) expect(stdout).toMatch(new RegExp(`^${c} ${name.replace("/", "\\/")}\\s+\\d+\\s+\\d+\\s+(\\d+\\.\\d\\d%|-)$`, "m"));
  });

  it("predict takes an image of the package's IDX file, with its name and true label", async () => {
    const file = path.join(fashionMnistDirectory, "t10k-images-idx3-ubyte.gz");
    const { code, stdout } = await shoal(["predict", "--model", model, file, "--index", "0", "--json"]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { predicted: number; name: string; expected: number; outputs: number[] };
    const { test } = await loadFashionMnist({ limit: 0, testLimit: 1 });
    const { network } = await loadModel(model);
    expect(result.expected).toBe(9); // the first test image is an ankle boot
    expect(result.predicted).toBe(network.predict(test.inputs));
    expect(result.name).toBe(fashionMnistClasses[result.predicted]);
    expect(result.outputs).toHaveLength(10);
  });
});

describe("--data <IDX folder>", () => {
  it("trains on the four standard files and evaluates on the t10k pair", async () => {
    const folder = path.join(dir, "idx");
    await mkdir(folder);
    await writeIdxFolder(folder);
    const model = path.join(dir, "idx.json");
    const trained = await shoal(["train", "--data", folder, "--hidden", "6", "--epochs", "40", "--threads", "0", "--seed", "2", "--json", "--out", model]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(parse(trained.stdout).at(-1)!.testAccuracy).toBe(1); // which pixel is bright: easy
    const evaluated = JSON.parse((await shoal(["evaluate", "--model", model, "--json"])).stdout) as { total: number; accuracy: number; confusion: number[][] };
    expect(evaluated).toMatchObject({ total: 15, accuracy: 1, confusion: [[5, 0, 0], [0, 5, 0], [0, 0, 5]] });
  });
});

describe("--data <file.csv>", () => {
  it("trains with a named label column, --scale and a --test-data file; predicts a row and inline values", async () => {
    // two features in 0..10, the class is which one is larger; the label is the LAST column
    const rows = (n: number, offset: number): string[] =>
      Array.from({ length: n }, (_, i) => {
        const [a, b] = [(i * 7 + offset) % 11, (i * 3 + 5 + offset) % 11];
        return a === b ? `${a},${(b + 4) % 11},${a > (b + 4) % 11 ? 0 : 1}` : `${a},${b},${a > b ? 0 : 1}`;
      });
    const train = path.join(dir, "train.csv");
    const test = path.join(dir, "test.csv");
    await writeFile(train, ["first,second,larger", ...rows(200, 0)].join("\n"));
    await writeFile(test, ["first,second,larger", ...rows(40, 1)].join("\n"));
    const model = path.join(dir, "csv.json");
    const args = ["--data", train, "--test-data", test, "--label-column", "larger", "--scale", "10"];
    const trained = await shoal(["train", ...args, "--hidden", "8", "--epochs", "60", "--eta", "2", "--threads", "0", "--seed", "4", "--json", "--out", model]);
    expect(trained.code, trained.stderr).toBe(0);
    const last = parse(trained.stdout).at(-1)!;
    expect(last.testAccuracy).toBeGreaterThan(0.9);
    const { network, metadata } = await loadModel(model);
    expect(network.sizes).toEqual([2, 8, 2]);
    expect(metadata).toMatchObject({ data: train, testData: test, labelColumn: "larger", scale: 10, trainExamples: 200, testExamples: 40 });

    // evaluate defaults to the test file, read with the same label column and scale
    const evaluated = JSON.parse((await shoal(["evaluate", "--model", model, "--json"])).stdout) as { total: number; accuracy: number };
    expect(evaluated).toEqual(expect.objectContaining({ total: 40, accuracy: last.testAccuracy }));

    const row = JSON.parse((await shoal(["predict", "--model", model, test, "--row", "5", "--label-column", "2", "--scale", "10", "--json"])).stdout) as { predicted: number; expected: number }; // line 5: data row 3
    const [a, b, label] = rows(40, 1)[3]!.split(",").map(Number) as [number, number, number];
    expect(row).toEqual(expect.objectContaining({ expected: label, predicted: network.predict([a / 10, b / 10]) }));
    // without --scale (or --label-column) a row is read as the training file was: the model's scale 10
    const bare = await shoal(["predict", "--model", model, test, "--row", "5"]);
    expect(bare.stdout).toContain(`input: ${test} row 5; divided by 10 (the model's --scale)\n`);
    expect(JSON.parse((await shoal(["predict", "--model", model, test, "--row", "5", "--json"])).stdout)).toEqual(row);

    const inline = await shoal(["predict", "--model", model, "0.9,0.1"]);
    expect(inline.code).toBe(0);
    expect(inline.stdout).toContain(`predicted: ${network.predict([0.9, 0.1])}\n`);
  });
});
