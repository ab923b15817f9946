import { Option, type Command } from "commander";
import { oneOf } from "./parse.js";
import type { ExportFlags, ExportFormat } from "./export-run.js";

/** The formats `shoal export --format` takes. */
const formats: readonly ExportFormat[] = ["onnx", "js"];

/** Registers `shoal export` on the `shoal` program; the exporters are loaded only when it runs. */
export function addExportCommand(program: Command): Command {
  const command = program
    .command("export")
    .description("write a model for use without shoal: an ONNX file (onnxruntime and other runtimes) or a dependency-free JavaScript module")
    .requiredOption("--model <file>", "model file")
    .addOption(new Option("--format <format>", `what to write: ${formats.join(", ")} (an ES module exporting predict)`).makeOptionMandatory().argParser(oneOf("--format", formats)))
    .requiredOption("--out <file>", "the file to write (atomically: a temporary file, then a rename)")
    .option("--force", "overwrite --out if it exists")
    .addHelpText("after", [
      "",
      "Examples:",
      "  shoal export --model mnist.shoal.json --format onnx --out mnist.onnx",
      "  shoal export --model mnist.shoal.json --format js --out mnist.mjs",
    ].join("\n"));
  command.action(async () => {
    const { exportCommand } = await import("./export-run.js");
    await exportCommand(command.opts<ExportFlags>());
  });
  return command;
}
