/** @file Benchmark parts for `seal bench`: the S/M model configs, LoRA training and decode throughput, ORT MatMul GFLOP/s. */
import { hostTensor, input, Rng, type Runtime } from '@seal/engine';
import type { Checkpoint } from './checkpoint';
import { parseConfig, type ModelConfig } from './config';
import { generate } from './generate';
import { linearSpecs, paramSpecs, PROJECTION_MODULES } from './hf-names';
import { LanguageModel } from './language-model';
import { initLoraAdapter } from './peft';
import type { HostTensor } from './safetensors';
import { trainLora } from './sft';

export type BenchSize = 'S' | 'M';

/** Issue 5 §5: S = d 256, 4 layers, 4 heads, ff 688, vocab 2048; M = d 512, 8 layers, 8 heads, ff 1376, vocab 4096. */
export const benchShapes = {
  S: { hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 688, vocab_size: 2048 },
  M: { hidden_size: 512, num_hidden_layers: 8, num_attention_heads: 8, intermediate_size: 1376, vocab_size: 4096 },
} as const;

export function benchConfig(size: BenchSize): ModelConfig {
  return parseConfig({ architectures: ['LlamaForCausalLM'], ...benchShapes[size], max_position_embeddings: 512, rms_norm_eps: 1e-5, rope_theta: 10000 }, `bench ${size}`);
}

/** A random model in memory (N(0, 0.02) weights, unit norms), so the benchmark needs no download. */
export function randomCheckpoint(config: ModelConfig, seed: number): Checkpoint {
  const rng = new Rng(seed);
  const params = new Map<string, HostTensor>();
  for (const s of paramSpecs(config)) {
    const isNorm = s.name.endsWith('Norm.weight') || s.name === 'norm.weight';
    const t = isNorm ? { shape: s.shape, data: new Float32Array(s.shape[0]).fill(1) } : { shape: s.shape, data: rng.normalTensor([...s.shape], 0.02).data as Float32Array };
    params.set(s.name, t);
  }
  return { dir: `random-${config.hiddenSize}`, config, params, tokenizer: null };
}

/** Matmul FLOPs of one forward over `tokens` tokens of `seqLen` (2·m·n·k each), split into weights and attention. */
export function forwardFlops(config: ModelConfig, batch: number, seqLen: number): { weights: number; attention: number } {
  const weightParams = linearSpecs(config).reduce((n, l) => n + l.inFeatures * l.outFeatures, 0) + config.hiddenSize * config.vocabSize;
  const tokens = batch * seqLen;
  // QKᵀ and AV: 2 · (2·T·T·D) per head per sequence.
  const attention = config.numLayers * batch * config.numHeads * 2 * (2 * seqLen * seqLen * config.headDim);
  return { weights: 2 * weightParams * tokens, attention };
}

/**
 * LoRA training FLOPs per step: forward, plus the backward's activation gradients (same matmuls
 * again; frozen weights get no weight gradient) and the attention backward (two matmuls per QKᵀ/AV
 * input pair, ≈ 3× the forward's attention in total). LoRA's own matmuls are negligible at r 8.
 */
export function loraTrainFlops(config: ModelConfig, batch: number, seqLen: number): number {
  const f = forwardFlops(config, batch, seqLen);
  return 2 * f.weights + 3 * f.attention;
}

/** The median of the finite values (mean of the middle two for an even count); NaN when there are none. */
export function median(xs: readonly number[]): number {
  const sorted = xs.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface TrainBench {
  msPerStep: number;
  tokensPerSec: number;
  gflopPerStep: number;
  gflopPerSec: number;
}

/** Median step time of LoRA SFT (r 8 on every linear) on random tokens, after `warmup` untimed steps. */
export async function benchTraining(lm: LanguageModel, o: { batch: number; seqLen: number; rank: number; steps: number; warmup: number }): Promise<TrainBench> {
  const rng = new Rng(1);
  const examples = Array.from({ length: o.batch }, () => {
    const ids = Array.from({ length: o.seqLen }, () => Math.floor(rng.uniform() * lm.config.vocabSize));
    return { inputIds: ids, labels: ids };
  });
  const adapter = initLoraAdapter(lm.config, { r: o.rank, alpha: 2 * o.rank, targetModules: [...PROJECTION_MODULES] }, 0);
  const times: number[] = [];
  let last = performance.now();
  await trainLora(lm, adapter, examples, {
    steps: o.warmup + o.steps,
    lr: 1e-4,
    onStep: ({ step }) => {
      const now = performance.now();
      if (step >= o.warmup) times.push(now - last);
      last = now;
    },
  });
  const ms = median(times);
  const gflop = loraTrainFlops(lm.config, o.batch, o.seqLen) / 1e9;
  return { msPerStep: ms, tokensPerSec: (o.batch * o.seqLen) / (ms / 1000), gflopPerStep: gflop, gflopPerSec: gflop / (ms / 1000) };
}

/** New tokens per second of greedy generation (prefill included), batch rows of random prompts. */
export async function benchDecode(lm: LanguageModel, o: { batch: number; promptLen: number; newTokens: number }): Promise<number> {
  const rng = new Rng(2);
  const prompts = Array.from({ length: o.batch }, () => Array.from({ length: o.promptLen }, () => Math.floor(rng.uniform() * lm.config.vocabSize)));
  const options = { temperature: 0, maxNewTokens: o.newTokens, eosTokenIds: [] };
  await generate(lm, prompts, { ...options, maxNewTokens: 2 }); // compile and warm the decode graph
  const t0 = performance.now();
  await generate(lm, prompts, options);
  return (o.batch * o.newTokens) / ((performance.now() - t0) / 1000);
}

/** ORT's own MatMul throughput on this machine: an n×n·n×n product, median of `runs`. */
export async function benchMatMul(runtime: Runtime, n = 1024, runs = 10): Promise<number> {
  const graph = await runtime.compile({ c: input('a', [n, n]).matmul(input('b', [n, n])) });
  const rng = new Rng(3);
  const feeds = { a: rng.normalTensor([n, n]), b: hostTensor('float32', [n, n], rng.normalTensor([n, n]).data) };
  await graph.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await graph.run(feeds);
    times.push(performance.now() - t0);
  }
  return (2 * n * n * n) / (median(times) / 1000) / 1e9;
}

/**
 * Resident memory with many adapters on one base: RSS after scoring with 1 adapter, then after
 * scoring with `count` distinct adapters of the same shape. The base is held once, so the ratio
 * should stay near 1 (issue 5 target: ≤ 1.2 at 16).
 */
export async function benchAdapterMemory(lm: LanguageModel, count = 16, rank = 8): Promise<{ rssOneMiB: number; rssManyMiB: number; ratio: number }> {
  const ids = [Array.from({ length: 64 }, (_, i) => i % lm.config.vocabSize)];
  const adapters = Array.from({ length: count }, (_, i) => initLoraAdapter(lm.config, { r: rank, alpha: 2 * rank, targetModules: [...PROJECTION_MODULES] }, i));
  await lm.logits(ids, adapters[0]);
  const rssOne = process.memoryUsage().rss;
  for (const adapter of adapters) await lm.logits(ids, adapter);
  const rssMany = process.memoryUsage().rss;
  return { rssOneMiB: rssOne / 2 ** 20, rssManyMiB: rssMany / 2 ** 20, ratio: rssMany / rssOne };
}
