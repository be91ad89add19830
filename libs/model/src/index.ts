/** @file Public API of @seal/model: HF/PEFT I/O, tokenizer and chat template, sampling and stopping units, SFT data. */
export { ConfigError, loadConfig, parseConfig, ropeInverseFrequencies } from './config';
export type { Architecture, Llama3RopeScaling, ModelConfig } from './config';
export {
  encodeSafetensors,
  openCheckpoint,
  readAll,
  SafetensorsError,
  SafetensorsFile,
  writeSafetensors,
} from './safetensors';
export type { FloatDtype, HostTensor, TensorInfo, TensorSource } from './safetensors';
export { linearSpecs, loadParams, paramSpecs, PROJECTION_MODULES, toHfTensors, WeightLoadError } from './hf-names';
export type { LinearSpec, ParamSpec } from './hf-names';
export { loadCheckpoint, saveCheckpoint } from './checkpoint';
export type { Checkpoint, SaveCheckpointOptions } from './checkpoint';
export {
  AdapterError,
  adapterFiles,
  defaultTargetModules,
  initLoraAdapter,
  loadPeftAdapter,
  loraScale,
  resolveTargets,
  savePeftAdapter,
} from './peft';
export type { LoraAdapter, LoraConfig, LoraPair } from './peft';
export { LoraError, mergeAdapter } from './lora';
export { loadTokenizer, TokenizerError } from './tokenizer';
export type { TextTokenizer } from './tokenizer';
export { ChatTemplateError, renderChat } from './chat-template';
export type { ChatMessage } from './chat-template';
export { createRng } from './random';
export type { Rng } from './random';
export { argmax, categorical, composeProcessors, processorsFor, samplerFor, softmax, temperature, topK, topP } from './sampling';
export type { LogitsProcessor, Sampler, SamplingOptions } from './sampling';
export {
  anyCriterion,
  eosCriterion,
  maxNewTokensCriterion,
  safePrefixLength,
  stopStringCriterion,
  truncateAtStop,
} from './stopping';
export type { SequenceProgress, StopCriterion, StopReason } from './stopping';
export { batchForStep, collate, DataError, IGNORE_INDEX, readInputIds, readSftData, validateExamples } from './sft-data';
export type { SftExample, TokenBatch } from './sft-data';
export { checkOutputDir, OutputDirError, writeDirAtomically } from './atomic-dir';
export { LanguageModel } from './language-model';
export type { Decoder } from './decoder';
export type { HostKvCache, LanguageModelOptions } from './language-model';
export { Llama, rmsNorm, ropeRowInputs, ropeRowNames } from './llama';
export type { KvCache, LayerContext, LoraShape, RopeRows, SlotCache } from './llama';
export { positionIds, ropeRowFeeds } from './feeds';
export { generate, leftPad } from './generate';
export type { GenerateOptions, Generation } from './generate';
export { trainFull, trainLora, TrainingError } from './sft';
export type { ScheduleKind, SftOptions, SftResult } from './sft';
export { benchAdapterMemory, benchConfig, benchDecode, benchMatMul, benchShapes, benchTraining, forwardFlops, loraTrainFlops, median, randomCheckpoint } from './bench';
export type { BenchSize, TrainBench } from './bench';
