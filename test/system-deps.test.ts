import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ensureSystemPackages, missingMessage, type SystemPackage } from "./system-deps.js";

const root = fileURLToPath(new URL("..", import.meta.url));

/** A package whose presence the test controls. */
function fakePackage(name: string, present: { value: boolean }): SystemPackage {
  return { name, neededBy: "a test", installed: () => present.value };
}

describe("the test suite's Debian packages (npm test's set-up)", () => {
  const env = { PATH: dirname(process.execPath) + ":/usr/bin:/bin" };

  it("does nothing when every package is there", () => {
    const calls: string[][] = [];
    const result = ensureSystemPackages({ packages: [fakePackage("a", { value: true })], env, isRoot: true, run: (c, a) => (calls.push([c, ...a]), 0) });
    expect(result).toEqual({ ok: true, installed: [] });
    expect(calls).toEqual([]);
  });

  it("as root with apt-get, installs what is missing", () => {
    const a = { value: false };
    const b = { value: false };
    const calls: string[][] = [];
    const result = ensureSystemPackages({
      packages: [fakePackage("pkg-a", a), fakePackage("pkg-b", b), fakePackage("pkg-c", { value: true })],
      env,
      isRoot: true,
      log: () => {},
      run: (command, args, runEnv) => {
        calls.push([command, ...args]);
        expect(runEnv.DEBIAN_FRONTEND).toBe("noninteractive");
        if (args[0] === "install") a.value = b.value = true;
        return 0;
      },
    });
    expect(result).toEqual({ ok: true, installed: ["pkg-a", "pkg-b"] });
    expect(calls).toEqual([["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "pkg-a", "pkg-b"]]);
  });

  it("without root, stops with one line naming the packages and the command, installing nothing", () => {
    const run = (): number => {
      throw new Error("must not run anything");
    };
    const result = ensureSystemPackages({ packages: [fakePackage("pkg-a", { value: false }), fakePackage("pkg-b", { value: false })], env, isRoot: false, run });
    expect(result).toEqual({ ok: false, message: "shoal tests need the Debian packages pkg-a pkg-b: install with `sudo apt-get install -y pkg-a pkg-b` (or run npm test as root)" });
  });

  it("as root without apt-get on PATH, says what to install", () => {
    const result = ensureSystemPackages({ packages: [fakePackage("pkg-a", { value: false })], env: { PATH: "/nonexistent" }, isRoot: true });
    expect(result).toEqual({ ok: false, message: missingMessage([fakePackage("pkg-a", { value: false })]) });
  });

  it("reports a failed apt-get install", () => {
    const result = ensureSystemPackages({ packages: [fakePackage("pkg-a", { value: false })], env, isRoot: true, log: () => {}, run: (_c, args) => (args[0] === "install" ? 100 : 0) });
    expect(result).toEqual({ ok: false, message: "apt-get could not install pkg-a; shoal tests need the Debian package pkg-a: install with `sudo apt-get install -y pkg-a` (or run npm test as root)" });
  });

  it("the pretest script exits 1 with that one line when redis-server cannot be found or installed", () => {
    // A PATH holding node alone: no redis-server, no apt-get.
    const bin = mkdtempSync(join(tmpdir(), "shoal-path-"));
    try {
      symlinkSync(process.execPath, join(bin, "node"));
      const tsx = join(root, "node_modules/tsx/dist/cli.mjs");
      const r = spawnSync(process.execPath, [tsx, "test/system-deps.ts"], { cwd: root, env: { PATH: bin, HOME: tmpdir() }, encoding: "utf8", timeout: 30_000 });
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^shoal tests need the Debian packages? (dataset-fashion-mnist )?redis-server: install with `sudo apt-get install -y (dataset-fashion-mnist )?redis-server` \(or run npm test as root\)\n$/);
      expect(r.status).toBe(1);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
