// The README and docs/ against the repository and the command line, so the docs cannot drift
// silently: every relative link leads to a file (and heading) that exists, every `shoal <command>`
// and `--flag` the command-line pages name is one `shoal --help` lists, and every name the code
// examples import from "shoal" is exported.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as library from "../src/index.js";
import { root, shoal } from "./fixtures/cli-helpers.js";

/** README.md and every page of docs/, as paths from the repository root. */
const pages = ["README.md", ...readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const read = (page: string): string => readFileSync(path.join(root, page), "utf8");

/** A page's lines outside fenced code blocks, and the code inside them. */
function split(text: string): { prose: string[]; code: string[] } {
  const prose: string[] = [];
  const code: string[] = [];
  let fenced = false;
  for (const line of text.split("\n")) {
    if (line.trimStart().startsWith("```")) fenced = !fenced;
    else (fenced ? code : prose).push(line);
  }
  return { prose, code };
}

const inlineCode = /`([^`\n]+)`/g;

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .trim()
    .replace(/\s/g, "-");
}

/** The anchors of a page's headings, with GitHub's -1, -2 … for repeated ones. */
function anchors(page: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of split(read(page)).prose) {
    const heading = /^#{1,6}\s+(.*?)\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    result.add(n === 0 ? base : `${base}-${n}`);
  }
  return result;
}

/** The relative link targets of a page (outside code), e.g. `docs/cli.md#exit-status`, `#speed`. */
function relativeLinks(page: string): string[] {
  const links: string[] = [];
  for (const line of split(read(page)).prose) {
    for (const m of line.replace(inlineCode, "").matchAll(/!?\[[^\]]*\]\(([^)\s]+)[^)]*\)/g)) {
      const target = m[1]!;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push(target);
    }
  }
  return links;
}

describe("links in README.md and docs/", () => {
  it("finds the pages and their links", () => {
    expect(pages).toEqual(expect.arrayContaining(["README.md", "docs/cli.md", "docs/library.md", "docs/how-it-works.md"]));
    expect(relativeLinks("README.md")).toContain("docs/cli.md");
    expect(slug("Data (`--data`)")).toBe("data---data");
  });

  it.each(pages)("every relative link of %s leads to an existing file and heading", (page) => {
    const broken: string[] = [];
    for (const link of relativeLinks(page)) {
      const [file, anchor] = link.split("#", 2) as [string, string | undefined];
      const target = file === "" ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), decodeURI(file)));
      if (target.startsWith("..") || !existsSync(path.join(root, target))) {
        broken.push(`${link}: no file ${target}`);
        continue;
      }
      if (anchor !== undefined && target.endsWith(".md") && statSync(path.join(root, target)).isFile() && !anchors(target).has(anchor)) {
        broken.push(`${link}: ${target} has no heading #${anchor}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

/** The long flags a `--help` text lists under "Options:" (the option lines start two spaces in). */
function helpFlags(help: string): string[] {
  return [...help.matchAll(/^ {2}(?:-[A-Za-z], )?(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1]!);
}

describe("the command line in the docs", () => {
  let commands: string[] = [];
  const flagsOf = new Map<string, string[]>();
  let allFlags = new Set<string>();

  beforeAll(async () => {
    const top = await shoal(["--help"]);
    expect(top.code).toBe(0);
    const list = top.stdout.slice(top.stdout.indexOf("Commands:"));
    commands = [...list.matchAll(/^ {2}([a-z]+)/gm)].map((m) => m[1]!).filter((c) => c !== "help");
    const helps = await Promise.all(commands.map((c) => shoal([c, "--help"])));
    helps.forEach((h, k) => {
      expect(h.code).toBe(0);
      flagsOf.set(commands[k]!, helpFlags(h.stdout));
    });
    allFlags = new Set([...helpFlags(top.stdout), ...[...flagsOf.values()].flat()]);
  }, 120_000);

  it("reads the commands and their flags from --help", () => {
    expect(commands).toEqual(expect.arrayContaining(["train", "evaluate", "predict", "info", "serve", "worker", "sweep"]));
    expect(flagsOf.get("train")).toEqual(expect.arrayContaining(["--data", "--no-shuffle", "--checkpoint-every", "--help"]));
    expect(allFlags).toContain("--version");
  });

  /** Code (fenced lines and inline spans) of a page. */
  const codeOf = (page: string): string[] => {
    const { prose, code } = split(read(page));
    return [...code, ...prose.flatMap((line) => [...line.matchAll(inlineCode)].map((m) => m[1]!))];
  };

  it.each(pages)("every `shoal <command>` in the code of %s is a command, given flags it has", (page) => {
    const wrong: string[] = [];
    for (const snippet of codeOf(page)) {
      // `shoal train --epochs 5 …` (at the start of a line or after npx) up to the end of the
      // command: a comment, a pipe, a redirection
      for (const m of snippet.matchAll(/(?:^\s*|\bnpx\s+)shoal\s+([a-z][a-z-]*)([^#|>&\n]*)/gm)) {
        const command = m[1]!;
        const flags = flagsOf.get(command);
        if (!flags) {
          wrong.push(`shoal ${command}: no such command`);
          continue;
        }
        for (const f of m[2]!.matchAll(/(?<![\w-])(--[a-z][a-z0-9-]*)/g)) {
          if (!flags.includes(f[1]!)) wrong.push(`shoal ${command} ${f[1]}: no such flag`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it.each(["docs/cli.md", "docs/server.md", "docs/distributed.md"])("every --flag %s names is a flag of shoal", (page) => {
    const named = new Set([...read(page).matchAll(/(?<![\w-])(--[a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
    expect(named.size).toBeGreaterThan(5);
    expect([...named].filter((f) => !allFlags.has(f))).toEqual([]);
  });

  it("docs/cli.md's `shoal train` flags table lists every flag of shoal train, and only those", () => {
    const text = read("docs/cli.md");
    const table = text.slice(text.indexOf("## `shoal train` flags"), text.indexOf("\n## ", text.indexOf("## `shoal train` flags") + 1));
    const listed = table
      .split("\n")
      .filter((line) => line.startsWith("| `--"))
      .flatMap((line) => [...line.split("|")[1]!.matchAll(/`(--[a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
    expect(listed.length).toBeGreaterThan(20);
    expect([...listed].sort()).toEqual(flagsOf.get("train")!.filter((f) => f !== "--help").sort());
  });
});

describe("code examples in README.md and docs/", () => {
  it("import only what the library exports", () => {
    const imported: string[] = [];
    for (const page of pages) {
      for (const m of split(read(page)).code.join("\n").matchAll(/import\s*\{([^}]*)\}\s*from\s*"shoal"/g)) {
        imported.push(...m[1]!.split(",").map((s) => s.trim()).filter((s) => s !== "" && !s.startsWith("type ")));
      }
    }
    expect(imported).toEqual(expect.arrayContaining(["Network", "train", "createBackgroundTrainer"]));
    expect(imported.filter((name) => !(name in library))).toEqual([]);
  });
});
