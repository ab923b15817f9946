/**
 * shoal: fully-connected neural networks trained with backpropagation and mini-batch SGD on every
 * core of a Node.js machine.
 */
export { Network, layoutOf, type NetworkOptions, type NetworkSpec, type Params, type DType, type Init, type Layout } from "./core/network.js";
export type { ActivationName } from "./core/activations.js";
export type { CostName } from "./core/costs.js";
export { createDataset, sliceDataset, validateDataset, outputSize, type Dataset, type DatasetInit, type DataValues, type Targets } from "./core/dataset.js";
export type { Evaluation } from "./core/evaluate.js";
export { Rng } from "./core/rng.js";
export { ShoalError, ValidationError, ModelFileError, AbortError, TrainingThreadError, DivergenceError } from "./core/errors.js";
export { train, startDefaultPool, closeDefaultPool } from "./train/train.js";
export { createPool, type TrainingPool, type PoolOptions } from "./parallel/pool.js";
export type { TrainOptions, ResumeTrainOptions, TrainResult, EpochReport, Progress } from "./train/options.js";
export type { EtaSchedule, EarlyStopping, Monitor, StopReason } from "./core/schedule.js";
export type { MonitorFlag } from "./core/schedule.js";
export type { StepPhases } from "./parallel/epoch-share.js";
export { loadMnistDigits, mnistDigitsSplit, type MnistSplit } from "./data/mnist.js";
export { saveNetwork, loadNetwork, loadModel } from "./io/model-file.js";
export { toModelJson, fromModelJson, parseModel, type ModelJson, type ParsedModel } from "./io/model-format.js";
export { writeFileAtomic } from "./io/atomic-write.js";
export { exportOnnx, onnxIrVersion, onnxOpset } from "./export/onnx.js";
export { exportJsModule } from "./export/js-module.js";
export { loadIdxDataset, loadIdxFolder, readIdxImages, readIdxLabels } from "./data/idx.js";
export { loadFashionMnist, fashionMnistClasses } from "./data/fashion-mnist.js";
export { loadCsv, type CsvOptions, type CsvDataset } from "./data/csv.js";
export { DataFileError } from "./data/errors.js";
export { saveCheckpoint, loadCheckpoint, type Checkpoint, type CheckpointOptions } from "./io/checkpoint.js";
export * from "./service/index.js";
