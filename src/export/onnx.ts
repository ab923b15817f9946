import type { ActivationName } from "../core/activations.js";
import type { Network, Params } from "../core/network.js";
import { checkExportable, exportedMetadata } from "./exportable.js";
import { ProtoMessage } from "./protobuf.js";

/*
 * A network as an ONNX model (https://onnx.ai/onnx/repo-docs/IR.html). Each weight layer l is
 *   Gemm(x, weights<l>, biases<l>, transB = 1)   y = x·Wᵀ + b, W as shoal stores it (sizes[l+1] × sizes[l], row = neuron)
 * followed by its activation node (Sigmoid, Tanh, Relu, Softmax over axis 1; identity: no node).
 * Graph input "input" is [batch, sizes[0]] with a symbolic batch dimension, output "output" is
 * [batch, sizes[L]]; float32 networks use float tensors, float64 networks double tensors.
 *
 * Field numbers below are those of onnx.proto (ModelProto, GraphProto, NodeProto, …).
 */

/** The ONNX IR version written: 7 (ONNX 1.7–1.8), the IR of opset 13. */
export const onnxIrVersion = 7;
/**
 * The ONNX operator set imported: 13 (ONNX 1.8, 2020), read by every maintained runtime. Its Gemm,
 * Sigmoid, Tanh, Relu and Softmax take float and double; its Softmax normalises along one axis.
 */
export const onnxOpset = 13;

/** TensorProto.DataType */
const FLOAT = 1;
const DOUBLE = 11;
/** AttributeProto.AttributeType */
const INT = 2;

const operators: Record<Exclude<ActivationName, "identity">, string> = { sigmoid: "Sigmoid", tanh: "Tanh", relu: "Relu", softmax: "Softmax" };

/**
 * The network as the bytes of an ONNX model file (IR version {@link onnxIrVersion}, opset
 * {@link onnxOpset}): input "input" [batch, inputs], output "output" [batch, outputs], one Gemm and
 * one activation per layer, float tensors for a float32 network and double for float64. Its
 * metadata_props hold the network's sizes, activations, cost and dtype, then every key of
 * `metadata` — pass the model file's (a Network carries no dataset or class names); values that
 * are not strings are written as JSON. Throws a ValidationError for a network with a non-finite parameter.
 */
export function exportOnnx(network: Network, metadata?: Record<string, unknown>): Uint8Array {
  checkExportable(network, metadata);
  const { sizes, activation, outputActivation, dtype } = network.spec;
  const elemType = dtype === "float32" ? FLOAT : DOUBLE;
  const graph = new ProtoMessage();
  const initializers: ProtoMessage[] = [];
  let x = "input";
  for (let l = 0; l < network.layerCount; l++) {
    const last = l === network.layerCount - 1;
    const act = last ? outputActivation : activation;
    const weights = `weights${l}`;
    const biases = `biases${l}`;
    const z = last && act === "identity" ? "output" : `z${l}`;
    graph.message(1, node("Gemm", `gemm${l}`, [x, weights, biases], z, [intAttribute("transB", 1)]));
    initializers.push(tensor(weights, [sizes[l + 1]!, sizes[l]!], elemType, network.weights(l)), tensor(biases, [sizes[l + 1]!], elemType, network.biases(l)));
    x = z;
    if (act !== "identity") {
      const a = last ? "output" : `a${l}`;
      graph.message(1, node(operators[act], `${act}${l}`, [z], a, act === "softmax" ? [intAttribute("axis", 1)] : []));
      x = a;
    }
  }
  graph.string(2, "shoal");
  for (const t of initializers) graph.message(5, t);
  graph.message(11, valueInfo("input", elemType, sizes[0]!));
  graph.message(12, valueInfo("output", elemType, sizes[sizes.length - 1]!));

  const model = new ProtoMessage()
    .varint(1, onnxIrVersion)
    .string(2, "shoal")
    .string(6, `${sizes.join("-")} fully-connected network exported by shoal: ${activation} hidden layers, ${outputActivation} output, ${dtype}`)
    .message(7, graph)
    .message(8, new ProtoMessage().varint(2, onnxOpset)); // OperatorSetIdProto: domain "" (the default ONNX domain), version
  for (const [key, value] of Object.entries(exportedMetadata(network, metadata))) {
    model.message(14, new ProtoMessage().string(1, key).string(2, typeof value === "string" ? value : JSON.stringify(value)));
  }
  return model.encode();
}

/** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5. */
function node(opType: string, name: string, inputs: readonly string[], output: string, attributes: readonly ProtoMessage[]): ProtoMessage {
  const m = new ProtoMessage();
  for (const input of inputs) m.string(1, input);
  m.string(2, output).string(3, name).string(4, opType);
  for (const a of attributes) m.message(5, a);
  return m;
}

/** AttributeProto: name 1, i 3, type 20. */
function intAttribute(name: string, value: number): ProtoMessage {
  return new ProtoMessage().string(1, name).varint(3, value).varint(20, INT);
}

/** TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian, as ONNX requires). */
function tensor(name: string, dims: readonly number[], elemType: number, values: Params): ProtoMessage {
  const m = new ProtoMessage();
  for (const d of dims) m.varint(1, d);
  return m.varint(2, elemType).string(8, name).bytes(9, littleEndian(values));
}

/** ValueInfoProto (name 1, type 2) of a [batch, width] tensor: TypeProto.tensor_type 1 → elem_type 1, shape 2 → dim 1 (dim_param 2, dim_value 1). */
function valueInfo(name: string, elemType: number, width: number): ProtoMessage {
  const shape = new ProtoMessage().message(1, new ProtoMessage().string(2, "batch")).message(1, new ProtoMessage().varint(1, width));
  const tensorType = new ProtoMessage().varint(1, elemType).message(2, shape);
  return new ProtoMessage().string(1, name).message(2, new ProtoMessage().message(1, tensorType));
}

/** The values' bytes, little-endian whatever the machine's byte order. */
export function littleEndian(values: Params): Uint8Array {
  const bytes = new Uint8Array(values.byteLength);
  const view = new DataView(bytes.buffer);
  if (values instanceof Float32Array) for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i]!, true);
  else for (let i = 0; i < values.length; i++) view.setFloat64(8 * i, values[i]!, true);
  return bytes;
}
