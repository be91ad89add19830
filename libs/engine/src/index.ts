/** @file Public API of @seal/engine: tensors and graphs, autodiff, composites, runtime, training. See API.md. */
export { hostTensor, sharedHostTensor, numel, toNumberArray, type DType, type HostTensor, type TypedArray } from './ir/dtype';
export type { Dim, OpKind, OpParams, Shape } from './ir/ops';
export { ShapeError } from './ir/shape';
export { Tensor, input, constant, concat, where, zerosLike } from './frontend/tensor';
export { grad, type GradOptions } from './autodiff/backward';
export { toOnnxModel, OPSET } from './onnx/emit';
export { createRuntime, Runtime, CompiledGraph, type RuntimeOptions, type GraphInputInfo } from './runtime/runtime';
export { availableProviders, ProviderUnavailableError, type Provider } from './runtime/providers';
export { Rng } from './random';
export {
  silu, swiglu, rmsNorm, ropeTables, applyRotary, causalMask, attention, crossEntropy,
  type AttentionOptions, type CrossEntropyOptions,
} from './frontend/composite';
