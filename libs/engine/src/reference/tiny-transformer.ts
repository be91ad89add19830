/** @file Reference Llama-style decoder (RMSNorm, RoPE, GQA, SwiGLU) on the engine: the PyTorch parity model, the training test and the benchmark's workload. */
import { hostTensor, type DType, type HostTensor } from '../ir/dtype';
import { attention, applyRotary, causalMask, crossEntropy, rmsNorm, ropeTables, swiglu } from '../frontend/composite';
import { input, type Tensor } from '../frontend/tensor';
import { Rng } from '../random';

export interface TinyConfig {
  vocab: number;
  dim: number;
  heads: number;
  kvHeads: number;
  hidden: number;
  layers: number;
  ropeTheta: number;
  normEps: number;
}

export const tinyConfig: TinyConfig = { vocab: 11, dim: 8, heads: 2, kvHeads: 1, hidden: 16, layers: 2, ropeTheta: 10000, normEps: 1e-5 };

/** Parameter names and shapes, weights stored (in, out) so a linear layer is x·W. */
export function tinyParamShapes(c: TinyConfig): Record<string, number[]> {
  const hd = c.dim / c.heads;
  const shapes: Record<string, number[]> = { embed: [c.vocab, c.dim] };
  for (let l = 0; l < c.layers; l++) {
    Object.assign(shapes, {
      [`l${l}.attn_norm`]: [c.dim], [`l${l}.wq`]: [c.dim, c.heads * hd], [`l${l}.wk`]: [c.dim, c.kvHeads * hd],
      [`l${l}.wv`]: [c.dim, c.kvHeads * hd], [`l${l}.wo`]: [c.heads * hd, c.dim], [`l${l}.mlp_norm`]: [c.dim],
      [`l${l}.w_gate`]: [c.dim, c.hidden], [`l${l}.w_up`]: [c.dim, c.hidden], [`l${l}.w_down`]: [c.hidden, c.dim],
    });
  }
  return Object.assign(shapes, { final_norm: [c.dim], lm_head: [c.dim, c.vocab] });
}

/** Seeded init: norms at 1, matrices N(0, 0.02·√(64/dim)) so tiny models train quickly. */
export function tinyInit(c: TinyConfig, seed: number): Record<string, HostTensor> {
  const rng = new Rng(seed);
  const std = 0.02 * Math.sqrt(64 / c.dim);
  return Object.fromEntries(
    Object.entries(tinyParamShapes(c)).map(([n, s]) => [n, s.length === 1 ? hostTensor('float32', s, new Array(s[0]).fill(1)) : rng.normalTensor(s, std)]),
  );
}

export interface TinyGraph {
  params: Record<string, Tensor>;
  logits: Tensor;
  loss: Tensor;
}

/**
 * The forward graph over symbolic (B, T): inputs `ids`, `targets` (B, T) int64, `rope.cos`/`rope.sin`
 * (T, D) and an additive `mask` (T, T); see tinyFeeds.
 */
export function tinyTransformer(c: TinyConfig, dtype: DType = 'float32'): TinyGraph {
  const hd = c.dim / c.heads;
  const p = Object.fromEntries(Object.entries(tinyParamShapes(c)).map(([n, s]) => [n, input(n, s, dtype)]));
  const ids = input('ids', ['B', 'T'], 'int64');
  const targets = input('targets', ['B', 'T'], 'int64');
  const cos = input('rope.cos', ['T', hd], dtype);
  const sin = input('rope.sin', ['T', hd], dtype);
  const mask = input('mask', ['T', 'T'], dtype);
  const heads = (x: Tensor, n: number) => x.reshape(['B', 'T', n, hd]).transpose([0, 2, 1, 3]); // (B, n, T, D)
  let x = p.embed.gather(ids); // (B, T, C)
  for (let l = 0; l < c.layers; l++) {
    const h = rmsNorm(x, p[`l${l}.attn_norm`], c.normEps);
    const q = applyRotary(heads(h.matmul(p[`l${l}.wq`]), c.heads), cos, sin);
    const k = applyRotary(heads(h.matmul(p[`l${l}.wk`]), c.kvHeads), cos, sin);
    const v = heads(h.matmul(p[`l${l}.wv`]), c.kvHeads);
    const o = attention(q, k, v, { mask }).transpose([0, 2, 1, 3]).reshape(['B', 'T', c.heads * hd]); // (B, T, H·D)
    x = x.add(o.matmul(p[`l${l}.wo`]));
    x = x.add(swiglu(rmsNorm(x, p[`l${l}.mlp_norm`], c.normEps), p[`l${l}.w_gate`], p[`l${l}.w_up`], p[`l${l}.w_down`]));
  }
  const logits = rmsNorm(x, p.final_norm, c.normEps).matmul(p.lm_head); // (B, T, V)
  return { params: p, logits, loss: crossEntropy(logits, targets) };
}

/** Feeds for one batch: ids/targets as given, plus RoPE tables and the causal mask for T. */
export function tinyFeeds(c: TinyConfig, ids: number[][], targets: number[][], dtype: DType = 'float32'): Record<string, HostTensor> {
  const b = ids.length;
  const t = ids[0].length;
  const { cos, sin } = ropeTables(t, c.dim / c.heads, c.ropeTheta, 0, dtype);
  return {
    ids: hostTensor('int64', [b, t], ids.flat()),
    targets: hostTensor('int64', [b, t], targets.flat()),
    'rope.cos': cos,
    'rope.sin': sin,
    mask: causalMask(t, t, dtype),
  };
}
