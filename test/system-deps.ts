/**
 * The Debian packages the test suite needs, checked (and installed where possible) before any test
 * runs, so that `npm ci && npm test` passes on a fresh machine and no test is skipped to get green.
 *
 * `npm test` runs this file first (the `pretest` script): a missing package is installed when we are
 * root and apt-get is present; otherwise it stops at once with one line naming the packages and the
 * command that installs them. The vitest global setup calls `requireSystemPackages` too, so running
 * vitest directly on a machine without them fails with the same line instead of deep in a test.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";
import { fashionMnistDirectory } from "../src/data/fashion-mnist.js";
import { ensureOnnxRuntime } from "./onnx-runtime/ensure.js";

/** A Debian package a test needs, and how to tell it is installed. */
export interface SystemPackage {
  /** Debian package name. */
  readonly name: string;
  /** Which tests need it. */
  readonly neededBy: string;
  readonly installed: (env: NodeJS.ProcessEnv) => boolean;
}

/** True when `command` is an executable file on env.PATH. */
export function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? "").split(delimiter).some((dir) => dir !== "" && existsSync(join(dir, command)));
}

export const systemPackages: readonly SystemPackage[] = [
  {
    name: "dataset-fashion-mnist",
    neededBy: "the Fashion-MNIST tests (test/idx.test.ts, test/cli-data.test.ts)",
    installed: () => ["train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"].every((f) => existsSync(join(fashionMnistDirectory, f))),
  },
  {
    name: "redis-server",
    neededBy: "the distributed-jobs tests (test/distributed.test.ts)",
    installed: (env) => onPath("redis-server", env),
  },
];

/** The one line printed when packages are missing and cannot be installed here. */
export function missingMessage(missing: readonly SystemPackage[]): string {
  const names = missing.map((p) => p.name).join(" ");
  return `shoal tests need the Debian package${missing.length > 1 ? "s" : ""} ${names}: install with \`sudo apt-get install -y ${names}\` (or run npm test as root)`;
}

export interface EnsureOptions {
  readonly packages?: readonly SystemPackage[];
  readonly env?: NodeJS.ProcessEnv;
  /** Whether this process may install (root); default: process.getuid() === 0. */
  readonly isRoot?: boolean;
  /** Runs a command with inherited output; returns its exit status. */
  readonly run?: (command: string, args: readonly string[], env: NodeJS.ProcessEnv) => number | null;
  readonly log?: (line: string) => void;
}

/** Outcome of {@link ensureSystemPackages}: ok, or the one line to print before exiting non-zero. */
export type EnsureResult = { ok: true; installed: string[] } | { ok: false; message: string };

/** Installs the missing packages when root and apt-get allow it; otherwise says what to run. */
export function ensureSystemPackages(options: EnsureOptions = {}): EnsureResult {
  const env = options.env ?? process.env;
  const packages = options.packages ?? systemPackages;
  const missing = packages.filter((p) => !p.installed(env));
  if (missing.length === 0) return { ok: true, installed: [] };
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  if (!isRoot || !onPath("apt-get", env)) return { ok: false, message: missingMessage(missing) };

  const run = options.run ?? ((command, args, runEnv) => spawnSync(command, args, { stdio: "inherit", env: runEnv }).status);
  const names = missing.map((p) => p.name);
  (options.log ?? console.log)(`Installing Debian packages the tests need: ${names.join(" ")}`);
  const aptEnv = { ...env, DEBIAN_FRONTEND: "noninteractive" };
  const ok = run("apt-get", ["update", "-qq"], aptEnv) === 0 && run("apt-get", ["install", "-y", "-qq", ...names], aptEnv) === 0;
  const still = packages.filter((p) => !p.installed(env));
  if (!ok || still.length > 0) {
    return { ok: false, message: `apt-get could not install ${names.join(" ")}; ${missingMessage(still.length > 0 ? still : missing)}` };
  }
  return { ok: true, installed: names };
}

/** For the vitest global setup: throws the one line when a package is missing (never installs). */
export function requireSystemPackages(): void {
  const missing = systemPackages.filter((p) => !p.installed(process.env));
  if (missing.length > 0) throw new Error(`${missingMessage(missing)} — \`npm test\` installs them when run as root`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = ensureSystemPackages();
  if (!result.ok) {
    console.error(result.message);
    process.exit(1);
  }
  // not a Debian package, but installed before the tests as they are (an npm package of its own under test/)
  try {
    ensureOnnxRuntime();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
