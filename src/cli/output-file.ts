import { stat } from "node:fs/promises";
import path from "node:path";
import { ShoalError } from "../core/errors.js";
import { UsageError } from "./errors.js";

/**
 * Checks a file a command is about to write (`flag` names it in the message), before the work that
 * makes it: a missing folder or a folder given as the file is a failure (exit 1), an existing file
 * without `force` a bad command line (exit 2). The write itself is then atomic (writeFileAtomic).
 */
export async function checkOutputFile(flag: string, file: string, force: boolean): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new ShoalError(`${flag} ${file}: folder ${dir} does not exist`);
  const target = await stat(file).catch(() => undefined);
  if (target?.isDirectory()) throw new ShoalError(`${flag} ${file} is a folder, expected a file name`);
  if (target && !force) throw new UsageError(`${flag} ${file} exists: give --force to overwrite it, or another file name`);
}
