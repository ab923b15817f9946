/**
 * Reading back what `shoal train` stores in a model file's metadata. The metadata is free-form JSON
 * (a network2.py file has none, another tool may write anything), so every field is checked.
 */

/** The data a model was trained on, as `--data` and the CSV flags would name it. */
export interface ModelData {
  /** `mnist` when the metadata does not say. */
  data: string;
  /** A CSV test set given with --test-data. */
  testData?: string;
  labelColumn?: string;
  scale?: number;
}

export function modelData(metadata: Record<string, unknown> | undefined): ModelData {
  const data = typeof metadata?.data === "string" ? metadata.data : "mnist";
  const column = metadata?.labelColumn;
  const scale = metadata?.scale;
  const testData = metadata?.testData;
  return {
    data,
    ...(typeof testData === "string" && { testData }),
    ...((typeof column === "string" || typeof column === "number") && { labelColumn: String(column) }),
    ...(typeof scale === "number" && scale > 0 && { scale }),
  };
}

/** The class names saved with the model (Fashion-MNIST's, for one), if any. */
export function classNamesOf(metadata: Record<string, unknown> | undefined): readonly string[] | undefined {
  const names = metadata?.classNames;
  return Array.isArray(names) && names.every((n) => typeof n === "string") ? (names as string[]) : undefined;
}
