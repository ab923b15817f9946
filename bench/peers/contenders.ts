/** The contenders of `npm run bench:peers`, by name, in their default order. */
import { brain } from "./brain.js";
import type { ContenderFactory } from "./common.js";
import { convnet } from "./convnet.js";
import { shoal } from "./shoal.js";
import { tfjs } from "./tfjs.js";

export const contenders: Record<string, ContenderFactory> = {
  "tfjs-wasm": tfjs("wasm"),
  "tfjs-cpu": tfjs("cpu"),
  "brain.js": brain,
  convnetjs: convnet,
  "shoal-1": shoal(1),
  "shoal-2": shoal(2),
};
