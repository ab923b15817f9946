import { activationNames, hiddenActivationNames } from "../core/activations.js";
import { costNames } from "../core/costs.js";
import { check, checkInteger, checkOneOf, checkPositive, show } from "../core/errors.js";
import { dtypes } from "../core/layout.js";
import { inits } from "../core/network.js";

/**
 * The job spec's structure, written once as JSON Schema: each field's type and range. The HTTP
 * routes hand it to fastify as the body schema (http.ts); prepareSpec (spec.ts) takes its field
 * lists from it and checks single fields against it with {@link checkField}, in the library's
 * words. Rules that join fields (which data fields go together, the parameter and work limits, the
 * data's shape against `layers`) and the messages promised for some fields stay in spec.ts.
 *
 * Plain JSON Schema rather than a schema library: importing TypeBox took 158 ms (266 modules) on
 * the 2-core machine, three times piscina, and `import "shoal"` loads the spec checks.
 */

const positive = { type: "integer", minimum: 1 } as const;
const rows = { type: "array", minItems: 1, items: { type: "array", items: { type: "number" } } } as const;
const limits = { limit: positive, testLimit: { type: "integer", minimum: 0 } } as const;

/** The fields of each kind of data reference, in the order messages list them. */
export const dataKinds = {
  named: { name: { type: "string", enum: ["mnist", "fashion-mnist"] }, ...limits },
  IDX: { idx: { type: "string", minLength: 1 }, ...limits, classes: positive },
  CSV: {
    csv: { type: "string", minLength: 1 },
    test: { type: "string" },
    labelColumn: { anyOf: [{ type: "string" }, { type: "integer", minimum: 0 }] },
    scale: { type: "number", exclusiveMinimum: 0 },
    separator: { type: "string", minLength: 1, maxLength: 2 },
    classes: positive,
    header: { anyOf: [{ type: "boolean" }, { type: "string", enum: ["auto"] }] },
    ...limits,
  },
  inline: {
    inputs: rows,
    inputSize: positive,
    labels: { type: "array", items: { type: "integer", minimum: 0 } },
    classes: positive,
    targets: rows,
    targetSize: positive,
    test: { type: "object" },
  },
} as const;

/** A job's `data`: the fields of every kind together (which go together is prepareSpec's cross-field check). */
const dataSchema = {
  type: "object",
  properties: { ...dataKinds.named, ...dataKinds.IDX, ...dataKinds.CSV, ...dataKinds.inline, test: { anyOf: [dataKinds.CSV.test, dataKinds.inline.test] } },
} as const;

/** A job spec (`JobSpec`), as JSON Schema. */
export const jobSpecSchema = {
  type: "object",
  required: ["data", "layers", "epochs", "miniBatchSize", "eta"],
  properties: {
    data: dataSchema,
    // maxItems bounds what one HTTP request may ask for; the library bounds parameters instead
    layers: { type: "array", minItems: 2, maxItems: 100, items: positive },
    // softmax only as outputActivation (with cost log-likelihood): validateSpec says so in the library's words
    activation: { type: "string", enum: hiddenActivationNames },
    outputActivation: { type: "string", enum: activationNames },
    cost: { type: "string", enum: costNames },
    init: { type: "string", enum: inits },
    dtype: { type: "string", enum: dtypes },
    epochs: positive,
    miniBatchSize: positive,
    eta: { type: "number", exclusiveMinimum: 0 },
    lambda: { type: "number", minimum: 0 },
    momentum: { type: "number", minimum: 0, exclusiveMaximum: 1 },
    dropout: { type: "number", minimum: 0, exclusiveMaximum: 1 },
    seed: { type: "integer", minimum: 0 },
    shuffle: { type: "boolean" },
    threads: { anyOf: [{ type: "integer", minimum: 0 }, { type: "string", enum: ["auto"] }] },
    parallelism: { type: "string", enum: ["auto", "examples", "neurons"] },
    evaluate: { type: "boolean" },
    validation: positive,
    validationSplit: { type: "string", enum: ["random", "last"] },
    // their fields are checked by the library's own checks (checkEtaSchedule, checkEarlyStopping)
    etaSchedule: { type: "object" },
    monitor: { type: "array", items: { type: "string" } },
    earlyStopping: { type: "object" },
    name: { type: "string", maxLength: 200 },
  },
} as const;

/** The body of a predict request: rows of numbers. */
export const predictSchema = { type: "object", required: ["inputs"], properties: { inputs: rows } } as const;

/** The schema of one scalar field (what {@link checkField} reads). */
export interface FieldSchema {
  readonly type?: string;
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly enum?: readonly string[];
  readonly maxLength?: number;
}

/**
 * Checks one field against its schema, with the library's messages (`epochs must be a positive
 * integer, got 0`, `init must be one of gaussian, scaled-gaussian, got "x"`). Integers must be safe
 * integers (a seed past 2^53 would silently be another seed), which JSON Schema cannot say.
 */
export function checkField(name: string, value: unknown, schema: FieldSchema): asserts value is string | number | boolean {
  if (schema.type === "integer" && schema.minimum !== undefined) checkInteger(name, value, schema.minimum);
  else if (schema.type === "number" && schema.exclusiveMinimum === 0) checkPositive(name, value);
  else if (schema.type === "boolean") check(typeof value === "boolean", `${name} must be true or false, got ${show(value)}`);
  else if (schema.type === "string" && schema.enum !== undefined) checkOneOf(name, value, schema.enum);
  else if (schema.type === "string" && schema.maxLength !== undefined) {
    check(typeof value === "string" && value.length <= schema.maxLength, `${name} must be a string of at most ${schema.maxLength} characters`);
  } else {
    throw new Error(`checkField: no check for the schema of ${name}: ${JSON.stringify(schema)}`);
  }
}
