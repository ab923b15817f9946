import { mkdir, readFile, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { idxBytes, makeTempDir, removeTempDir, shoal, writeIdxFolder } from "./fixtures/cli-helpers.js";

// Every bad input exits non-zero with one line `shoal: <what is wrong>` on stderr, no stack trace
// and nothing on stdout: 2 for a bad command line, 1 for bad files and data.
let dir: string;
let model: string;
beforeAll(async () => {
  dir = await makeTempDir();
  // a tiny model for the commands that need one: 2×2 images of 3 classes
  await writeIdxFolder(dir);
  model = path.join(dir, "tiny.json");
  const { code, stderr } = await shoal(["train", "--data", dir, "--hidden", "4", "--epochs", "1", "--threads", "0", "--seed", "1", "--out", model, "--json"]);
  expect(code, stderr).toBe(0);
});
afterAll(() => removeTempDir(dir));

async function fails(args: string[], code: number, message: string | RegExp): Promise<void> {
  const result = await shoal(args);
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  if (typeof message === "string") expect(lines[0]).toBe(`shoal: ${message}`);
  else expect(lines[0]).toMatch(message);
}

/** A copy of the tiny IDX folder in a new subfolder, with one file replaced. */
async function brokenFolder(name: string, file: string, bytes: Buffer): Promise<string> {
  const broken = path.join(dir, name);
  await mkdir(broken);
  await writeIdxFolder(broken);
  await writeFile(path.join(broken, file), bytes);
  return broken;
}

describe("bad command lines exit 2", () => {
  it("an unknown flag", () => fails(["train", "--bogus"], 2, "unknown option '--bogus'"));
  it("an unknown command, with a suggestion on the same line", () => fails(["trian"], 2, "unknown command 'trian' (Did you mean train?)"));
  it("--eta -1", () => fails(["train", "--eta", "-1"], 2, "--eta must be a positive number, got -1"));
  it("--layers 784,0,10", () => fails(["train", "--layers", "784,0,10"], 2, "--layers must be comma-separated positive integers, got 784,0,10 (entry 2 is 0)"));
  it("a missing required --model", () => fails(["evaluate"], 2, "required option '--model <file>' not specified"));
  it("--layers that do not fit the data", () =>
    fails(["train", "--data", dir, "--layers", "784,30,3"], 2, `--layers 784,30,3 starts with 784, but ${dir} has 4 inputs per example`));
  it("softmax: the output layer's only, and only with --cost log-likelihood (refused before any data loads)", async () => {
    await fails(["train", "--activation", "softmax"], 2, "--activation softmax: softmax is for the output layer only; give --output-activation softmax --cost log-likelihood");
    await fails(["train", "--output-activation", "softmax"], 2, "--output-activation softmax needs --cost log-likelihood, got quadratic (the default)");
    await fails(["train", "--output-activation", "softmax", "--cost", "quadratic"], 2, "--output-activation softmax needs --cost log-likelihood, got quadratic");
    await fails(["train", "--output-activation", "softmax", "--cost", "cross-entropy"], 2, "--cost cross-entropy needs --output-activation sigmoid, got softmax");
    await fails(["train", "--cost", "log-likelihood", "--output-activation", "sigmoid"], 2, "--cost log-likelihood needs --output-activation softmax, got sigmoid");
    // the data is never read: a missing data folder is not what is reported
    await fails(["train", "--data", path.join(dir, "missing"), "--cost", "log-likelihood", "--output-activation", "tanh"], 2, "--cost log-likelihood needs --output-activation softmax, got tanh");
  });
  it("--init-model with an architecture flag", () =>
    fails(["train", "--init-model", "m.json", "--hidden", "100"], 2, "--hidden cannot be combined with --init-model: the model file fixes the network"));
  it("--validation as large as the training set", () =>
    fails(["train", "--data", dir, "--validation", "60"], 2, "--validation 60 leaves no training examples: the training set has 60"));
  it("a CSV flag with IDX data", () => fails(["train", "--data", dir, "--scale", "255"], 2, `--scale applies to CSV data only, but --data is ${dir}`));
  it("more --threads than cores, for train, worker and sweep (as the background trainer refuses)", async () => {
    const cores = availableParallelism();
    const message = `--threads ${cores + 1} is more than this machine's ${cores} cores: give at most ${cores}, or auto`;
    await fails(["train", "--data", dir, "--threads", String(cores + 1)], 2, message);
    await fails(["worker", "--redis", "redis://127.0.0.1:1", "--threads", String(cores + 1)], 2, message);
    await fails(["sweep", "--threads", String(cores + 1)], 2, message);
  });
  it("--plot with a name other than .svg (it writes SVG)", async () => {
    for (const name of ["curve.png", "curve", "curve.svg.txt"]) {
      await fails(["train", "--plot", name], 2, `--plot ${name}: the learning curve is written as SVG (PNG would need a canvas), so the file name must end in .svg`);
    }
  });
  it("--index past the end of an IDX file", () =>
    fails(["predict", "--model", model, path.join(dir, "t10k-images-idx3-ubyte"), "--index", "15"], 2,
      `--index 15 is out of range: ${path.join(dir, "t10k-images-idx3-ubyte")} has 15 images (0..14)`));
});

describe("bad files and data exit 1", () => {
  it("a missing data file", () => {
    const file = path.join(dir, "nope.csv");
    return fails(["train", "--data", file], 1, `${file}: no such file or folder (--data takes mnist, fashion-mnist, an IDX folder or a CSV file)`);
  });

  it("a truncated IDX file", async () => {
    const full = await readFile(path.join(dir, "train-images-idx3-ubyte"));
    const broken = await brokenFolder("truncated", "train-images-idx3-ubyte", full.subarray(0, full.length - 7));
    const file = path.join(broken, "train-images-idx3-ubyte");
    await fails(["train", "--data", broken], 1, `${file}: truncated: header declares 60 images of 2×2 = 240 bytes, file has 233 bytes after the header`);
  });

  it("images and labels of different counts", async () => {
    const broken = await brokenFolder("mismatch", "train-labels-idx1-ubyte", idxBytes([59], new Array<number>(59).fill(1)));
    await fails(["train", "--data", broken], 1,
      `${path.join(broken, "train-images-idx3-ubyte")}: 60 images, but ${path.join(broken, "train-labels-idx1-ubyte")} has 59 labels; the counts must match`);
  });

  it("a CSV cell that is not a number", async () => {
    const file = path.join(dir, "bad.csv");
    await writeFile(file, "label,x1,x2\n0,0.5,1\n1,0.25,abc\n");
    await fails(["train", "--data", file], 1, `${file}: row 3, column "x2": "abc" is not a number`);
  });

  it("a missing model file", () => {
    const file = path.join(dir, "none.json");
    return fails(["info", "--model", file], 1, `cannot read model file ${file}: ENOENT: no such file or directory, open '${file}'`);
  });

  it("a model file that is not JSON", async () => {
    const file = path.join(dir, "broken.json");
    await writeFile(file, '{"sizes": [2, 2');
    await fails(["evaluate", "--model", file, "--data", dir], 1, new RegExp(`^shoal: ${file} is not valid JSON \\(truncated\\?\\): `));
  });

  it("data that does not fit the model", () =>
    fails(["evaluate", "--model", model, "--data", "mnist"], 1, `${model} takes 4 inputs, but mnist has 784 per example`));

  it("a file predict cannot read", async () => {
    const file = path.join(dir, "picture.png");
    await writeFile(file, "not a picture");
    await fails(["predict", "--model", model, file], 1, `${file}: not a PNG, IDX or .csv file`);
  });

  it("an --out folder that does not exist, before any training", () => {
    const file = path.join(dir, "no", "such", "m.json");
    return fails(["train", "--data", dir, "--out", file], 1, `--out ${file}: folder ${path.dirname(file)} does not exist`);
  });
});
