import { readFile } from "node:fs/promises";
import { ShoalError } from "../core/errors.js";

/**
 * A data file or folder (IDX, CSV, a dataset package) is missing, unreadable, malformed or
 * inconsistent with its partner file. The message names the file and what is wrong; `file` is the
 * path at fault, for callers that want it without parsing the message.
 */
export class DataFileError extends ShoalError {
  override name = "DataFileError";
  constructor(readonly file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The whole file; a missing or unreadable file becomes a DataFileError naming it. */
export async function readDataFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder, expected a file" : (err as Error).message;
    throw new DataFileError(file, `${file}: ${why}`, { cause: err });
  }
}
