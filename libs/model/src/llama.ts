/** @file The Llama-family transformer (Llama, Qwen2) as an engine graph, top to bottom like nanoGPT. */
import { concat, constant, hostTensor, input, rmsNorm as engineRmsNorm, rotaryEmbedding, type Dim, type Tensor } from '@seal/engine';
import type { ModelConfig } from './config';
import { linearSpecs, paramSpecs } from './hf-names';

// Every weight is a graph *input*, never an initializer: one compiled graph then serves the base and
// every adapter of the same shape, and the frozen base is fed from one shared buffer per process.

/** The structure (not the values) of the adapter a graph is built for. */
export interface LoraShape {
  readonly r: number;
  /** Our linear names that carry A and B, e.g. `layers.0.attn.q`. */
  readonly targets: ReadonlySet<string>;
}

/** Graph input names of LoRA factors and their shared scale (α/r). */
export const loraInputName = (linear: string, which: 'A' | 'B') => `lora.${linear}.${which}`;
export const LORA_SCALE = 'lora.scale';

/** Symbolic dims: batch, new tokens, cached tokens, and the attended length P+T. */
export const B = 'B';
export const T = 'T';
export const P = 'P';

// ---------------------------------------------------------------------------------------------
// Functions

/**
 * RMSNorm over the last axis: x / √(mean(x²) + ε) · w. Written as the engine's Pow → ReduceMean →
 * Add → Sqrt → Div → Mul chain, which ORT fuses into one SimplifiedLayerNormalization kernel on
 * forward-only graphs (decode: 6 nodes → 1 per norm, 9 norms at S).
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  return engineRmsNorm(x, weight, eps);
}

// ---------------------------------------------------------------------------------------------
// Modules

/** y = x·W (+ b) (+ scale·(x·A)·B when the layer carries a LoRA adapter). W is (in, out). */
class Linear {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly lora: { a: Tensor; b: Tensor; scale: Tensor } | null;

  constructor(readonly name: string, inF: number, outF: number, bias: boolean, lora: LoraShape | null, scale: Tensor | null) {
    this.weight = input(`${name}.weight`, [inF, outF]);
    this.bias = bias ? input(`${name}.bias`, [outF]) : null;
    this.lora = lora && scale && lora.targets.has(name)
      ? { a: input(loraInputName(name, 'A'), [inF, lora.r]), b: input(loraInputName(name, 'B'), [lora.r, outF]), scale }
      : null;
  }

  forward(x: Tensor): Tensor {
    let y = x.matmul(this.weight);
    if (this.bias) y = y.add(this.bias);
    // Scaling the rank-r intermediate (T·r values) instead of the output (T·out) is the same product, cheaper.
    if (this.lora) y = y.add(x.matmul(this.lora.a).mul(this.lora.scale).matmul(this.lora.b));
    return y;
  }
}

export interface KvCache {
  /** (B, Hkv, 1, P, D) each (the grouped layout attention uses); P = 0 for a fresh prompt. */
  readonly k: Tensor;
  readonly v: Tensor;
}

/**
 * A fixed-capacity cache of C slots, (B, Hkv, 1, C, D) each, whose slots are written outside the
 * graph (the runtime's writeInto): the graph reads it and never copies it, and returns only the new
 * keys/values. The layer context's mask then covers [C slots | T new keys] (unwritten slots and
 * padding masked), and the two index vectors pick each block's probabilities back out.
 */
export interface SlotCache extends KvCache {
  /** (C) int64: 0 … C−1, the cached slots' columns in the joined scores. */
  readonly pastIndex: Tensor;
  /** (T) int64: C … C+T−1, the new keys' columns. */
  readonly newIndex: Tensor;
}

/**
 * HF's rotate-half RoPE through ORT's RotaryEmbedding kernel (one node per q and k; the
 * decomposed form was five, and as many again in a backward pass). Row (b, t) of q is rotated by
 * table row `qRows[b][t]` of cos/sin (N, D/2) and k by row `kRows[b][t]`. q's rows carry the
 * 1/√D attention scale, so q needs no Mul either. feeds.ropeRowFeeds builds them from positions.
 */
export interface RopeRows {
  readonly cos: Tensor;
  readonly sin: Tensor;
  /** (B, T) int64 each */
  readonly qRows: Tensor;
  readonly kRows: Tensor;
}

/** Graph input names of RopeRows (feeds.ropeRowFeeds fills them). */
export const ropeRowNames = { cos: 'rope.cos', sin: 'rope.sin', qRows: 'rope.qRows', kRows: 'rope.kRows' } as const;

/** RopeRows as graph inputs for (B, T) new tokens; the tables' row count is its own symbolic dim. */
export function ropeRowInputs(b: Dim, t: Dim, headDim: number): RopeRows {
  return {
    cos: input(ropeRowNames.cos, ['ropeRows', headDim / 2]),
    sin: input(ropeRowNames.sin, ['ropeRows', headDim / 2]),
    qRows: input(ropeRowNames.qRows, [b, t], 'int64'),
    kRows: input(ropeRowNames.kRows, [b, t], 'int64'),
  };
}

/** What every layer needs besides its input: RoPE and the additive mask. */
export interface LayerContext {
  readonly rope: RopeRows;
  /**
   * (B, 1, 1, T, S) additive: 0 where a query may attend, a large negative number elsewhere. S = T,
   * or P+T with a concatenated cache, or C+T with a SlotCache (slots first, then the new keys).
   */
  readonly mask: Tensor;
}

class Attention {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;

  constructor(private readonly c: ModelConfig, prefix: string, lora: LoraShape | null, scale: Tensor | null) {
    const { hiddenSize: d, numHeads: h, numKvHeads: kv, headDim: hd } = c;
    this.q = new Linear(`${prefix}.q`, d, h * hd, c.qkvBias, lora, scale);
    this.k = new Linear(`${prefix}.k`, d, kv * hd, c.qkvBias, lora, scale);
    this.v = new Linear(`${prefix}.v`, d, kv * hd, c.qkvBias, lora, scale);
    this.o = new Linear(`${prefix}.o`, h * hd, d, c.oBias, lora, scale);
  }

  /**
   * Grouped-query attention without copying K/V: query heads are grouped (B, Hkv, rep, T, D) so
   * each group's matmul broadcasts against its one K/V head (B, Hkv, 1, S, D). Head h uses KV head
   * ⌊h / rep⌋, as HF's repeat_kv does.
   */
  forward(x: Tensor, ctx: LayerContext, past: KvCache | SlotCache | null): { y: Tensor; present: KvCache } {
    const { numHeads: h, numKvHeads: kv, headDim: hd } = this.c;
    const rep = h / kv;
    const [b, t] = [x.shape[0]!, x.shape[1]!];
    const heads = (y: Tensor, n: number, r: number) => y.reshape([b, t, n, r, hd]).transpose([0, 2, 3, 1, 4]);
    const vNew = heads(this.v.forward(x), kv, 1); // (B, Hkv, 1, T, D)
    // q's RoPE table rows carry the 1/√D scale: scaling q (T·D values) instead of the scores (T·S
    // values) is the same product, cheaper. The cache holds keys after RoPE, so cached positions
    // never need re-rotating.
    const { rope } = ctx;
    const qr = heads(rotaryEmbedding(this.q.forward(x), rope.qRows, rope.cos, rope.sin), kv, rep); // (B, Hkv, rep, T, D)
    const kr = heads(rotaryEmbedding(this.k.forward(x), rope.kRows, rope.cos, rope.sin), kv, 1); // (B, Hkv, 1, T, D)
    const att = past && 'pastIndex' in past ? slotAttention(qr, kr, vNew, past, ctx.mask) : concatAttention(qr, kr, vNew, past, ctx.mask);
    const merged = att.out.transpose([0, 3, 1, 2, 4]).reshape([b, t, h * hd]); // (B, T, H·D)
    return { y: this.o.forward(merged), present: att.present };
  }
}

const keysLast = (k: Tensor) => k.transpose([0, 1, 2, 4, 3]);

/** Attention over the cache concatenated with the new keys: present is the grown cache (B, Hkv, 1, P+T, D). */
function concatAttention(q: Tensor, k: Tensor, v: Tensor, past: KvCache | null, mask: Tensor): { out: Tensor; present: KvCache } {
  const kAll = past ? concat([past.k, k], 3) : k; // (B, Hkv, 1, S, D), S = P + T
  const vAll = past ? concat([past.v, v], 3) : v;
  const scores = q.matmul(keysLast(kAll)).add(mask); // (B, Hkv, rep, T, S)
  return { out: scores.softmax(-1).matmul(vAll), present: { k: kAll, v: vAll } };
}

/**
 * Attention over C cache slots and the T new keys without joining the keys/values (that would copy
 * the whole cache every step): only the scores are joined, (T, C+T), for one softmax in the same
 * column order as concatAttention; each block's probabilities are then gathered back out and meet
 * their own values. present is only the new keys/values (B, Hkv, 1, T, D).
 */
function slotAttention(q: Tensor, k: Tensor, v: Tensor, past: SlotCache, mask: Tensor): { out: Tensor; present: KvCache } {
  const t = q.shape[3];
  if (t === 1) return singleTokenSlotAttention(q, k, v, past, mask);
  const scores = concat([q.matmul(keysLast(past.k)), q.matmul(keysLast(k))], -1).add(mask); // (B, Hkv, rep, T, C+T)
  const p = scores.softmax(-1);
  const out = p.gather(past.pastIndex, -1).matmul(past.v).add(p.gather(past.newIndex, -1).matmul(v)); // (B, Hkv, rep, T, D)
  return { out, present: { k, v } };
}

/**
 * slotAttention for a graph built with one new token per row (T = 1 statically), the shape of
 * every decode step after the prefill: the new key's score and value are a dot product and a
 * broadcast product instead of B·H one-element matmuls, and the two probability blocks are the
 * scores' last column and the rest (Slices) instead of Gathers over index vectors.
 */
function singleTokenSlotAttention(q: Tensor, k: Tensor, v: Tensor, past: SlotCache, mask: Tensor): { out: Tensor; present: KvCache } {
  const scores = concat([q.matmul(keysLast(past.k)), q.mul(k).sum([-1], true)], -1).add(mask); // (B, Hkv, rep, 1, C+1)
  const p = scores.softmax(-1);
  const last = Number.MAX_SAFE_INTEGER;
  const out = p.slice([0], [-1], [-1]).matmul(past.v).add(p.slice([-1], [last], [-1]).mul(v)); // (B, Hkv, rep, 1, D)
  return { out, present: { k, v } };
}

/** SwiGLU feed-forward: down(silu(gate(x)) · up(x)). */
class Mlp {
  readonly gate: Linear;
  readonly up: Linear;
  readonly down: Linear;

  constructor(c: ModelConfig, prefix: string, lora: LoraShape | null, scale: Tensor | null) {
    this.gate = new Linear(`${prefix}.gate`, c.hiddenSize, c.intermediateSize, c.mlpBias, lora, scale);
    this.up = new Linear(`${prefix}.up`, c.hiddenSize, c.intermediateSize, c.mlpBias, lora, scale);
    this.down = new Linear(`${prefix}.down`, c.intermediateSize, c.hiddenSize, c.mlpBias, lora, scale);
  }

  forward(x: Tensor): Tensor {
    const g = this.gate.forward(x);
    return this.down.forward(g.mul(g.sigmoid()).mul(this.up.forward(x)));
  }
}

/** Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x)). */
class Block {
  readonly attnNorm: Tensor;
  readonly attn: Attention;
  readonly mlpNorm: Tensor;
  readonly mlp: Mlp;

  constructor(private readonly c: ModelConfig, i: number, lora: LoraShape | null, scale: Tensor | null) {
    this.attnNorm = input(`layers.${i}.attnNorm.weight`, [c.hiddenSize]);
    this.attn = new Attention(c, `layers.${i}.attn`, lora, scale);
    this.mlpNorm = input(`layers.${i}.mlpNorm.weight`, [c.hiddenSize]);
    this.mlp = new Mlp(c, `layers.${i}.mlp`, lora, scale);
  }

  forward(x: Tensor, ctx: LayerContext, past: KvCache | SlotCache | null): { x: Tensor; present: KvCache } {
    const { y, present } = this.attn.forward(rmsNorm(x, this.attnNorm, this.c.rmsNormEps), ctx, past);
    const h = x.add(y);
    return { x: h.add(this.mlp.forward(rmsNorm(h, this.mlpNorm, this.c.rmsNormEps))), present };
  }
}

export interface LlamaInputs {
  /** (B, T) int64 token ids. */
  readonly ids: Tensor;
  readonly ctx: LayerContext;
  /**
   * One cache per layer, or null for a cacheless forward (training, scoring). KvCache: present is
   * the cache grown by concatenation. SlotCache: present is only the new keys/values.
   */
  readonly past: readonly KvCache[] | readonly SlotCache[] | null;
}

export interface LlamaOutputs {
  /** (B, T, D) after the final norm. */
  readonly hidden: Tensor;
  /** Per layer: the grown cache (KvCache past) or the new keys/values only (SlotCache past). */
  readonly present: KvCache[];
}

export class Llama {
  readonly embed: Tensor;
  readonly blocks: Block[];
  readonly norm: Tensor;
  /** (D, V); for tied models the embedding transposed. */
  readonly head: Tensor;
  /** Graph inputs holding LoRA factors (empty without an adapter). */
  readonly loraInputs: Map<string, Tensor> = new Map();

  constructor(readonly config: ModelConfig, readonly lora: LoraShape | null = null) {
    const scale = lora ? input(LORA_SCALE, []) : null;
    this.embed = input('embed.weight', [config.vocabSize, config.hiddenSize]);
    this.blocks = Array.from({ length: config.numLayers }, (_, i) => new Block(config, i, lora, scale));
    this.norm = input('norm.weight', [config.hiddenSize]);
    this.head = config.tieWordEmbeddings ? this.embed.transpose([1, 0]) : input('lmHead.weight', [config.hiddenSize, config.vocabSize]);
    if (lora) {
      const known = new Set(linearSpecs(config).map((l) => l.name));
      const unknown = [...lora.targets].filter((t) => !known.has(t));
      if (unknown.length) throw new Error(`LoRA targets ${unknown.join(', ')} are not linears of this ${config.architecture} model`);
      this.loraInputs.set(LORA_SCALE, scale!);
      for (const block of this.blocks) {
        for (const l of [block.attn.q, block.attn.k, block.attn.v, block.attn.o, block.mlp.gate, block.mlp.up, block.mlp.down]) {
          if (l.lora) this.loraInputs.set(loraInputName(l.name, 'A'), l.lora.a).set(loraInputName(l.name, 'B'), l.lora.b);
        }
      }
    }
  }

  /** Every base-weight graph input by our parameter name (the HF table's names), e.g. to train them all. */
  baseInputs(): Map<string, Tensor> {
    const out = new Map<string, Tensor>([['embed.weight', this.embed], ['norm.weight', this.norm]]);
    if (!this.config.tieWordEmbeddings) out.set('lmHead.weight', this.head);
    this.blocks.forEach((block, i) => {
      out.set(`layers.${i}.attnNorm.weight`, block.attnNorm).set(`layers.${i}.mlpNorm.weight`, block.mlpNorm);
      for (const l of [block.attn.q, block.attn.k, block.attn.v, block.attn.o, block.mlp.gate, block.mlp.up, block.mlp.down]) {
        out.set(`${l.name}.weight`, l.weight);
        if (l.bias) out.set(`${l.name}.bias`, l.bias);
      }
    });
    const expected = paramSpecs(this.config).map((s) => s.name);
    if (expected.length !== out.size || expected.some((n) => !out.has(n))) throw new Error('Llama: graph inputs disagree with the HF name table');
    return out;
  }

  forward({ ids, ctx, past }: LlamaInputs): LlamaOutputs {
    let x = this.embed.gather(ids); // (B, T, D)
    const present: KvCache[] = [];
    this.blocks.forEach((block, i) => {
      const out = block.forward(x, ctx, past ? past[i] : null);
      x = out.x;
      present.push(out.present);
    });
    return { hidden: rmsNorm(x, this.norm, this.config.rmsNormEps), present };
  }

  /** (…, D) → (…, V) */
  logits(hidden: Tensor): Tensor {
    return hidden.matmul(this.head);
  }

  /**
   * Logits (B, T, V) of a cacheless forward over whole sequences, from graph inputs `ids` (B, T),
   * the RoPE rows (ropeRowInputs) and an additive `mask` (B, 1, 1, T, T): the graph of
   * LanguageModel.logits, SFT and pretraining.
   */
  sequenceLogits(): Tensor {
    const ctx = { rope: ropeRowInputs(B, T, this.config.headDim), mask: input('mask', [B, 1, 1, T, T]) };
    return this.logits(this.forward({ ids: input('ids', [B, T], 'int64'), ctx, past: null }).hidden);
  }

  /** Hidden state of the last position, (B, T, D) → (B, D); with left padding it is real for every row. */
  static lastPosition(hidden: Tensor): Tensor {
    return hidden.gather(constant(hostTensor('int64', [], [-1]), 'int64'), 1);
  }
}
