import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const depcruise = path.join(root, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");

/** Without ANSI colour codes, whatever the environment asked for. */
const plain = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, "");

/** dependency-cruiser over `paths` with the layer rules: its exit code and report. */
async function cruise(paths: string[], cwd = root): Promise<{ code: number; report: string }> {
  const args = [depcruise, ...paths, "--config", path.join(root, "test/dependency-rules.cjs"), "--output-type", "err"];
  try {
    // plain text: with CI=true its colour library would colour the report
    const { stdout } = await run(process.execPath, args, { cwd, timeout: 120_000, env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" } });
    return { code: 0, report: plain(stdout) };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: e.code ?? -1, report: plain(e.stdout ?? String(error)) };
  }
}

describe("layers (../shared/DESIGN.md) and no import cycles, by dependency-cruiser", () => {
  it("src/ and workers/ keep to the layer table and have no cycle", async () => {
    const { code, report } = await cruise(["src", "workers"]);
    expect(report).toContain("no dependency violations found");
    expect(code).toBe(0);
  });

  it("the rules catch a cycle, an import of the command line from below, and of the bench harness from the library", async () => {
    // a throwaway tree laid out like the repository, so the rules' paths apply
    const dir = mkdtempSync(path.join(tmpdir(), "shoal-layers-"));
    try {
      for (const folder of ["src/core", "src/cli", "src/service", "src/bench"]) mkdirSync(path.join(dir, folder), { recursive: true });
      const file = (name: string, text: string): void => writeFileSync(path.join(dir, name), text);
      file("tsconfig.json", JSON.stringify({ compilerOptions: { module: "nodenext", moduleResolution: "nodenext", allowJs: true } }));
      file("src/core/a.ts", 'import { b } from "./b.js";\nexport const a = (): number => b();\n');
      file("src/core/b.ts", 'import { a } from "./a.js";\nexport const b = (): number => 1 + Number(typeof a);\n');
      file("src/cli/main.ts", "export const main = 1;\n");
      file("src/service/job.ts", 'import { main } from "../cli/main.js";\nexport const job = main;\n');
      file("src/bench/suite.ts", "export const suite = 1;\n");
      file("src/service/timing.ts", 'import { suite } from "../bench/suite.js";\nexport const timing = suite;\n');
      const { code, report } = await cruise(["src"], dir);
      expect(code).not.toBe(0);
      expect(report).toMatch(/no-cycles: src\/core\/a\.ts/);
      expect(report).toMatch(/nothing-imports-cli: src\/service\/job\.ts → src\/cli\/main\.ts/);
      expect(report).toMatch(/service-on-train-io-data: src\/service\/job\.ts → src\/cli\/main\.ts/);
      expect(report).toMatch(/only-cli-imports-bench: src\/service\/timing\.ts → src\/bench\/suite\.ts/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
