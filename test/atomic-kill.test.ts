/**
 * Atomic model files under SIGKILL. A child process (fixtures/kill-saver.ts) saves a large float64
 * model (784-1000-1000-10, ~1.8 M parameters, ~35 MB of JSON) over and over to a path that already
 * holds a complete model; the test kills it with SIGKILL at several moments of a save — while the
 * JSON is being built, while the temp file is being written or synced, around the rename — and after
 * each kill checks that the file loads and holds exactly (SHA-256 of the parameter bytes) either the
 * model that was there before the save or the one being saved: never a mix, never a truncated file.
 *
 * What a kill may leave behind: the temp file of the interrupted save,
 * `<name>.<pid>.<12 hex digits>.tmp`, beside the target. Nothing removes it (the process that made
 * it is dead); it never affects the target, later saves (each uses a fresh random name) or loads.
 * It can be deleted by hand; the last test shows all of this.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { watch } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadNetwork, Network, Rng, saveNetwork, type Params } from "../src/index.js";

const fixture = fileURLToPath(new URL("./fixtures/kill-saver.ts", import.meta.url));
const SIZES = [784, 1000, 1000, 10];
const KILLS = 6;
/** A temp file of writeFileAtomic for `model.json`: the writer's pid, then 6 random bytes. */
const STRAY = /^model\.json\.(\d+)\.[0-9a-f]{12}\.tmp$/;

let dir: string;
let target: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "shoal-atomic-kill-"));
  target = join(dir, "model.json");
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const digest = (p: Params): string => createHash("sha256").update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength)).digest("hex");
const digests = new Map<number, string>();
/** The digest of the model the fixture saves for `seed` (it is Network.create's, so recomputed here independently). */
function modelDigest(seed: number): string {
  let d = digests.get(seed);
  if (d === undefined) digests.set(seed, (d = digest(Network.create(SIZES, { seed, dtype: "float64" }).params)));
  return d;
}

/**
 * When the kill is armed: at the child's first `saving` line, when its first temp file appears (the
 * write has begun), or at its first `saved` line (the rename is done; the next model is being built).
 */
type Trigger = "save started" | "temp file created" | "save resolved";
const TRIGGERS: readonly Trigger[] = ["save started", "temp file created", "save resolved"];

interface Kill {
  trigger: Trigger;
  delayMs: number;
  pid: number;
  /** The last save that started / resolved before the kill, as the child reported them. */
  saving?: number;
  saved?: number;
}

/** Starts a saver child with seeds from `firstSeed`, SIGKILLs it `delayMs` after `trigger`, and waits for it to die. */
async function killDuringSave(firstSeed: number, trigger: Trigger, delayMs: number): Promise<Kill> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, target, String(firstSeed), SIZES.join()], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const kill: Kill = { trigger, delayMs, pid: child.pid! };
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  let armed = false;
  const arm = (): void => {
    if (armed) return;
    armed = true;
    setTimeout(() => child.kill("SIGKILL"), delayMs);
  };
  // Only this child writes in `dir` now: the first new .tmp entry is its first save's temp file.
  const watcher = watch(dir, (_event, name) => void (trigger === "temp file created" && name?.endsWith(".tmp") && arm()));
  createInterface({ input: child.stdout }).on("line", (line) => {
    const [word, seed] = line.split(" ");
    if (word === "saving") {
      kill.saving = Number(seed);
      if (trigger === "save started") arm();
    } else if (word === "saved") {
      kill.saved = Number(seed);
      if (trigger === "save resolved") arm();
    }
  });
  const { code, signal } = await exited;
  watcher.close();
  if (signal !== "SIGKILL") throw new Error(`the saver exited by itself (code ${code}, signal ${signal}): ${stderr}`);
  return kill;
}

describe("a model file under SIGKILL", () => {
  it(`is always the old or the new complete model (${KILLS} kills at random moments of a 35 MB save)`, async () => {
    await saveNetwork(Network.create(SIZES, { seed: 1, dtype: "float64" }), target);
    let onDisk = 1;
    const rng = new Rng(7); // the delays are reproducible; where they land in the save is up to the scheduler
    const outcomes: string[] = [];
    let interruptedWrites = 0;
    let replaced = 0;
    for (let k = 0; k < KILLS; k++) {
      // A save builds the JSON (~0.6 s), then writes and syncs the temp file (~0.2 s) and renames it,
      // and the next one starts: from "save started" the kill lands anywhere in one or two saves, from
      // the temp file's creation inside the write or the sync (encoding and writing 35 MB alone takes
      // longer than 25 ms, even on tmpfs), from "save resolved" after the rename.
      const trigger = TRIGGERS[k % TRIGGERS.length]!;
      const delayMs = rng.below({ "save started": 2500, "temp file created": 25, "save resolved": 30 }[trigger]);
      const kill = await killDuringSave(100 * (k + 1), trigger, delayMs);

      // Before the kill the file held the last completed save (or the model from before this child);
      // the only other model it may hold is the one being saved.
      const before = kill.saved ?? onDisk;
      const candidates = [before, ...(kill.saving !== undefined && kill.saving !== before ? [kill.saving] : [])];
      const net = await loadNetwork(target); // throws on a truncated or mixed file
      expect(net.sizes).toEqual(SIZES);
      const found = candidates.find((seed) => modelDigest(seed) === digest(net.params));
      expect(found, `after kill ${k} (${JSON.stringify(kill)}), the file is none of the models ${candidates.join(", ")}`).toBeDefined();
      if (found !== onDisk) replaced++;
      onDisk = found!;

      const strays = (await readdir(dir)).filter((name) => name !== "model.json");
      for (const name of strays) expect(name).toMatch(STRAY);
      // a temp file of this child is left only if the kill landed before its rename
      const mine = strays.filter((name) => STRAY.exec(name)?.[1] === String(kill.pid));
      expect(mine.length).toBeLessThanOrEqual(1);
      if (mine.length === 1) interruptedWrites++;
      outcomes.push(`${trigger} + ${delayMs} ms: file holds seed ${onDisk} of ${candidates.join("/")}, ${mine.length} temp file left`);
    }
    // A temp file left behind is the proof that a kill landed inside a write, the case that matters;
    // and some kills came after a completed save, so the file did move on to new models.
    expect(interruptedWrites, outcomes.join("\n")).toBeGreaterThan(0);
    expect(replaced, outcomes.join("\n")).toBeGreaterThan(0);
  }, 120_000);

  it("stray temp files left by kills do not affect later saves and loads, and stay until removed by hand", async () => {
    const strays = (await readdir(dir)).filter((name) => STRAY.test(name));
    expect(strays.length).toBeGreaterThan(0); // left by the kills above
    const net = Network.create(SIZES, { seed: 9999, dtype: "float64" });
    await saveNetwork(net, target);
    expect(digest((await loadNetwork(target)).params)).toBe(digest(net.params));
    expect((await readdir(dir)).filter((name) => STRAY.test(name)).sort()).toEqual(strays.sort());
  }, 60_000);
});
