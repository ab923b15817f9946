import { requireSystemPackages } from "./system-deps.js";

/** Fails the run at once, naming the missing Debian packages, rather than deep inside a test. */
export default function setup(): void {
  requireSystemPackages();
}
