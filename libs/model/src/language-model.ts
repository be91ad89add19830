/** @file A loaded model on the engine runtime: the frozen base held once, compiled graphs cached per adapter shape. */
import { createRuntime, hostTensor, input, type CompiledGraph, type CompileOptions, type Dim, type Feed, type HostTensor, type Runtime, type RuntimeOptions, type Tensor, type WeightRef } from '@seal/engine';
import { loadCheckpoint, type Checkpoint } from './checkpoint';
import type { ModelConfig } from './config';
import { Decoder, slotNames } from './decoder';
import { attentionMaskFeed, idsFeed, positionIds, ropeRowFeeds } from './feeds';
import { B, Llama, LORA_SCALE, loraInputName, P, ropeRowInputs, T, type KvCache, type LoraShape, type SlotCache } from './llama';
import type { LoraAdapter } from './peft';
import type { TextTokenizer } from './tokenizer';

/** Per-layer KV cache values on the host, (B, Hkv, 1, P, D) each. */
export interface HostKvCache {
  readonly k: HostTensor[];
  readonly v: HostTensor[];
  /** (B, P) 1 = real token, 0 = padding. */
  readonly attentionMask: number[][];
}

export interface LanguageModelOptions extends RuntimeOptions {
  /** Share a runtime (and its workers) between models; otherwise one is created and owned. */
  runtime?: Runtime;
  /**
   * Bake the frozen base into the one-token decode step graph (openDecoder, so generate) as
   * initializers that ORT pre-packs once: a step runs ~2× faster (fed weights are re-packed on every
   * small-batch matmul), but each step graph (one per adapter shape) holds its own packed copy of the
   * base. The prefill always reads the shared fed base.
   * Default: on when the base is at most 512 MiB, off above (memory wins for large checkpoints:
   * building the session briefly holds the serialized model and ORT's copies, ~3× the base).
   */
  packDecodeWeights?: boolean;
}

/**
 * Decode steps are ~180 tiny ops run back to back with a sub-millisecond worker round trip between
 * them: letting the step session's idle threads spin through that gap instead of sleeping measured
 * +17 % tok/s at S batch 1 and +9 % at batch 8 (2 threads, medians of 10 alternating rounds; a
 * 100 µs spin gained nothing).
 */
const DECODE_SPIN_MICROS = 1000;

/** Above this many bytes of base weights, decode graphs share the fed base instead of packing a copy. */
const PACK_DECODE_LIMIT_BYTES = 512 * 2 ** 20;

const loraShapeOf = (adapter: LoraAdapter | null): LoraShape | null =>
  adapter ? { r: adapter.config.r, targets: new Set(adapter.pairs.keys()) } : null;

const shapeKey = (lora: LoraShape | null) => (lora ? `r${lora.r}:${[...lora.targets].sort().join(',')}` : 'base');

function buildAdapterFeeds(adapter: LoraAdapter): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = { [LORA_SCALE]: hostTensor('float32', [], [adapter.scale]) };
  for (const [name, { a, b }] of adapter.pairs) {
    feeds[loraInputName(name, 'A')] = hostTensor('float32', [...a.shape], a.data);
    feeds[loraInputName(name, 'B')] = hostTensor('float32', [...b.shape], b.data);
  }
  return feeds;
}

export class LanguageModel {
  readonly config: ModelConfig;
  readonly tokenizer: TextTokenizer | null;
  readonly dir: string;
  /** Base weights on the host (our names, float32): initial values for full fine-tuning, merges, saving. */
  readonly params: ReadonlyMap<string, HostTensor>;
  private uploaded: Promise<Record<string, WeightRef>> | null = null;
  private readonly graphs = new Map<string, Promise<CompiledGraph>>();
  private readonly adapterFeedCache = new WeakMap<LoraAdapter, Record<string, HostTensor>>();

  /** Whether decode graphs carry the base as pre-packed initializers (LanguageModelOptions.packDecodeWeights). */
  readonly packDecodeWeights: boolean;

  private constructor(checkpoint: Checkpoint, readonly runtime: Runtime, private readonly ownsRuntime: boolean, packDecodeWeights: boolean | undefined) {
    this.config = checkpoint.config;
    this.tokenizer = checkpoint.tokenizer;
    this.dir = checkpoint.dir;
    // Own copies (typed-array copies, not element by element): the checkpoint's arrays may be views into its files.
    this.params = new Map([...checkpoint.params].map(([name, t]) => [name, { dtype: 'float32', shape: [...t.shape], data: new Float32Array(t.data) } satisfies HostTensor]));
    const baseBytes = [...this.params.values()].reduce((n, t) => n + t.data.byteLength, 0);
    this.packDecodeWeights = packDecodeWeights ?? baseBytes <= PACK_DECODE_LIMIT_BYTES;
  }

  /**
   * The frozen base as feeds: uploaded into the runtime's workers once, then fed by reference, so
   * every graph (logits, decode, training) and every adapter shares one copy.
   */
  frozenFeeds(): Promise<Record<string, Feed>> {
    this.uploaded ??= this.runtime.uploadWeights(Object.fromEntries(this.params));
    return this.uploaded;
  }

  /** Number of compiled graphs; swapping adapters of one shape must not grow it. */
  get compiledGraphs(): number {
    return this.graphs.size;
  }

  static load(dir: string, options: LanguageModelOptions = {}): LanguageModel {
    return LanguageModel.fromCheckpoint(loadCheckpoint(dir), options);
  }

  static fromCheckpoint(checkpoint: Checkpoint, options: LanguageModelOptions = {}): LanguageModel {
    const { runtime: shared, packDecodeWeights, ...runtimeOptions } = options;
    const runtime = shared ?? createRuntime({ intraOpThreads: 1, ...runtimeOptions });
    return new LanguageModel(checkpoint, runtime, !shared, packDecodeWeights);
  }

  /**
   * LoRA feeds for an adapter (A, B per target and the scale); swapping adapters only swaps these.
   * Built once per adapter object: adapters are treated as immutable (training returns a new one).
   */
  adapterFeeds(adapter: LoraAdapter | null): Record<string, HostTensor> {
    if (!adapter) return {};
    let feeds = this.adapterFeedCache.get(adapter);
    if (!feeds) {
      feeds = buildAdapterFeeds(adapter);
      this.adapterFeedCache.set(adapter, feeds);
    }
    return feeds;
  }

  private graph(kind: 'logits' | 'decode' | 'slots' | 'step', lora: LoraShape | null, build: (model: Llama) => Record<string, Tensor>, options: CompileOptions = {}): Promise<CompiledGraph> {
    const key = `${kind}:${shapeKey(lora)}`;
    let g = this.graphs.get(key);
    if (!g) {
      g = this.runtime.compile(build(new Llama(this.config, lora)), options);
      this.graphs.set(key, g);
    }
    return g;
  }

  private checkLength(t: number, field: string): void {
    if (t > this.config.maxPositionEmbeddings) {
      throw new RangeError(`${field}: ${t} tokens exceed the model's context (max_position_embeddings = ${this.config.maxPositionEmbeddings})`);
    }
  }

  /** Full-sequence logits (B, T, V) for unpadded rows, as HF's forward returns them. */
  async logits(ids: readonly (readonly number[])[], adapter: LoraAdapter | null = null): Promise<HostTensor> {
    const idsTensor = idsFeed(ids, this.config.vocabSize);
    const [b, t] = idsTensor.shape;
    this.checkLength(t, 'input_ids');
    const lora = loraShapeOf(adapter);
    const graph = await this.graph('logits', lora, (model) => ({ logits: model.sequenceLogits() }));
    const full = Array.from({ length: b }, () => new Array<number>(t).fill(1));
    const rope = ropeRowFeeds(this.config, positionIds(full, t));
    const out = await graph.run({ ...(await this.frozenFeeds()), ...this.adapterFeeds(adapter), ids: idsTensor, ...rope, mask: attentionMaskFeed(full, t) });
    return out.logits;
  }

  /** An empty cache (P = 0) for `b` rows. */
  emptyCache(b: number): HostKvCache {
    const { numLayers, numKvHeads, headDim } = this.config;
    const empty = () => Array.from({ length: numLayers }, () => hostTensor('float32', [b, numKvHeads, 1, 0, headDim]));
    return { k: empty(), v: empty(), attentionMask: Array.from({ length: b }, () => []) };
  }

  /**
   * One prefill or decode step: feed T new tokens (left-padded rows marked 0 in `newMask`) after the
   * cached ones; returns the last position's logits (B, V) and the grown cache. With
   * `consumeCache` the old cache's buffers move to the worker instead of being copied (it must not
   * be used again), which is what a decode loop wants.
   */
  async step(
    ids: readonly (readonly number[])[],
    newMask: readonly (readonly number[])[],
    cache: HostKvCache,
    adapter: LoraAdapter | null = null,
    options: { consumeCache?: boolean } = {},
  ) {
    const idsTensor = idsFeed(ids, this.config.vocabSize);
    const t = idsTensor.shape[1];
    const attentionMask = cache.attentionMask.map((row, i) => [...row, ...newMask[i]]);
    this.checkLength(attentionMask[0].length, 'prompt + generated tokens');
    const lora = loraShapeOf(adapter);
    const { numLayers, numKvHeads, headDim } = this.config;
    const graph = await this.graph('decode', lora, (model) => {
      const ctx = { rope: ropeRowInputs(B, T, headDim), mask: input('mask', [B, 1, 1, T, `${P}+${T}`]) };
      const past: KvCache[] = Array.from({ length: numLayers }, (_, i) => ({
        k: input(`past.${i}.k`, [B, numKvHeads, 1, P, headDim]),
        v: input(`past.${i}.v`, [B, numKvHeads, 1, P, headDim]),
      }));
      const out = model.forward({ ids: input('ids', [B, T], 'int64'), ctx, past });
      const outputs: Record<string, Tensor> = { logits: model.logits(Llama.lastPosition(out.hidden)) };
      out.present.forEach((kv, i) => {
        outputs[`present.${i}.k`] = kv.k;
        outputs[`present.${i}.v`] = kv.v;
      });
      return outputs;
    });
    const rope = ropeRowFeeds(this.config, positionIds(attentionMask, t));
    const feeds: Record<string, Feed> = { ...(await this.frozenFeeds()), ...this.adapterFeeds(adapter), ids: idsTensor, ...rope, mask: attentionMaskFeed(attentionMask, t) };
    for (let i = 0; i < numLayers; i++) {
      feeds[`past.${i}.k`] = cache.k[i];
      feeds[`past.${i}.v`] = cache.v[i];
    }
    const transfer = options.consumeCache
      ? [...cache.k, ...cache.v].map((t) => t.data.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0)
      : [];
    const out = await graph.run(feeds, { transfer });
    const next: HostKvCache = {
      k: Array.from({ length: numLayers }, (_, i) => out[`present.${i}.k`]),
      v: Array.from({ length: numLayers }, (_, i) => out[`present.${i}.v`]),
      attentionMask,
    };
    return { logits: out.logits, cache: next };
  }

  /**
   * A decoder for `batch` rows with room for up to `capacity` tokens per row (prompt + new tokens):
   * its KV cache lives in a worker, is appended in place and grows `growBy` slots at a time
   * (default GROW_SLOTS) as needed (see decoder.ts). This is what
   * generate() runs; step() below is the same model with the cache on the host.
   */
  async openDecoder(batch: number, capacity: number, adapter: LoraAdapter | null = null, options: { growBy?: number } = {}): Promise<Decoder> {
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`openDecoder: batch must be a positive integer, got ${batch}`);
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`openDecoder: capacity must be a positive integer, got ${capacity}`);
    this.checkLength(capacity, 'decoder capacity');
    const lora = loraShapeOf(adapter);
    const { numLayers, numKvHeads, headDim } = this.config;
    // The capacity is a symbolic dim ('C'), so one graph serves every batch size and capacity.
    const build = (t: Dim) => (model: Llama) => {
      const ctx = { rope: ropeRowInputs(B, t, headDim), mask: input(slotNames.mask, [B, 1, 1, t, `C+${t}`]) };
      const pastIndex = input(slotNames.pastIndex, ['C'], 'int64');
      const newIndex = input(slotNames.newIndex, [t], 'int64');
      const past: SlotCache[] = Array.from({ length: numLayers }, (_, i) => ({
        k: input(slotNames.past(i, 'k'), [B, numKvHeads, 1, 'C', headDim]),
        v: input(slotNames.past(i, 'v'), [B, numKvHeads, 1, 'C', headDim]),
        pastIndex,
        newIndex,
      }));
      const out = model.forward({ ids: input('ids', [B, t], 'int64'), ctx, past });
      const outputs: Record<string, Tensor> = { logits: model.logits(Llama.lastPosition(out.hidden)) };
      out.present.forEach((kv, i) => {
        outputs[slotNames.present(i, 'k')] = kv.k;
        outputs[slotNames.present(i, 'v')] = kv.v;
      });
      return outputs;
    };
    // The prefill runs once per generation over many tokens (re-packing fed weights is cheap there);
    // the one-token step runs once per token and gets the pre-packed base and a bounded spin.
    const [tokens, single, base] = await Promise.all([
      this.graph('slots', lora, build(T)),
      this.graph('step', lora, build(1), { constants: this.packDecodeWeights ? Object.fromEntries(this.params) : undefined, spinMicros: DECODE_SPIN_MICROS }),
      this.frozenFeeds(),
    ]);
    const adapterFeeds = this.adapterFeeds(adapter);
    return new Decoder(
      this.runtime,
      { tokens: { graph: tokens, fixedFeeds: { ...base, ...adapterFeeds } }, single: { graph: single, fixedFeeds: { ...(this.packDecodeWeights ? {} : base), ...adapterFeeds } } },
      this.config,
      batch,
      capacity,
      options.growBy,
    );
  }

  /** Ends the runtime if this model created it; a shared runtime's owner releases it (its graphs may be shared). */
  async release(): Promise<void> {
    // Graphs are refcounted in the runtime: this drops this model's references (decode graphs
    // carry this checkpoint's packed weights, so a shared runtime must not keep them alive).
    const graphs = [...this.graphs.values()];
    this.graphs.clear();
    await Promise.all(graphs.map((g) => g.then((graph) => graph.release(), () => undefined)));
    if (this.ownsRuntime) await this.runtime.release();
    else if (this.uploaded) await this.runtime.dropWeights(await this.uploaded);
    this.uploaded = null;
  }
}
