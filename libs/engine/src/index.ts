/** @file Public API of @seal/engine: tensors and graphs, autodiff, composites, runtime, training. See API.md. */
export { hostTensor, numel, toNumberArray, type DType, type HostTensor, type TypedArray } from './ir/dtype';
export type { Dim, OpKind, OpParams, Shape } from './ir/ops';
export { ShapeError } from './ir/shape';
export { printGraph } from './ir/print';
export { Tensor, input, constant, concat, where, zerosLike } from './frontend/tensor';
export { grad, type GradOptions } from './autodiff/backward';
export { toOnnxModel, OPSET } from './onnx/emit';
export { createRuntime, Runtime, CompiledGraph, type RuntimeOptions, type GraphInputInfo, type WeightRef, type Feed, type RunOptions, type WriteInto, type CompileOptions, type WorkerContext, type WorkerProgram } from './runtime/runtime';
export { availableProviders, ProviderUnavailableError, type Provider } from './runtime/providers';
export { Rng } from './random';
export {
  silu, swiglu, rmsNorm, ropeTables, applyRotary, rotaryEmbedding, causalMask, attention, crossEntropy,
  type AttentionOptions, type CrossEntropyOptions,
} from './frontend/composite';
export { adamw, sgd, type Optimizer, type AdamWConfig, type SgdConfig } from './optim/optimizer';
export { constantSchedule, linearSchedule, cosineSchedule, type Schedule } from './optim/schedules';
export { buildTrainStep, type TrainSpec, type TrainStepGraph } from './train/train-step';
export { createTrainer, Trainer, type StepResult, type TrainerResume } from './train/trainer';
export { tinyConfig, tinyFeeds, tinyInit, tinyParamShapes, tinyTransformer, type TinyConfig, type TinyGraph } from './reference/tiny-transformer';
