import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("..", import.meta.url)),
    include: ["test/**/*.test.ts"],
    // Debian packages some tests need: `npm test` installs them first (the pretest script); this
    // stops a bare `vitest` run with one line naming them instead of failing deep in a test.
    globalSetup: ["test/global-setup.ts"],
    // Training tests start real worker threads; on a 2-core machine running files in parallel
    // only makes them fight for the same cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
