import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { assembleKernel } from "../src/core/wasm/build-kernel.js";
import { requireSystemPackages } from "./system-deps.js";

/**
 * Before any test: fail at once, naming the missing Debian packages, rather than deep inside a test;
 * then assemble kernel.wat, so the suite tests the kernel source as it is, not a stale kernel.wasm.
 * Data caches (split-cache.ts) go to a folder of the run's own, not the user's ~/.cache: the tests
 * and the processes they start inherit XDG_CACHE_HOME.
 */
export default async function setup(): Promise<() => void> {
  requireSystemPackages();
  await assembleKernel();
  const cache = mkdtempSync(path.join(tmpdir(), "shoal-test-cache-"));
  process.env.XDG_CACHE_HOME = cache;
  return () => rmSync(cache, { recursive: true, force: true });
}
