import { predictedClass } from "../core/classes.js";
import { check, show, ValidationError } from "../core/errors.js";
import type { Network } from "../core/network.js";
import type { Prediction } from "./job.js";

/**
 * Checks rows of numbers against a model's input size `n` and the per-call bound `maxRows`, naming
 * the row at fault (`inputs[3] has 780 values, expected 784 (the model's input layer)`), and
 * returns them as one Float64Array of rows × n (one buffer crosses threads much faster than an
 * array of arrays).
 */
export function flattenRows(inputs: unknown, n: number, maxRows: number): Float64Array {
  check(Array.isArray(inputs), `inputs must be an array of rows (arrays of numbers), got ${show(inputs)}`);
  check(inputs.length >= 1, "inputs is empty");
  checkRowCount(inputs.length, maxRows);
  const flat = new Float64Array(inputs.length * n);
  inputs.forEach((row: unknown, i) => {
    check(Array.isArray(row) || (ArrayBuffer.isView(row) && !(row instanceof DataView)), `inputs[${i}] must be an array of numbers, got ${show(row)}`);
    const values = row as ArrayLike<unknown>;
    check(values.length === n, `inputs[${i}] has ${values.length} values, expected ${n} (the model's input layer)`);
    for (let k = 0; k < n; k++) {
      const v = values[k];
      if (typeof v !== "number" || !Number.isFinite(v)) throw new ValidationError(`inputs[${i}][${k}] is ${show(v)}, expected a finite number`);
      flat[i * n + k] = v;
    }
  });
  return flat;
}

/**
 * The outputs a^L and predicted classes of `net` for each row: `inputs` is rows of numbers (checked
 * by {@link flattenRows}) or rows already flattened by it.
 */
export function predictRows(net: Network, inputs: unknown, maxRows: number): Prediction {
  const n = net.sizes[0]!;
  let flat: Float64Array;
  if (inputs instanceof Float64Array) {
    const rows = inputs.length / n;
    check(Number.isInteger(rows) && rows >= 1, `inputs hold ${inputs.length} values, not a positive multiple of the model's ${n} inputs`);
    checkRowCount(rows, maxRows);
    flat = inputs;
  } else {
    flat = flattenRows(inputs, n, maxRows);
  }
  const classes: number[] = [];
  const outputs: number[][] = [];
  for (let i = 0; i < flat.length / n; i++) {
    const a = net.feedforward(flat.subarray(i * n, (i + 1) * n));
    classes.push(predictedClass(a));
    outputs.push(Array.from(a));
  }
  return { classes, outputs };
}

function checkRowCount(rows: number, maxRows: number): void {
  check(rows <= maxRows, `inputs has ${rows} rows, more than the limit of ${maxRows} per call`);
}
