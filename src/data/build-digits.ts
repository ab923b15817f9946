/**
 * Writes the compact binary copy of the bundled digits beside mnist.ts (`npm run build:data`, run by
 * `npm ci` through "prepare" and by `npm pack` through the build): see digits-binary.ts.
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { encodeDigits } from "./digits-binary.js";
import { mnistDigitsBinaryFile, mnistDigitsFingerprint, readMnistDigitsJson } from "./mnist.js";

const bytes = encodeDigits(await readMnistDigitsJson(), await mnistDigitsFingerprint());
// No temporary file needed: a half-written copy fails the loader's size check, which then reads the JSON.
await writeFile(mnistDigitsBinaryFile, bytes);
console.log(`${fileURLToPath(mnistDigitsBinaryFile)}: ${bytes.length} bytes`);
