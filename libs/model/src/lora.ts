/** @file LoRA on a frozen base: y = x·W + (α/r)·(x·A)·B, and the explicit merge θ ← θ + (α/r)·A·B. */
import type { ModelConfig } from './config';
import type { LoraAdapter } from './peft';
import type { HostTensor } from './safetensors';

export class LoraError extends Error {
  override name = 'LoraError';
}

/**
 * Folds an adapter into a copy of the base parameters: W (in, out) += scale · A (in, r) · B (r, out).
 * The base map is not modified (it may be shared by other adapters).
 */
export function mergeAdapter(config: ModelConfig, params: ReadonlyMap<string, HostTensor>, adapter: LoraAdapter): Map<string, HostTensor> {
  const merged = new Map(params);
  const r = adapter.config.r;
  for (const [linear, { a, b }] of adapter.pairs) {
    const name = `${linear}.weight`;
    const w = params.get(name);
    if (!w) throw new LoraError(`adapter targets "${linear}" but the ${config.architecture} base has no parameter "${name}"`);
    const [inF, outF] = w.shape;
    if (a.shape[0] !== inF || a.shape[1] !== r || b.shape[0] !== r || b.shape[1] !== outF) {
      throw new LoraError(`adapter "${linear}": A ${JSON.stringify(a.shape)} · B ${JSON.stringify(b.shape)} does not fit W ${JSON.stringify(w.shape)} with r=${r}`);
    }
    const out = Float32Array.from(w.data);
    // Accumulate in float64 per output element so the merge is as exact as float32 storage allows.
    for (let i = 0; i < inF; i++) {
      for (let o = 0; o < outF; o++) {
        let acc = 0;
        for (let k = 0; k < r; k++) acc += a.data[i * r + k] * b.data[k * outF + o];
        out[i * outF + o] += adapter.scale * acc;
      }
    }
    merged.set(name, { shape: w.shape, data: out });
  }
  return merged;
}
