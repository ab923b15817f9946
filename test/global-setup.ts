import { assembleKernel } from "../src/core/wasm/build-kernel.js";
import { requireSystemPackages } from "./system-deps.js";

/**
 * Before any test: fail at once, naming the missing Debian packages, rather than deep inside a test;
 * then assemble kernel.wat, so the suite tests the kernel source as it is, not a stale kernel.wasm.
 */
export default async function setup(): Promise<void> {
  requireSystemPackages();
  await assembleKernel();
}
