/** @file Host-side graph feeds: HF position ids from an attention mask, RoPE table rows, additive attention masks. */
import { hostTensor, type HostTensor } from '@seal/engine';
import { ropeInverseFrequencies, type ModelConfig } from './config';
import { ropeRowNames } from './llama';

/** Added to the score of a key a query may not see; finite so a fully masked row stays NaN-free. */
export const MASKED = -1e9;

/**
 * HF generate's positions: cumsum(mask) − 1, with padded slots set to 1. Left padding thus starts
 * every row's real tokens at position 0. Returns the last `t` columns, (B, T).
 */
export function positionIds(attentionMask: readonly (readonly number[])[], t: number): number[][] {
  return attentionMask.map((row) => {
    let seen = 0;
    const pos = row.map((m) => (m ? seen++ : 1));
    return pos.slice(pos.length - t);
  });
}

/** HF's RoPE angles position × inverse frequency, formed in float32 as HF does: (B·T) rows of D/2. */
function ropeAngles(config: ModelConfig, positions: readonly (readonly number[])[]): Float32Array {
  const invFreq = ropeInverseFrequencies(config);
  const half = config.headDim / 2;
  const angles = new Float32Array(positions.length * (positions[0]?.length ?? 0) * half);
  let at = 0;
  for (const row of positions) for (const p of row) for (let i = 0; i < half; i++) angles[at++] = p * invFreq[i];
  return angles;
}

/**
 * Feeds for llama.ts RopeRows: one table row per (b, t) for k, then the same rows times 1/√D for
 * q (the attention scale), (2·B·T, D/2) each, and the row each (b, t) reads, (B, T) each.
 */
export function ropeRowFeeds(config: ModelConfig, positions: readonly (readonly number[])[]): Record<string, HostTensor> {
  const angles = ropeAngles(config, positions);
  const half = config.headDim / 2;
  const n = angles.length / half; // B·T
  const scale = 1 / Math.sqrt(config.headDim);
  const cos = new Float32Array(2 * angles.length);
  const sin = new Float32Array(2 * angles.length);
  for (let i = 0; i < angles.length; i++) {
    cos[i] = Math.cos(angles[i]);
    sin[i] = Math.sin(angles[i]);
    cos[angles.length + i] = cos[i] * scale;
    sin[angles.length + i] = sin[i] * scale;
  }
  const b = positions.length;
  const t = positions[0]?.length ?? 0;
  return {
    [ropeRowNames.cos]: { dtype: 'float32', shape: [2 * n, half], data: cos },
    [ropeRowNames.sin]: { dtype: 'float32', shape: [2 * n, half], data: sin },
    [ropeRowNames.kRows]: { dtype: 'int64', shape: [b, t], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)) },
    [ropeRowNames.qRows]: { dtype: 'int64', shape: [b, t], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(n + i)) },
  };
}

/**
 * Additive mask (B, 1, 1, T, S) for T new queries over S = P + T keys: query t sits at key index
 * P + t and may see key j when j ≤ P + t (causal) and the key is not padding.
 */
export function attentionMaskFeed(attentionMask: readonly (readonly number[])[], t: number): HostTensor {
  const b = attentionMask.length;
  const s = attentionMask[0]?.length ?? 0;
  const past = s - t;
  const out = new Float32Array(b * t * s);
  for (let bi = 0; bi < b; bi++) {
    for (let ti = 0; ti < t; ti++) {
      for (let j = 0; j < s; j++) out[(bi * t + ti) * s + j] = j <= past + ti && attentionMask[bi][j] ? 0 : MASKED;
    }
  }
  return { dtype: 'float32', shape: [b, 1, 1, t, s], data: out };
}

/** (B, T) ids → int64 feed, checking the range so a bad id names its row and column instead of crashing ORT. */
export function idsFeed(ids: readonly (readonly number[])[], vocabSize: number, field = 'input_ids'): HostTensor {
  const t = ids[0]?.length ?? 0;
  ids.forEach((row, b) => {
    if (row.length !== t) throw new RangeError(`${field}: row ${b} has ${row.length} tokens but row 0 has ${t} (must be rectangular)`);
    row.forEach((id, j) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new RangeError(`${field}[${b}][${j}] = ${id} is out of range [0, ${vocabSize})`);
    });
  });
  return hostTensor('int64', [ids.length, t], ids.flat());
}

/**
 * Feeds for a step over a slot cache (llama.ts SlotCache): the additive mask (B, 1, 1, T, C+T) over
 * [C slots | T new keys] — each new query sees the `filled` written slots that hold real tokens (all
 * precede it, so no causal cut there) and, causally, the new tokens that are not padding — and the
 * index vectors that pick the two blocks back out. `history` is every row's mask over filled slots
 * plus the new tokens.
 */
export function slotFeeds(history: readonly (readonly number[])[], filled: number, slots: number, t: number): { mask: HostTensor; pastIndex?: HostTensor; newIndex?: HostTensor } {
  const b = history.length;
  const s = slots + t;
  const mask = new Float32Array(b * t * s).fill(MASKED);
  for (let bi = 0; bi < b; bi++) {
    const row = history[bi];
    for (let ti = 0; ti < t; ti++) {
      const at = (bi * t + ti) * s;
      for (let j = 0; j < filled; j++) if (row[j]) mask[at + j] = 0;
      for (let j = 0; j <= ti; j++) if (row[filled + j]) mask[at + slots + j] = 0;
    }
  }
  // A one-token step's graph slices the two blocks apart and needs no index vectors.
  if (t === 1) return { mask: { dtype: 'float32', shape: [b, 1, 1, t, s], data: mask } };
  return {
    mask: { dtype: 'float32', shape: [b, 1, 1, t, s], data: mask },
    pastIndex: { dtype: 'int64', shape: [slots], data: BigInt64Array.from({ length: slots }, (_, i) => BigInt(i)) },
    newIndex: { dtype: 'int64', shape: [t], data: BigInt64Array.from({ length: t }, (_, i) => BigInt(slots + i)) },
  };
}
