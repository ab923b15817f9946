import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import pngjs from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Network } from "../src/index.js";
import { saveNetwork } from "../src/io/model-file.js";
import { makeTempDir, removeTempDir, root, shoal } from "./fixtures/cli-helpers.js";

// What `shoal` tells a new user besides its results: its version, and warnings and hints on stderr
// that leave the exit status and stdout as they were.
let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(() => removeTempDir(dir));

/** A width × height PNG whose grey level at (x, y) is `grey(x, y)` (0–255). */
async function writeGreyPng(file: string, width: number, height: number, grey: (x: number, y: number) => number): Promise<void> {
  const image = new pngjs.PNG({ width, height });
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) image.data.set([grey(x, y), grey(x, y), grey(x, y), 255], 4 * (y * width + x));
  await writeFile(file, pngjs.PNG.sync.write(image));
}

describe("shoal --version", () => {
  it("prints the package's version, with --version and -V", async () => {
    const { version } = JSON.parse(await readFile(path.join(root, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const { code, stdout, stderr } = await shoal([flag]);
      expect(code, stderr).toBe(0);
      expect(stdout).toBe(`${version}\n`);
    }
  });
});

describe("shoal predict of an image with no ink", () => {
  let model: string;
  beforeAll(async () => {
    model = path.join(dir, "digits.shoal.json");
    await saveNetwork(Network.create([784, 10, 10], { seed: 1 }), model);
  });

  it("answers, exit 0, and warns on stderr that the image has no ink", async () => {
    for (const grey of [255, 0, 128]) {
      const file = path.join(dir, `blank-${grey}.png`);
      await writeGreyPng(file, 40, 30, () => grey);
      const { code, stdout, stderr } = await shoal(["predict", "--model", model, file, "--json"]);
      expect(code, stderr).toBe(0);
      expect(JSON.parse(stdout)).toHaveProperty("predicted");
      expect(stderr).toBe(`shoal: warning: ${file} (40×30) has no ink (the image is all one colour): the prediction means nothing\n`);
    }
  });

  it("says nothing about an image with ink", async () => {
    const file = path.join(dir, "stroke.png");
    await writeGreyPng(file, 28, 28, (x, y) => (x >= 12 && x <= 15 && y >= 4 && y <= 23 ? 255 : 0));
    const { code, stderr } = await shoal(["predict", "--model", model, file]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
  });
});

describe("shoal train at chance level", () => {
  it("hints once on stderr (smaller --eta, scaled init) when two epochs in a row end at chance level", async () => {
    // the feature says nothing about the label: a network can only answer one class for all, 50%
    const csv = path.join(dir, "noise.csv");
    await writeFile(csv, `label,x\n${"0,0.5\n1,0.5\n".repeat(10)}`);
    const out = path.join(dir, "noise.shoal.json");
    const { code, stdout, stderr } = await shoal(["train", "--data", csv, "--test-data", csv, "--hidden", "3", "--weight-init", "gaussian", "--epochs", "3", "--threads", "0", "--seed", "1", "--out", out, "--json"]);
    expect(code, stderr).toBe(0);
    expect(stdout.trim().split("\n").map((l) => (JSON.parse(l) as { testAccuracy: number }).testAccuracy)).toEqual([0.5, 0.5, 0.5]);
    const hints = stderr.split("\n").filter((l) => l.startsWith("shoal: hint:"));
    expect(hints).toEqual([
      "shoal: hint: epoch 2 ended at chance level (test 50.00% with 2 classes): the network is not learning. " +
        "Try a smaller --eta than 3 (relu and tanh often need 0.01–0.5); --weight-init scaled-gaussian.",
    ]);
  });

  it("hints after the last epoch, and suggests a sigmoid output layer when the outputs are relu", async () => {
    const csv = path.join(dir, "noise.csv");
    const out = path.join(dir, "relu.shoal.json");
    const { code, stderr } = await shoal(["train", "--data", csv, "--test-data", csv, "--hidden", "3", "--activation", "relu", "--weight-init", "scaled-gaussian", "--epochs", "1", "--threads", "0", "--seed", "1", "--out", out]);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("Try --output-activation sigmoid (relu outputs stuck at 0 stop learning); a smaller --eta than 3");
    expect(stderr).not.toContain("--weight-init");
  });

  it("says nothing when the network learns (here after one epoch at chance; N(0,1) weights, as when this was measured)", async () => {
    const csv = path.join(dir, "signal.csv");
    await writeFile(csv, `label,x\n${"0,0\n1,1\n".repeat(10)}`);
    const out = path.join(dir, "signal.shoal.json");
    const { code, stdout, stderr } = await shoal(["train", "--data", csv, "--test-data", csv, "--hidden", "3", "--epochs", "30", "--threads", "0", "--seed", "1", "--weight-init", "gaussian", "--out", out, "--json"]);
    expect(code, stderr).toBe(0);
    expect((JSON.parse(stdout.trim().split("\n").at(-1)!) as { testAccuracy: number }).testAccuracy).toBe(1);
    expect(stderr).not.toContain("hint");
  });
});

describe("CSV rows are counted one way: as lines of the file, from 1", () => {
  it("the row a CSV error names is the row --row picks; the header is line 1, blank lines count", async () => {
    const csv = path.join(dir, "rows.csv");
    await writeFile(csv, "label,a,b\n0,0.1,0.2\n\n1,x,0.3\n1,0.5,0.6\n");
    const model = path.join(dir, "two.shoal.json");
    await saveNetwork(Network.create([2, 3, 2], { seed: 1 }), model);

    const loading = await shoal(["train", "--data", csv, "--epochs", "1", "--threads", "0", "--out", path.join(dir, "rows.shoal.json")]);
    expect(loading.code).toBe(1);
    expect(loading.stderr).toMatch(new RegExp(`^shoal: ${csv}: row 4, `));
    const predicting = await shoal(["predict", "--model", model, csv, "--row", "4"]);
    expect(predicting.code).toBe(1);
    expect(predicting.stderr).toBe(`shoal: ${csv}: row 4, value 1: "x" is not a number\n`);

    const fifth = await shoal(["predict", "--model", model, csv, "--row", "5", "--json"]);
    expect(fifth.code, fifth.stderr).toBe(0);
    expect(JSON.parse(fifth.stdout)).toMatchObject({ input: `${csv} row 5`, expected: 1 });
    const first = await shoal(["predict", "--model", model, csv, "--json"]); // default: the first data row
    expect(JSON.parse(first.stdout)).toMatchObject({ input: `${csv} row 2`, expected: 0 });

    const header = await shoal(["predict", "--model", model, csv, "--row", "1"]);
    expect(header.code).toBe(2);
    expect(header.stderr).toBe(`shoal: --row 1 is the header of ${csv}: its data rows are lines 2..5 (rows are counted as lines of the file, from 1, as in error messages)\n`);
    const blank = await shoal(["predict", "--model", model, csv, "--row", "3"]);
    expect(blank.code).toBe(2);
    expect(blank.stderr).toContain("--row 3 is not a data row of");
  });
});
