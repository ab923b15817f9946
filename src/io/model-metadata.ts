/**
 * The data fields of a model file's metadata: written by `shoal train` and by the job trainers
 * (`shoal serve`, `shoal worker`) through {@link dataMetadata}, read back by `evaluate` and `predict`.
 * The metadata is free-form JSON (a network2.py file has none, another tool may write anything), so
 * every field is checked when read.
 */

/** What a model was trained on, for {@link dataMetadata}. */
export interface DataSource {
  /** `mnist`, `fashion-mnist`, an IDX folder or a CSV file, as `--data` names it. */
  data: string;
  /** For CSV data: how it was read. */
  csv?: { labelColumn?: string | number; scale?: number; testData?: string; separator?: string };
  /** The classes' names (Fashion-MNIST's, a CSV file's text labels). */
  classNames?: readonly string[];
}

/** The metadata fields that say what a model was trained on: what {@link modelData} and {@link classNamesOf} read. */
export function dataMetadata(source: DataSource): Record<string, unknown> {
  const { data, csv, classNames } = source;
  return {
    data,
    ...(csv && {
      labelColumn: csv.labelColumn ?? 0,
      scale: csv.scale ?? 1,
      ...(csv.testData !== undefined && { testData: csv.testData }),
      ...(csv.separator !== undefined && { separator: csv.separator }),
    }),
    ...(classNames && { classNames: [...classNames] }),
  };
}

/** The data a model was trained on, as `--data` and the CSV flags would name it. */
export interface ModelData {
  /** `mnist` when the metadata does not say. */
  data: string;
  /** A CSV test set given with --test-data. */
  testData?: string;
  labelColumn?: string;
  scale?: number;
  separator?: string;
}

export function modelData(metadata: Record<string, unknown> | undefined): ModelData {
  const data = typeof metadata?.data === "string" ? metadata.data : "mnist";
  const column = metadata?.labelColumn;
  const scale = metadata?.scale;
  const testData = metadata?.testData;
  const separator = metadata?.separator;
  return {
    data,
    ...(typeof testData === "string" && { testData }),
    ...((typeof column === "string" || typeof column === "number") && { labelColumn: String(column) }),
    ...(typeof scale === "number" && scale > 0 && { scale }),
    ...(typeof separator === "string" && [...separator].length === 1 && { separator }),
  };
}

/** The class names saved with the model (Fashion-MNIST's, for one), if any. */
export function classNamesOf(metadata: Record<string, unknown> | undefined): readonly string[] | undefined {
  const names = metadata?.classNames;
  return Array.isArray(names) && names.every((n) => typeof n === "string") ? (names as string[]) : undefined;
}
