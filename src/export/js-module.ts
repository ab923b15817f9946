import type { ActivationName } from "../core/activations.js";
import type { Network } from "../core/network.js";
import { classNamesOf } from "../io/model-metadata.js";
import { checkExportable, exportedMetadata } from "./exportable.js";
import { littleEndian } from "./onnx.js";

/*
 * A network as one dependency-free ES module (`shoal export --format js`): the parameters inlined
 * as base64 of their little-endian float32 or float64 bytes (a 784-30-10 float32 module is
 * 132 kB, its model file's decimal JSON 502 kB), and a predict() that repeats shoal's forward pass operation for
 * operation — backprop.ts's feedforward and activations.ts's σ: doubles throughout, each z_j
 * summed from its bias in input order, zero inputs of the first layer skipped — so its outputs are
 * the very doubles shoal's Network.feedforward gives, for float32 and float64 models alike (on the
 * same JavaScript engine: Math.exp and Math.tanh are the engine's). The test suite holds it to
 * that, bit for bit.
 */

/** Each σ's `apply` from src/core/activations.ts as module source: a = σ(z) for a layer. */
const activationSource: Record<ActivationName, string> = {
  sigmoid: "for (let i = 0; i < z.length; i++) a[i] = 1 / (1 + Math.exp(-z[i]));",
  tanh: "for (let i = 0; i < z.length; i++) a[i] = Math.tanh(z[i]);",
  relu: "for (let i = 0; i < z.length; i++) a[i] = z[i] > 0 ? z[i] : 0;",
  identity: "a.set(z);",
  softmax: [
    "let max = -Infinity;",
    "  for (let j = 0; j < z.length; j++) if (z[j] > max) max = z[j];",
    "  let sum = 0;",
    "  for (let j = 0; j < z.length; j++) sum += Math.exp(z[j] - max);",
    "  for (let j = 0; j < z.length; j++) a[j] = Math.exp(z[j] - max) / sum;",
  ].join("\n"),
};

/**
 * The network as the source of a dependency-free ES module exporting `predict(inputs)`: `inputs`
 * is a list of input vectors (arrays or typed arrays of `sizes[0]` numbers); it returns
 * `{ classes, outputs }`, per input the predicted class (the largest output's index; with one
 * output, 1 when it is ≥ 0.5) and the output activations, the same doubles as
 * `network.feedforward` gives. The module also exports `sizes`, `classNames` (or null) and
 * `metadata` (as in {@link exportOnnx}'s metadata_props). Throws a ValidationError for a network
 * with a non-finite parameter.
 */
export function exportJsModule(network: Network, metadata?: Record<string, unknown>): string {
  checkExportable(network, metadata);
  const { sizes, activation, outputActivation, dtype } = network.spec;
  const described = exportedMetadata(network, metadata);
  const classNames = classNamesOf(described) ?? null;
  const bytes = dtype === "float32" ? 4 : 8;
  const typed = dtype === "float32" ? "Float32" : "Float64";
  return `// ${sizes.join("-")} network (${activation} hidden layers, ${outputActivation} output, ${dtype}) exported by shoal
// (\`shoal export --format js\`): a dependency-free ES module. predict(inputs) takes a list of input
// vectors of ${sizes[0]} numbers and returns { classes, outputs }: per input, the predicted class (the
// largest output's index; with one output, 1 when it is >= 0.5) and the output activations, computed
// as shoal computes them (the same doubles as its predict on the same JavaScript engine).

/** Neurons per layer, input first. */
export const sizes = ${JSON.stringify(sizes)};
/** The classes' names (class i is classNames[i]), or null when the model has none. */
export const classNames = ${JSON.stringify(classNames)};
/** What shoal recorded about the model: its layers, activations, cost, dtype and training. */
export const metadata = JSON.parse(${JSON.stringify(JSON.stringify(described))});

// The parameters: per layer its weights (sizes[l+1] rows of sizes[l], row j = neuron j) then its
// biases, as base64 of little-endian ${dtype} bytes.
const params = decode("${Buffer.from(littleEndian(network.params)).toString("base64")}", ${network.params.length});

function decode(base64, count) {
  const text = atob(base64);
  const view = new DataView(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) view.setUint8(i, text.charCodeAt(i));
  const values = new ${typed}Array(count);
  for (let i = 0; i < count; i++) values[i] = view.get${typed}(${bytes} * i, true);
  return values;
}

const weightOffsets = [];
const biasOffsets = [];
for (let l = 0, offset = 0; l + 1 < sizes.length; l++) {
  weightOffsets.push(offset);
  offset += sizes[l] * sizes[l + 1];
  biasOffsets.push(offset);
  offset += sizes[l + 1];
}

function hidden(z, a) {
  ${activationSource[activation]}
}

function output(z, a) {
  ${activationSource[outputActivation]}
}

/** The output activations for one input vector: z = w a + b, a = σ(z), layer by layer. */
function feedforward(x) {
  const last = sizes.length - 2;
  let prev = x;
  for (let l = 0; l <= last; l++) {
    const nIn = sizes[l];
    const w = weightOffsets[l];
    const b = biasOffsets[l];
    const z = new Float64Array(sizes[l + 1]);
    for (let j = 0; j < z.length; j++) {
      let sum = params[b + j];
      const row = w + j * nIn;
      if (l === 0) {
        for (let k = 0; k < nIn; k++) if (x[k] !== 0) sum += params[row + k] * x[k];
      } else {
        for (let k = 0; k < nIn; k++) sum += params[row + k] * prev[k];
      }
      z[j] = sum;
    }
    const a = new Float64Array(z.length);
    (l === last ? output : hidden)(z, a);
    prev = a;
  }
  return prev;
}

function predictedClass(values) {
  if (values.length === 1) return values[0] >= 0.5 ? 1 : 0;
  let best = 0;
  for (let j = 1; j < values.length; j++) if (values[j] > values[best]) best = j;
  return best;
}

/**
 * Classifies a list of inputs, each ${sizes[0]} numbers: returns { classes, outputs }, per input its
 * predicted class and its output activations.
 */
export function predict(inputs) {
  if (inputs == null || typeof inputs.length !== "number" || typeof inputs === "string") {
    throw new TypeError("predict takes a list of input vectors, e.g. predict([input])");
  }
  if (inputs.length > 0 && typeof inputs[0] === "number") {
    throw new TypeError("predict takes a list of input vectors, not one vector of numbers: give predict([input])");
  }
  const classes = [];
  const outputs = [];
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    if (x == null || x.length !== sizes[0]) throw new RangeError(\`input \${i} has \${x?.length} values, expected \${sizes[0]}\`);
    for (let k = 0; k < sizes[0]; k++) {
      if (typeof x[k] !== "number" || !Number.isFinite(x[k])) throw new RangeError(\`input \${i}, value \${k} is \${x[k]}, expected a finite number\`);
    }
    const a = feedforward(x);
    classes.push(predictedClass(a));
    outputs.push(Array.from(a));
  }
  return { classes, outputs };
}
`;
}
