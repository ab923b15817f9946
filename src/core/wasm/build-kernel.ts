/**
 * Assembles kernel.wat into kernel.wasm (float32) and kernel64.wasm (float64) with wabt (an npm
 * package), so a fresh clone builds the kernels from source: `npm run build:wasm` (run by `npm ci`
 * through "prepare", and by the test suite's global setup before any test). kernel.wat is a
 * template: its element type, its one-kernel parts, its repeated blocks and the ABI's offsets are
 * filled in first (template.ts, abi.ts).
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import wabt from "wabt";
import type { DType } from "../network.js";
import { abis, kernelFiles } from "./abi.js";
import { expandTemplate } from "./template.js";

const source = new URL("./kernel.wat", import.meta.url);

/** What kernel.wat's placeholders mean in each kernel. */
const types = {
  float32: { v: "f32x4", f: "f32", shift: 2, float32: 1, float64: 0 },
  float64: { v: "f64x2", f: "f64", shift: 3, float32: 0, float64: 1 },
} as const;

/** kernel.wat with its template directives expanded for one kernel: plain WebAssembly text. */
export async function kernelText(dtype: DType = "float32"): Promise<string> {
  return expandTemplate(await readFile(source, "utf8"), { ...abis[dtype], ...types[dtype] });
}

/** Writes both kernels from kernel.wat; returns their sizes in bytes. */
export async function assembleKernel(): Promise<Record<DType, number>> {
  const toolkit = await wabt();
  const sizes = { float32: 0, float64: 0 };
  for (const dtype of ["float32", "float64"] as const) {
    const module = toolkit.parseWat(`kernel.wat (${dtype})`, await kernelText(dtype), { simd: true, threads: true });
    try {
      const { buffer } = module.toBinary({});
      await writeFile(new URL(`./${kernelFiles[dtype]}`, import.meta.url), buffer);
      sizes[dtype] = buffer.length;
    } finally {
      module.destroy();
    }
  }
  return sizes;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizes = await assembleKernel();
  for (const dtype of ["float32", "float64"] as const) console.log(`${fileURLToPath(new URL(`./${kernelFiles[dtype]}`, import.meta.url))}: ${sizes[dtype]} bytes`);
}
