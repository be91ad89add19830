/** @file Host-side graph feeds: HF position ids from an attention mask, RoPE cos/sin tables, additive attention masks. */
import { hostTensor, type HostTensor } from '@seal/engine';
import { ropeInverseFrequencies, type ModelConfig } from './config';

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

/** cos/sin of position × inverse frequency, duplicated over both halves (HF's `cat(freqs, freqs)`), (B, 1, 1, T, D). */
export function ropeFeeds(config: ModelConfig, positions: readonly (readonly number[])[]): { cos: HostTensor; sin: HostTensor } {
  const invFreq = ropeInverseFrequencies(config);
  const d = config.headDim;
  const half = d / 2;
  const b = positions.length;
  const t = positions[0]?.length ?? 0;
  const cos = new Float32Array(b * t * d);
  const sin = new Float32Array(b * t * d);
  positions.forEach((row, bi) =>
    row.forEach((p, ti) => {
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(p * invFreq[i]); // HF forms the angle in float32
        const at = (bi * t + ti) * d + i;
        cos[at] = cos[at + half] = Math.cos(angle);
        sin[at] = sin[at + half] = Math.sin(angle);
      }
    }),
  );
  return { cos: { dtype: 'float32', shape: [b, 1, 1, t, d], data: cos }, sin: { dtype: 'float32', shape: [b, 1, 1, t, d], data: sin } };
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
