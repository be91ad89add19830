/** @file Model-level ops written with primitives (so they differentiate for free): SiLU, SwiGLU, RMSNorm, RoPE, attention, cross-entropy. */
import { hostTensor, type DType, type HostTensor } from '../ir/dtype';
import { ShapeError, fmt } from '../ir/shape';
import { constant, node, where, type Tensor } from './tensor';

/** silu(x) = x·σ(x). */
export function silu(x: Tensor): Tensor {
  return x.mul(x.sigmoid());
}

/** Llama MLP: (silu(x·Wg) ⊙ (x·Wu))·Wd, weights stored (in, out). */
export function swiglu(x: Tensor, wGate: Tensor, wUp: Tensor, wDown: Tensor): Tensor {
  return silu(x.matmul(wGate)).mul(x.matmul(wUp)).matmul(wDown);
}

/**
 * RMSNorm over the last axis: x / √(mean(x²) + ε) · w (HF LlamaRMSNorm).
 * NOTE: written as Pow → ReduceMean → Add → Sqrt → Div → Mul on purpose: on forward-only graphs
 * ORT's optimizer fuses exactly this chain into its SimplifiedLayerNormalization kernel (tested);
 * in training graphs the intermediates feed the backward pass, so the decomposition stays.
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  const variance = x.pow(2).mean([-1], true); // (..., 1)
  return x.div(variance.add(eps).sqrt()).mul(weight);
}

/**
 * RoPE tables for positions offset..offset+T: cos/sin of shape (T, D), each frequency repeated
 * over both halves (HF layout: emb = cat(freqs, freqs)). θ_i = base^(−2i/D).
 */
export function ropeTables(seqLen: number, headDim: number, theta = 10000, offset = 0, dtype: DType = 'float32'): { cos: HostTensor; sin: HostTensor } {
  if (headDim % 2 !== 0) throw new Error(`ropeTables: headDim ${headDim} must be even`);
  const half = headDim / 2;
  const cos = new Array<number>(seqLen * headDim);
  const sin = new Array<number>(seqLen * headDim);
  for (let t = 0; t < seqLen; t++) {
    for (let i = 0; i < half; i++) {
      // For float32 tables, rounding like torch (HF builds inv_freq and the angles in float32).
      const round = dtype === 'float32' ? Math.fround : (v: number) => v;
      const invFreq = round(1 / round(Math.pow(theta, (2 * i) / headDim)));
      const angle = round((t + offset) * invFreq);
      for (const j of [i, i + half]) {
        cos[t * headDim + j] = Math.cos(angle);
        sin[t * headDim + j] = Math.sin(angle);
      }
    }
  }
  return { cos: hostTensor(dtype, [seqLen, headDim], cos), sin: hostTensor(dtype, [seqLen, headDim], sin) };
}

/** rotate_half(x) = cat(−x₂, x₁) over the last axis. */
function rotateHalf(x: Tensor): Tensor {
  const d = x.shape[x.rank - 1];
  if (typeof d !== 'number' || d % 2 !== 0) throw new ShapeError(`applyRotary: last dim of ${fmt(x.shape)} must be static and even`);
  const [x1, x2] = x.split([d / 2, d / 2], -1);
  return x2.neg().concatWith(x1);
}

/** x·cos + rotate_half(x)·sin, x (B, H, T, D), cos/sin (T, D) or anything broadcastable to x. */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return x.mul(cos).add(rotateHalf(x).mul(sin));
}

/**
 * applyRotary as ORT's one contrib kernel (com.microsoft.RotaryEmbedding), float32 only: x (B, T,
 * H·D) before the head split; row b, t is rotated by the table row `positions[b][t]` of cos/sin
 * (N, D/2), each holding one half of applyRotary's duplicated table. Every position must be < N
 * (ORT does not check). A decode step's q and k each become one node instead of Split, Concat, two
 * Muls and an Add; its gradient is the same kernel with −sin.
 */
export function rotaryEmbedding(x: Tensor, positions: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return node('RotaryEmbedding', [x, positions, cos, sin], {});
}

/** Additive causal mask (T, S): 0 where query i may see key j (j ≤ i + S − T), else −1e9. */
export function causalMask(t: number, s = t, dtype: DType = 'float32'): HostTensor {
  const data = new Array<number>(t * s);
  for (let i = 0; i < t; i++) for (let j = 0; j < s; j++) data[i * s + j] = j <= i + s - t ? 0 : -1e9;
  return hostTensor(dtype, [t, s], data);
}

export interface AttentionOptions {
  /** Additive float mask broadcastable to (B, H, T, S), or bool (true = attend). */
  mask?: Tensor;
  /** Defaults to 1/√D. */
  scale?: number;
}

/**
 * Scaled dot-product attention with grouped-query heads: q (B, Hq, T, D), k/v (B, Hkv, S, D),
 * Hq a multiple of Hkv. Query heads are grouped as (B, Hkv, rep, T, D) so K and V broadcast
 * over the group instead of being copied.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new ShapeError(`attention: q, k, v must be (B, H, T, D), got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  }
  const [b, hq, t, d] = q.shape;
  const hkv = k.shape[1];
  if (typeof hq !== 'number' || typeof hkv !== 'number' || hq % hkv !== 0) {
    throw new ShapeError(`attention: query heads ${hq} must be a static multiple of kv heads ${hkv} (q ${fmt(q.shape)}, k ${fmt(k.shape)})`);
  }
  if (typeof d !== 'number') throw new ShapeError(`attention: head dim of q ${fmt(q.shape)} must be static`);
  const rep = hq / hkv;
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const grouped = rep > 1;
  const qg = grouped ? q.reshape([b, hkv, rep, t, d]) : q; // (B, Hkv, rep, T, D)
  const kg = grouped ? k.reshape([k.shape[0], hkv, 1, k.shape[2], d]) : k; // (B, Hkv, 1, S, D)
  const vg = grouped ? v.reshape([v.shape[0], hkv, 1, v.shape[2], d]) : v;
  let scores = qg.matmul(kg.swapAxes(-1, -2)).mul(scale); // (B, Hkv, rep, T, S)
  if (opts.mask) {
    let m = opts.mask;
    if (grouped && m.rank === 4) m = m.reshape([m.shape[0], m.shape[1], 1, m.shape[2], m.shape[3]]);
    scores = m.dtype === 'bool' ? where(m, scores, -1e9) : scores.add(m.cast(scores.dtype));
  }
  const out = scores.softmax(-1).matmul(vg); // (B, Hkv, rep, T, D)
  return grouped ? out.reshape([b, hq, t, d]) : out;
}

export interface CrossEntropyOptions {
  ignoreIndex?: number;
}

/**
 * Mean token cross-entropy: logits (..., V), targets (...) int64. Targets equal to ignoreIndex
 * (−100, as in PyTorch) are left out of both the sum and the count; with none left the loss is 0.
 * The target log-probability is picked with GatherElements (its gradient scatters back), so no
 * (N, V) one-hot is ever built: that matters at real vocabularies (151k for Qwen2).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const ignore = opts.ignoreIndex ?? -100;
  const v = logits.shape[logits.rank - 1];
  if (typeof v !== 'number') throw new ShapeError(`crossEntropy: vocab dim of ${fmt(logits.shape)} must be static`);
  if (targets.dtype !== 'int64') throw new ShapeError(`crossEntropy: targets must be int64, got ${targets}`);
  const flatLogits = logits.reshape([-1, v]); // (N, V)
  const flatTargets = targets.reshape([-1, 1]); // (N, 1)
  const ignored = flatTargets.equal(constant(ignore, 'int64'));
  const keep = where(ignored, 0, 1).cast(logits.dtype); // (N, 1)
  const safeTargets = where(ignored, constant(0, 'int64'), flatTargets); // ignored rows pick column 0, then count 0
  const nll = flatLogits.logSoftmax(-1).gatherElements(safeTargets, -1).neg(); // (N, 1)
  const count = keep.sum();
  return nll.mul(keep).sum().div(where(count.equal(0), constant(1, logits.dtype), count));
}
