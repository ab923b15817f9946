/**
 * Assembles kernel.wat into kernel.wasm with wabt (an npm package), so a fresh clone builds the
 * kernel from source: `npm run build:wasm` (run by `npm ci` through "prepare", and by the test
 * suite's global setup before any test). kernel.wat is a template: its repeated blocks and the ABI's
 * offsets are filled in first (template.ts, abi.ts).
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import wabt from "wabt";
import { abi } from "./abi.js";
import { expandTemplate } from "./template.js";

const source = new URL("./kernel.wat", import.meta.url);
const target = new URL("./kernel.wasm", import.meta.url);

/** kernel.wat with its template directives expanded: plain WebAssembly text. */
export async function kernelText(): Promise<string> {
  return expandTemplate(await readFile(source, "utf8"), abi);
}

/** Writes kernel.wasm from kernel.wat; returns its size in bytes. */
export async function assembleKernel(): Promise<number> {
  const toolkit = await wabt();
  const module = toolkit.parseWat("kernel.wat", await kernelText(), { simd: true, threads: true });
  try {
    const { buffer } = module.toBinary({});
    await writeFile(target, buffer);
    return buffer.length;
  } finally {
    module.destroy();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`${fileURLToPath(target)}: ${await assembleKernel()} bytes`);
}
