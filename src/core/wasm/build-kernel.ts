/**
 * Assembles kernel.wat into kernel.wasm with wabt (an npm package), so a fresh clone builds the
 * kernel from source: `npm run build:wasm` (run automatically by `npm ci` through "prepare").
 */
import { readFile, writeFile } from "node:fs/promises";
import wabt from "wabt";

const source = new URL("./kernel.wat", import.meta.url);
const target = new URL("./kernel.wasm", import.meta.url);
const toolkit = await wabt();
const module = toolkit.parseWat("kernel.wat", await readFile(source, "utf8"), { simd: true, threads: true });

const { buffer } = module.toBinary({});
await writeFile(target, buffer);
console.log(`kernel.wasm: ${buffer.length} bytes`);
