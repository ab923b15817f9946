import { randomBytes } from "node:crypto";
import { unlinkSync } from "node:fs";
import fsp, { type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Replaces the file at `path` with `data` so that readers (and a crash) see either the old
 * contents or the new, never a mix: write a temp file beside it, fsync it, then rename it over
 * `path` (atomic within one directory on POSIX). On any failure the temp file is removed, the
 * error rethrown, and the previous file at `path` is untouched. A process that exits during the
 * write (process.exit, an uncaught exception) removes the temp file as it exits; only a kill by a
 * signal it does not handle (SIGKILL) can leave one behind.
 *
 * fs calls go through the `fsp` object (not named imports) so tests can spy on them.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  // Same directory, so the rename cannot cross file systems; pid + random so concurrent writers never share one.
  const temp = join(dir, `${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let handle: FileHandle | undefined;
  pendingTemps.add(temp);
  removeTempsOnExit();
  try {
    handle = await fsp.open(temp, "wx");
    await handle.writeFile(data);
    // Without the fsync, a crash soon after the rename can leave `path` empty on some file systems.
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(temp, path);
  } catch (err) {
    await handle?.close().catch(() => {});
    await fsp.unlink(temp).catch(() => {});
    throw err;
  } finally {
    pendingTemps.delete(temp);
  }
  await syncDirectory(dir);
}

/** Temp files of writes in progress: the 'exit' handler removes them if the process ends mid-write. */
const pendingTemps = new Set<string>();
let exitHandlerInstalled = false;

/** 'exit' handlers must be synchronous, hence unlinkSync; a temp file not created yet is simply absent. */
function removeTempsOnExit(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on("exit", () => {
    for (const temp of pendingTemps) {
      try {
        unlinkSync(temp);
      } catch {
        // not created yet, or already renamed
      }
    }
  });
}

/** Makes the rename itself durable. Best effort: some platforms (Windows) cannot open or fsync a directory. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fsp.open(dir, "r");
    await handle.sync();
  } catch {
    // The data is already in place; only durability across a power cut is weaker.
  } finally {
    await handle?.close().catch(() => {});
  }
}
