/** @file Logits processors (temperature, top-k, top-p) and samplers, each a small composable unit. */
import type { Rng } from './random';

/** Rewrites one row of logits (V); masked tokens become -Infinity. May work in place. */
export type LogitsProcessor = (logits: Float32Array) => Float32Array;

/** Picks a token id from one row of processed logits. */
export type Sampler = (logits: Float32Array) => number;

export interface SamplingOptions {
  /** 0 means greedy (argmax); otherwise logits are divided by it. */
  temperature: number;
  /** Keep only the k most likely tokens (0 or undefined: off). */
  topK?: number;
  /** Keep the smallest set whose probability reaches p (1 or undefined: off). */
  topP?: number;
}

export function temperature(t: number): LogitsProcessor {
  if (!(t > 0)) throw new RangeError(`temperature must be > 0, got ${t}`);
  return (logits) => {
    for (let i = 0; i < logits.length; i++) logits[i] /= t;
    return logits;
  };
}

/** Keeps the k largest logits (ties at the k-th value are kept, as HF's `< kth value` test does). */
export function topK(k: number): LogitsProcessor {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`top-k must be a positive integer, got ${k}`);
  return (logits) => {
    if (k >= logits.length) return logits;
    const kth = Float32Array.from(logits).sort().reverse()[k - 1];
    for (let i = 0; i < logits.length; i++) if (logits[i] < kth) logits[i] = -Infinity;
    return logits;
  };
}

/**
 * Nucleus filter, HF's TopPLogitsWarper: sort ascending, drop tokens while the cumulative probability
 * stays ≤ 1 − p, always keeping the most likely token.
 */
export function topP(p: number): LogitsProcessor {
  if (!(p > 0 && p <= 1)) throw new RangeError(`top-p must be in (0, 1], got ${p}`);
  return (logits) => {
    if (p === 1) return logits;
    const probs = softmax(logits);
    const order = Array.from(probs.keys()).sort((a, b) => probs[a] - probs[b]);
    let cumulative = 0;
    for (let j = 0; j < order.length - 1; j++) {
      cumulative += probs[order[j]];
      if (cumulative > 1 - p) break;
      logits[order[j]] = -Infinity;
    }
    return logits;
  };
}

export function composeProcessors(...processors: LogitsProcessor[]): LogitsProcessor {
  return (logits) => processors.reduce((row, process) => process(row), logits);
}

/** Softmax in float64 (max-subtracted); -Infinity logits get probability 0. */
export function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** First index of the maximum, as torch.argmax returns. */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** Inverse-CDF draw from the softmax of the logits with one uniform number. */
export function categorical(rng: Rng): Sampler {
  return (logits) => {
    const probs = softmax(logits);
    const u = rng.nextFloat();
    let cumulative = 0;
    let last = 0;
    for (let i = 0; i < probs.length; i++) {
      if (probs[i] === 0) continue;
      cumulative += probs[i];
      last = i;
      if (u < cumulative) return i;
    }
    return last; // u fell in the rounding gap at the top of the CDF
  };
}

/** The processor chain HF applies, in HF's order: temperature → top-k → top-p. */
export function processorsFor(options: SamplingOptions): LogitsProcessor {
  const chain: LogitsProcessor[] = [];
  if (options.temperature > 0 && options.temperature !== 1) chain.push(temperature(options.temperature));
  if (options.topK) chain.push(topK(options.topK));
  if (options.topP !== undefined && options.topP < 1) chain.push(topP(options.topP));
  return composeProcessors(...chain);
}

/** Greedy when temperature is 0, otherwise processed logits then a seeded categorical draw. */
export function samplerFor(options: SamplingOptions, rng: Rng): Sampler {
  if (options.temperature < 0 || !Number.isFinite(options.temperature)) throw new RangeError(`temperature must be ≥ 0, got ${options.temperature}`);
  if (options.temperature === 0) return argmax;
  const process = processorsFor(options);
  const draw = categorical(rng);
  return (logits) => draw(process(Float32Array.from(logits)));
}
