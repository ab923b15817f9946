/**
 * onnxruntime-node, which the export tests run exported models in, lives in this folder's own small
 * package (package.json + package-lock.json, the version pinned), not among shoal's dependencies:
 * its install script downloads files from outside the npm registry, and a machine with only the
 * registry (CI, this one) would then fail `npm ci` of shoal itself. Here it is installed with
 * ONNXRUNTIME_NODE_INSTALL=skip, which skips that download; the npm tarball already holds the CPU
 * binaries (linux x64 and arm64, macOS arm64, Windows) that the tests use.
 *
 * The vitest global set-up (and `npm test`'s pretest) call {@link ensureOnnxRuntime}: it runs
 * `npm ci` here when the pinned version is not installed yet, and does nothing otherwise.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** This folder: the package whose node_modules holds onnxruntime-node. */
export const onnxRuntimeDirectory = fileURLToPath(new URL(".", import.meta.url));

/** The command that installs it, as a user would type it from the repository root. */
export const installCommand = "ONNXRUNTIME_NODE_INSTALL=skip npm ci --prefix test/onnx-runtime";

/** The onnxruntime-node version package.json pins. */
function pinnedVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(onnxRuntimeDirectory, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  return pkg.dependencies["onnxruntime-node"]!;
}

/** True when node_modules holds the pinned onnxruntime-node (a changed pin reinstalls). */
export function onnxRuntimeInstalled(): boolean {
  try {
    const installed = JSON.parse(readFileSync(path.join(onnxRuntimeDirectory, "node_modules/onnxruntime-node/package.json"), "utf8")) as { version?: unknown };
    return installed.version === pinnedVersion();
  } catch {
    return false;
  }
}

/** Installs onnxruntime-node here unless it already is; throws one line saying what failed and what to run. */
export function ensureOnnxRuntime(log: (line: string) => void = console.log): void {
  if (onnxRuntimeInstalled()) return;
  log(`Installing onnxruntime-node for the export tests: ${installCommand}`);
  const result = spawnSync("npm", ["ci", "--prefix", onnxRuntimeDirectory, "--no-audit", "--no-fund"], {
    stdio: "inherit",
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" },
  });
  if (result.status !== 0 || !onnxRuntimeInstalled()) {
    const why = result.error ? result.error.message : `npm exited with status ${result.status}`;
    throw new Error(`the export tests need onnxruntime-node in test/onnx-runtime and installing it failed (${why}): run \`${installCommand}\``);
  }
}
