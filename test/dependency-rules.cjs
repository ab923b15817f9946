// The layer table of the design (../shared/DESIGN.md, "Layers and folders") and "no import
// cycles", checked by test/layers.test.ts with dependency-cruiser. Each folder may import the
// folders listed for it, and core; nothing imports cli; only cli may import bench (the benchmark harness).
const layer = (name, folder, allowed) => ({
  name,
  severity: "error",
  from: { path: `^${folder}/` },
  to: { path: "^(src|workers)/", pathNot: [`^${folder}/`, "^src/core/", ...allowed.map((a) => `^${a}/`)] },
});

module.exports = {
  forbidden: [
    { name: "no-cycles", severity: "error", comment: "an import cycle (type-only imports count too)", from: {}, to: { circular: true } },
    layer("core-imports-nothing-above", "src/core", []),
    layer("data-on-core", "src/data", []),
    layer("parallel-on-core", "src/parallel", []),
    layer("io-on-core", "src/io", []),
    layer("export-on-core-io", "src/export", ["src/io"]),
    layer("train-on-parallel-io", "src/train", ["src/parallel", "src/io"]),
    layer("workers-on-parallel", "workers", ["src/parallel"]),
    layer("service-on-train-io-data", "src/service", ["src/train", "src/io", "src/data"]),
    layer("distributed-on-service-train-io-data", "src/distributed", ["src/service", "src/train", "src/io", "src/data"]),
    layer("bench-on-the-library", "src/bench", ["src/train", "src/parallel", "src/io", "src/data", "src/service"]),
    { name: "nothing-imports-cli", severity: "error", from: { pathNot: "^src/cli/" }, to: { path: "^src/cli/" } },
    // the benchmark harness is a tool beside the library (issue 11 ships it as `shoal bench`): only the command line may load it
    { name: "only-cli-imports-bench", severity: "error", from: { path: "^(src|workers)/", pathNot: "^src/(cli|bench)/" }, to: { path: "^src/bench/" } },
  ],
  options: {
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/core/wasm/build-kernel\\.ts$" },
  },
};
