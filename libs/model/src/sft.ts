/** @file Supervised fine-tuning (LoRA or full) on (input_ids, labels) batches: HF causal shift, −100 ignored, AdamW, schedules. */
import {
  adamw,
  constantSchedule,
  cosineSchedule,
  createTrainer,
  crossEntropy,
  hostTensor,
  input,
  linearSchedule,
  type Feed,
  type HostTensor as EngineTensor,
  type Schedule,
  type Tensor,
} from '@seal/engine';
import { attentionMaskFeed, positionIds, ropeRowFeeds } from './feeds';
import type { LanguageModel } from './language-model';
import { B, Llama, LORA_SCALE, loraInputName, T } from './llama';
import type { LoraAdapter, LoraPair } from './peft';
import type { HostTensor } from './safetensors';
import { batchForStep, collate, IGNORE_INDEX, validateExamples, type SftExample, type TokenBatch } from './sft-data';

export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface SftOptions {
  steps: number;
  lr: number;
  /** AdamW decoupled weight decay (default 0, as the CLI contract and HF TrainingArguments). */
  weightDecay?: number;
  schedule?: ScheduleKind;
  warmup?: number;
  /** Rows per step; default: the whole data set every step. */
  batchSize?: number;
  /** Global gradient-norm clip (HF Trainer's max_grad_norm); default off. */
  maxGradNorm?: number;
  /** Called after every step with the loss computed before that step's update. */
  onStep?: (step: { step: number; loss: number; lr: number }) => void;
}

export interface SftResult<T> {
  readonly trained: T;
  /** Per-step losses, each computed before that step's update. */
  readonly losses: number[];
}

export class TrainingError extends Error {
  override name = 'TrainingError';
}

function scheduleFor(o: SftOptions): Schedule {
  const warmupSteps = o.warmup ?? 0;
  switch (o.schedule ?? 'constant') {
    case 'constant':
      return constantSchedule(o.lr, warmupSteps);
    case 'linear':
      return linearSchedule({ lr: o.lr, warmupSteps, totalSteps: o.steps });
    case 'cosine':
      return cosineSchedule({ lr: o.lr, warmupSteps, totalSteps: o.steps });
    default:
      throw new TrainingError(`schedule must be constant, linear or cosine, got ${JSON.stringify(o.schedule)}`);
  }
}

function checkOptions(o: SftOptions): void {
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new TrainingError(`steps must be a positive integer, got ${o.steps}`);
  if (!(o.lr >= 0) || !Number.isFinite(o.lr)) throw new TrainingError(`lr must be a non-negative number, got ${o.lr}`);
  if (o.batchSize !== undefined && (!Number.isInteger(o.batchSize) || o.batchSize < 1)) throw new TrainingError(`batch size must be a positive integer, got ${o.batchSize}`);
  if (o.warmup !== undefined && (!Number.isInteger(o.warmup) || o.warmup < 0)) throw new TrainingError(`warmup must be a non-negative integer, got ${o.warmup}`);
}

/**
 * HF's causal-LM loss as a graph: the logits at t predict labels[t+1], so targets are the labels
 * shifted left by one with −100 in the last slot (the host does the shift); the mean runs over
 * targets ≠ −100.
 */
function lossGraph(model: Llama): Tensor {
  return crossEntropy(model.sequenceLogits(), input('targets', [B, T], 'int64'), { ignoreIndex: IGNORE_INDEX });
}

/** Data feeds of one batch: ids, shifted targets, RoPE tables and the causal mask (right padding needs no padding mask). */
function batchFeeds(lm: LanguageModel, batch: TokenBatch): Record<string, EngineTensor> {
  const { batchSize: b, seqLen: t } = batch;
  const targets = new Array<number>(b * t).fill(IGNORE_INDEX);
  for (let r = 0; r < b; r++) for (let j = 0; j + 1 < t; j++) targets[r * t + j] = batch.labels[r * t + j + 1];
  const full = Array.from({ length: b }, () => new Array<number>(t).fill(1));
  return {
    ids: hostTensor('int64', [b, t], batch.inputIds),
    targets: hostTensor('int64', [b, t], targets),
    ...ropeRowFeeds(lm.config, positionIds(full, t)),
    mask: attentionMaskFeed(full, t),
  };
}

async function runSteps(
  lm: LanguageModel,
  graphModel: Llama,
  trainable: Record<string, Tensor>,
  init: Record<string, EngineTensor>,
  frozen: Record<string, Feed>,
  examples: readonly SftExample[],
  o: SftOptions,
) {
  checkOptions(o);
  validateExamples(examples, lm.config.vocabSize, 'training data');
  const longest = examples.reduce((i, e, j) => (e.inputIds.length > examples[i].inputIds.length ? j : i), 0);
  if (examples[longest].inputIds.length > lm.config.maxPositionEmbeddings) {
    throw new TrainingError(`training data: row ${longest} has ${examples[longest].inputIds.length} tokens, more than max_position_embeddings = ${lm.config.maxPositionEmbeddings}`);
  }
  const padId = lm.config.padTokenId ?? lm.tokenizer?.padId ?? 0;
  const trainer = await createTrainer(
    lm.runtime,
    { loss: lossGraph(graphModel), params: trainable, optimizer: adamw({ weightDecay: o.weightDecay ?? 0 }), maxGradNorm: o.maxGradNorm },
    init,
    scheduleFor(o),
  );
  try {
    const losses: number[] = [];
    for (let step = 0; step < o.steps; step++) {
      const batch = collate(batchForStep(examples, step, o.batchSize), padId);
      const result = await trainer.step({ ...frozen, ...batchFeeds(lm, batch) });
      if (!result.ok) throw new TrainingError(`step ${step}: ${result.reason} (loss ${result.loss}, grad norm ${result.gradNorm})`);
      losses.push(result.loss);
      o.onStep?.({ step, loss: result.loss, lr: result.lr });
    }
    return { losses, params: trainer.params() };
  } finally {
    await trainer.release();
  }
}

/** Trains the adapter's A and B (base frozen); returns a new adapter, the input is untouched. */
export async function trainLora(lm: LanguageModel, adapter: LoraAdapter, examples: readonly SftExample[], o: SftOptions): Promise<SftResult<LoraAdapter>> {
  const graphModel = new Llama(lm.config, { r: adapter.config.r, targets: new Set(adapter.pairs.keys()) });
  const trainable = Object.fromEntries([...graphModel.loraInputs].filter(([n]) => n !== LORA_SCALE));
  const adapterFeeds = lm.adapterFeeds(adapter);
  const init = Object.fromEntries(Object.keys(trainable).map((n) => [n, adapterFeeds[n]]));
  const frozen = { ...(await lm.frozenFeeds()), [LORA_SCALE]: adapterFeeds[LORA_SCALE] };
  const { losses, params } = await runSteps(lm, graphModel, trainable, init, frozen, examples, o);
  const pairs = new Map<string, LoraPair>();
  for (const [name, pair] of adapter.pairs) {
    pairs.set(name, {
      a: { shape: pair.a.shape, data: params[loraInputName(name, 'A')].data as Float32Array },
      b: { shape: pair.b.shape, data: params[loraInputName(name, 'B')].data as Float32Array },
    });
  }
  return { trained: { ...adapter, pairs }, losses };
}

/** Full fine-tuning of every base parameter; returns new parameters (our names), the model is untouched. */
export async function trainFull(lm: LanguageModel, examples: readonly SftExample[], o: SftOptions): Promise<SftResult<Map<string, HostTensor>>> {
  const graphModel = new Llama(lm.config, null);
  const trainable = Object.fromEntries(graphModel.baseInputs());
  const init = Object.fromEntries(Object.keys(trainable).map((n) => [n, lm.params.get(n)!]));
  const { losses, params } = await runSteps(lm, graphModel, trainable, init, {}, examples, o);
  const trained = new Map<string, HostTensor>(Object.entries(params).map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }]));
  return { trained, losses };
}
