import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../src/index.js";
import { makeTempDir, removeTempDir, shoal } from "./fixtures/cli-helpers.js";

// The README's CSV example, run as written on an iris-like file whose classes are names (one of
// them with a comma, so quoted) and whose header has a quoted name with a comma; then evaluate and
// predict show the names.
let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(() => removeTempDir(dir));

const species = ["versicolor", "setosa", "virginica, Virginia iris"]; // first appearance is not sorted order
const centres: Record<string, number[]> = {
  setosa: [5.0, 3.4, 1.5, 0.2],
  versicolor: [5.9, 2.8, 4.3, 1.3],
  "virginica, Virginia iris": [6.6, 3.0, 5.6, 2.0],
};

/** An iris-like CSV: n rows, the species in the last column, every feature a little off its class centre. */
function irisCsv(n: number, names = species, newline = "\n"): string {
  const rows = Array.from({ length: n }, (_, i) => {
    const name = names[i % names.length]!;
    const features = centres[name]!.map((v, k) => (v + (((i * 7 + k * 13) % 11) - 5) * 0.03).toFixed(2));
    return [...features, `"${name}"`].join(",");
  });
  return ['"sepal length, cm",sepal_width,petal_length,petal_width,species', ...rows].join(newline) + newline;
}

const parse = (stdout: string): Record<string, unknown>[] => stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

describe("CSV labels that are class names", () => {
  let trained: Awaited<ReturnType<typeof shoal>>;
  beforeAll(async () => {
    await writeFile(path.join(dir, "iris.csv"), irisCsv(150, species, "\r\n"));
    // exactly the README's command, from the folder that holds iris.csv
    trained = await shoal(["train", "--data", "iris.csv", "--label-column", "species", "--hidden", "8", "--json"], 60_000, dir);
  }, 60_000);

  it("npx shoal train --data iris.csv --label-column species --hidden 8 --json trains, and the model keeps the names", async () => {
    expect(trained.code, trained.stderr).toBe(0);
    expect(parse(trained.stdout)).toHaveLength(30);
    const { network, metadata } = await loadModel(path.join(dir, "iris.shoal.json"));
    expect(network.sizes).toEqual([4, 8, 3]);
    expect(metadata).toMatchObject({ data: "iris.csv", labelColumn: "species", classNames: ["setosa", "versicolor", "virginica, Virginia iris"] });
  });

  it("evaluate shows the class names", async () => {
    const { code, stdout, stderr } = await shoal(["evaluate", "--model", "iris.shoal.json", "--json"], 60_000, dir);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as { perClass: { name: string; total: number }[] };
    // (how well it learned depends on the unseeded initial weights: the README command gives no --seed)
    expect(result.perClass.map((c) => [c.name, c.total])).toEqual([["setosa", 50], ["versicolor", 50], ["virginica, Virginia iris", 50]]);
    const text = await shoal(["evaluate", "--model", "iris.shoal.json"], 60_000, dir);
    expect(text.stdout).toMatch(/^1 versicolor\s+50\s/m);
  });

  it("predict shows the predicted and the expected class by name", async () => {
    const { code, stdout, stderr } = await shoal(["predict", "--model", "iris.shoal.json", "iris.csv", "--row", "3", "--json"], 60_000, dir);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as { predicted: number; name: string; expected: number };
    expect(result.expected).toBe(0); // line 3 (the second data row) is a setosa, class 0 in sorted order
    expect(result.name).toBe(["setosa", "versicolor", "virginica, Virginia iris"][result.predicted]);
    const text = await shoal(["predict", "--model", "iris.shoal.json", "iris.csv", "--row", "3"], 60_000, dir);
    expect(text.stdout).toContain("expected: 0 (setosa)");
  });

  it("a test file's names are numbered as the training file's; an unknown name names the row and the value", async () => {
    // the test file holds two of the three classes, in another order: its own sorted names would differ
    await writeFile(path.join(dir, "iris-test.csv"), irisCsv(20, ["virginica, Virginia iris", "versicolor"]));
    const ok = await shoal(["train", "--data", "iris.csv", "--test-data", "iris-test.csv", "--label-column", "species", "--epochs", "1", "--out", "with-test.json", "--json"], 60_000, dir);
    expect(ok.code, ok.stderr).toBe(0);
    expect(typeof parse(ok.stdout).at(-1)!.testAccuracy).toBe("number");
    // the totals show the mapping: the test file's versicolor rows are class 1, its virginica rows class 2
    const evaluated = JSON.parse((await shoal(["evaluate", "--model", "with-test.json", "--json"], 60_000, dir)).stdout) as { perClass: { name: string; total: number }[] };
    expect(evaluated.perClass.map((c) => [c.name, c.total])).toEqual([["setosa", 0], ["versicolor", 10], ["virginica, Virginia iris", 10]]);

    await writeFile(path.join(dir, "typo.csv"), irisCsv(4, ["setosa"]).replace(/"setosa"\n$/, '"setsoa"\n'));
    const bad = await shoal(["train", "--data", "iris.csv", "--test-data", "typo.csv", "--label-column", "species", "--epochs", "1", "--out", "typo.json"], 60_000, dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('shoal: typo.csv: row 5, column "species": unknown class "setsoa"; the classes are setosa, versicolor, virginica, Virginia iris\n');
  });

  it("--separator reads a file with another separator; `;` is also detected", async () => {
    const semicolons = irisCsv(30).replace(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/gm, ";");
    await writeFile(path.join(dir, "semi.csv"), semicolons);
    const detected = await shoal(["train", "--data", "semi.csv", "--label-column", "species", "--epochs", "1", "--json"], 60_000, dir);
    expect(detected.code, detected.stderr).toBe(0);
    await writeFile(path.join(dir, "pipes.csv"), semicolons.replace(/;/g, "|"));
    const given = await shoal(["train", "--data", "pipes.csv", "--separator", "|", "--label-column", "species", "--epochs", "1", "--json"], 60_000, dir);
    expect(given.code, given.stderr).toBe(0);
    expect((await loadModel(path.join(dir, "pipes.shoal.json"))).metadata).toMatchObject({ separator: "|", classNames: ["setosa", "versicolor", "virginica, Virginia iris"] });
    expect((await shoal(["evaluate", "--model", "pipes.shoal.json", "--json"], 60_000, dir)).code).toBe(0);
  });
});
