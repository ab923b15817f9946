import path from "node:path";
import { ShoalError } from "../core/errors.js";
import { exportJsModule } from "../export/js-module.js";
import { exportOnnx, onnxIrVersion, onnxOpset } from "../export/onnx.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { loadModel } from "../io/model-file.js";
import { UsageError } from "./errors.js";
import { checkOutputFile } from "./output-file.js";

// The flag types live here, not beside the command, so the command imports this module (lazily) and not the other way round.
/** What `shoal export` can write. */
export type ExportFormat = "onnx" | "js";

/** `shoal export`'s flags, parsed. */
export interface ExportFlags {
  model: string;
  format: ExportFormat;
  out: string;
  force?: boolean;
}

/**
 * `shoal export`: reads the model file, writes it in `--format` to `--out` atomically (a failure
 * leaves no file, and any previous one as it was) and says what it wrote on stdout.
 */
export async function exportCommand(flags: ExportFlags, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  // even with --force: overwriting the model with its own export loses the model
  if (path.resolve(flags.out) === path.resolve(flags.model)) throw new UsageError(`--out ${flags.out} is the model file: give another file name`);
  await checkOutputFile("--out", flags.out, flags.force === true);
  const { network, metadata } = await loadModel(flags.model);
  const data = flags.format === "onnx" ? exportOnnx(network, metadata) : exportJsModule(network, metadata);
  try {
    await writeFileAtomic(flags.out, data);
  } catch (err) {
    throw new ShoalError(`cannot write ${flags.out}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const what = flags.format === "onnx" ? `ONNX (IR version ${onnxIrVersion}, opset ${onnxOpset})` : "an ES module exporting predict()";
  const { sizes, activation, outputActivation, dtype } = network.spec;
  out.write(`wrote ${flags.out}: ${what}, ${sizes.join("-")} ${activation}/${outputActivation} ${dtype}, ${kilobytes(data.length)}\n`);
}

/** A byte (or character: the JS module is ASCII) count in kB: "95 kB". */
function kilobytes(n: number): string {
  return `${Math.max(1, Math.round(n / 1000)).toLocaleString("en-US")} kB`;
}
