// The trainer thread's entry when shoal runs from its TypeScript sources (repository, tests): a
// Worker started on a .ts file fails with ERR_UNKNOWN_FILE_EXTENSION even with `--import tsx` in
// its execArgv (Node 20 loads the entry before that hook is in place), so this plain-JavaScript
// entry registers tsx's loader in the thread first. The built package starts trainer-thread.js.
import { register } from "tsx/esm/api";

register();
await import("./trainer-thread.ts");
