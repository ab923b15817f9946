import { readFileSync } from "node:fs";

/**
 * The version in shoal's package.json. This module runs from src/cli (in the repository) or from
 * dist/src/cli (published), so the file is looked for in the folders above it, not at a fixed depth.
 */
export function packageVersion(): string {
  for (let dir = new URL("./", import.meta.url); ; ) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "shoal" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // no package.json here (or not ours): look one folder up
    }
    const parent = new URL("../", dir);
    if (parent.href === dir.href) return "unknown";
    dir = parent;
  }
}
