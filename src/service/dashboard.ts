import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";

/**
 * The dashboard's page and its files, served by the job routes (`GET /`, `GET /dashboard/*`): static
 * files shipped with the package (src/dashboard, copied into dist by the build), uPlot from the
 * package's dependencies, and the digit centring of `shoal predict` (src/data/centre-digit.ts,
 * which imports nothing) as a plain ES module for the drawing pad. Nothing is fetched from a CDN
 * and nothing is built at run time, except when running from a source checkout, where the centring
 * module is TypeScript and is compiled once, on its first request, by the repository's compiler.
 */

/** The page's policy: scripts, styles and connections from this server only; no inline script, no eval. */
export const contentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const fromSource = import.meta.url.endsWith(".ts");
const require = createRequire(import.meta.url);
const own = (file: string): string => fileURLToPath(new URL(`../dashboard/${file}`, import.meta.url));

/** Each file the page may ask for, by the name it asks with: where it is and its type. */
const files: Record<string, { load: () => Promise<string>; type: string }> = {
  "app.js": { load: () => readFile(own("app.js"), "utf8"), type: "text/javascript" },
  "style.css": { load: () => readFile(own("style.css"), "utf8"), type: "text/css" },
  "icon.svg": { load: () => readFile(own("icon.svg"), "utf8"), type: "image/svg+xml" },
  "uPlot.esm.js": { load: () => readFile(require.resolve("uplot/dist/uPlot.esm.js"), "utf8"), type: "text/javascript" },
  "uPlot.min.css": { load: () => readFile(require.resolve("uplot/dist/uPlot.min.css"), "utf8"), type: "text/css" },
  "centre-digit.js": { load: centreDigitModule, type: "text/javascript" },
};

async function centreDigitModule(): Promise<string> {
  const file = fileURLToPath(new URL(`../data/centre-digit.${fromSource ? "ts" : "js"}`, import.meta.url));
  const text = await readFile(file, "utf8");
  if (!fromSource) return text.replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n");
  const { default: ts } = await import("typescript");
  return ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
}

/** Files are read once, on first request, and kept: they do not change while the server runs. */
const cache = new Map<string, Promise<string>>();
const load = (name: string, loader: () => Promise<string>): Promise<string> => {
  let text = cache.get(name);
  if (text === undefined) {
    text = loader();
    text.catch(() => cache.delete(name)); // a failed read is tried again next time
    cache.set(name, text);
  }
  return text;
};

/** Registers the page and its files on `app` (inside the job routes, so their Host check covers them). */
export function dashboardRoutes(app: FastifyInstance): void {
  // the files hold no data: they are public even with a token, and the page asks for the token
  const config = { public: true };
  const page = { index: { load: () => readFile(own("index.html"), "utf8"), type: "text/html" } };

  app.get("/", { config }, async (request, reply) => {
    // The page's links are relative ("jobs", "dashboard/app.js"): under a prefix it must be at "/prefix/".
    const path = request.url.split("?")[0]!;
    if (!path.endsWith("/")) return reply.redirect(`${path}/`);
    return reply.type(`${page.index.type}; charset=utf-8`).header("cache-control", "no-cache").send(await load("index.html", page.index.load));
  });

  app.get<{ Params: { file: string } }>("/dashboard/:file", { config }, async (request, reply) => {
    const name = request.params.file;
    const file = Object.hasOwn(files, name) ? files[name] : undefined;
    if (file === undefined) return reply.code(404).send({ statusCode: 404, error: "Not Found", message: `the dashboard has no file ${JSON.stringify(name)}` });
    return reply.type(`${file.type}; charset=utf-8`).header("cache-control", "no-cache").send(await load(name, file.load));
  });
}
