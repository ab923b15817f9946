#!/usr/bin/env node
// The `shoal` command (package.json "bin"). Plain JavaScript, so it runs before any loader:
//  - in the repository, src/cli/main.ts sits beside this file: tsx's ESM loader is registered in
//    this process (no child process, so Ctrl-C and exit codes are the command's own) and the
//    TypeScript runs from source, never from a stale dist/;
//  - in the published package (which ships dist/ and this file), main.ts is absent and the
//    compiled dist/src/cli/main.js runs, without tsx.
import { existsSync } from "node:fs";

const source = new URL("./main.ts", import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import(new URL("../../dist/src/cli/main.js", import.meta.url).href));
}
process.exitCode = await main(process.argv.slice(2));
