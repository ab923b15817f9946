import { dataType, type Dataset } from "../core/dataset.js";

/**
 * A float32 dataset whose values are all integer multiples of 1/`denominator` — bytes ÷ 255 (IDX
 * images, Fashion-MNIST) or the bundled digits' three-decimal values (÷ 1000) — with those values in
 * float64: each k/denominator made again in float64, exactly what a float64 loader would have
 * made, where widening the float32 values would keep their float32 rounding. A value of another
 * form is a bug in the caller (the loaders make only these), and throws.
 */
export function exactFloat64(data: Dataset, denominator: number): Dataset {
  if (dataType(data) === "float64") return data;
  const inputs = new Float64Array(data.inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const v = data.inputs[i]!;
    const exact = Math.round(v * denominator) / denominator;
    if (Math.fround(exact) !== v) throw new Error(`input ${i} is ${v}, not a float32 multiple of 1/${denominator}`);
    inputs[i] = exact;
  }
  return { ...data, inputs };
}
