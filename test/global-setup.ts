import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { assembleKernel } from "../src/core/wasm/build-kernel.js";
import { ensureOnnxRuntime } from "./onnx-runtime/ensure.js";
import { requireSystemPackages } from "./system-deps.js";

/**
 * Before any test: fail at once, naming the missing Debian packages, rather than deep inside a test;
 * install onnxruntime-node into test/onnx-runtime if it is not there yet (the export tests run
 * exported models in it; see ensure.ts for why it is a package of its own); then assemble kernel.wat, so the suite tests the kernel source as it is, not a stale kernel.wasm.
 * Data caches (split-cache.ts) go to a folder of the run's own, not the user's ~/.cache: the tests
 * and the processes they start inherit XDG_CACHE_HOME.
 */
export default async function setup(): Promise<() => void> {
  requireSystemPackages();
  ensureOnnxRuntime();
  await assembleKernel();
  const cache = mkdtempSync(path.join(tmpdir(), "shoal-test-cache-"));
  process.env.XDG_CACHE_HOME = cache;
  return () => rmSync(cache, { recursive: true, force: true });
}
