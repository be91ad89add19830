/** @file Incremental decoding over a KV cache that lives in the runtime's worker: fixed capacity, appended in place. */
import type { CompiledGraph, Feed, HostTensor, Runtime, WeightRef, WriteInto } from '@seal/engine';
import type { ModelConfig } from './config';
import type { DecodeLoopInput, DecodeLoopOutput, LoopSampling } from './decode-loop';
import { idsFeed, positionIds, ropeRowFeeds, slotFeeds } from './feeds';
import type { StopReason } from './stopping';

/** The worker program behind Decoder.sample. */
const DECODE_LOOP = new URL('./decode-loop.ts', import.meta.url);

/** Graph input / output names of the slot-cache decode graph (LanguageModel.openDecoder builds it). */
export const slotNames = {
  past: (layer: number, which: 'k' | 'v') => `past.${layer}.${which}`,
  present: (layer: number, which: 'k' | 'v') => `new.${layer}.${which}`,
  pastIndex: 'pastIndex',
  newIndex: 'newIndex',
  mask: 'mask',
} as const;

/**
 * Room added whenever the cache is full: attention reads every allocated slot, so the cache grows
 * in steps of this many instead of starting at full capacity (a generation that stops early at EOS
 * would otherwise read up to `capacity` slots every step). Each growth copies the cache once.
 */
export const GROW_SLOTS = 64;

/** Checks one step's new tokens against the context, the cache capacity and the mask; returns the tokens written after it. */
export function stepLength(config: ModelConfig, capacity: number, filled: number, ids: HostTensor, newMask: readonly (readonly number[])[]): number {
  const t = ids.shape[1];
  if (t === 0) throw new RangeError('decoder: a step needs at least one token per row');
  const total = filled + t;
  if (total > config.maxPositionEmbeddings) {
    throw new RangeError(`prompt + generated tokens: ${total} tokens exceed the model's context (max_position_embeddings = ${config.maxPositionEmbeddings})`);
  }
  if (total > capacity) throw new RangeError(`decoder: ${total} tokens exceed the cache capacity of ${capacity} (openDecoder's capacity)`);
  newMask.forEach((row, b) => {
    if (row.length !== t) throw new RangeError(`decoder: mask row ${b} has ${row.length} entries, ids have ${t}`);
  });
  return total;
}

/** Cache slots to hold `needed` tokens given `slots` now: unchanged when they fit, else `growBy` more than needed, capped at `capacity`. */
export function slotsFor(needed: number, slots: number, capacity: number, growBy: number): number {
  return needed <= slots ? slots : Math.min(capacity, needed + growBy);
}

/**
 * One step's feeds over the slot cache (ids, RoPE rows, mask and slot indices, the cache itself)
 * and where its new keys/values go: the next `t` slots after `filled`. `history` already holds the
 * new tokens' mask. Decoder.step and the worker's decode loop (decode-loop.ts) both build steps here.
 */
export function stepFeeds(config: ModelConfig, cache: Record<string, WeightRef>, history: readonly (readonly number[])[], filled: number, ids: HostTensor): { feeds: Record<string, Feed>; writeInto: Record<string, WriteInto> } {
  const t = ids.shape[1];
  const slots = cache[slotNames.past(0, 'k')].shape[3];
  const feeds: Record<string, Feed> = { ...cache, ids, ...ropeRowFeeds(config, positionIds(history, t)), ...slotFeeds(history, filled, slots, t) };
  const writeInto: Record<string, WriteInto> = {};
  for (let i = 0; i < config.numLayers; i++) {
    for (const which of ['k', 'v'] as const) writeInto[slotNames.present(i, which)] = { target: cache[slotNames.past(i, which)], axis: 3, offset: filled };
  }
  return { feeds, writeInto };
}

/** A compiled slot-cache graph and the feeds it gets every step: frozen weights unless baked in, and the adapter. */
export interface DecodeGraph {
  readonly graph: CompiledGraph;
  readonly fixedFeeds: Record<string, Feed>;
}

/**
 * One batch's decoding state: a KV cache of up to `capacity` slots per row, held in a worker. Each
 * step feeds only the new tokens; the graph returns the new keys/values, which the worker writes
 * into the next slots, so the cache never crosses the thread boundary and is never copied whole
 * per step. Call close() when done (generate does, also on errors).
 */
export class Decoder {
  private filled = 0;
  private history: number[][];
  private closed = false;
  /** Allocated on the first step, grown by `growBy` slots when full; slots = its dim 3. */
  private cache: Record<string, WeightRef> | null = null;

  constructor(
    private readonly runtime: Runtime,
    /**
     * `tokens` runs any number of new tokens per row (the prefill); `single` is the same model built
     * for exactly one (every later step), which lets its attention slice instead of gather.
     */
    private readonly graphs: { readonly tokens: DecodeGraph; readonly single: DecodeGraph },
    private readonly config: ModelConfig,
    readonly batch: number,
    readonly capacity: number,
    private readonly growBy = GROW_SLOTS,
  ) {
    this.history = Array.from({ length: batch }, () => []);
  }

  /** Makes room for `needed` slots: allocates or grows the cache, never beyond `capacity`. */
  private async reserve(needed: number): Promise<Record<string, WeightRef>> {
    const slots = this.cache ? this.cache[slotNames.past(0, 'k')].shape[3] : 0;
    if (this.cache && needed <= slots) return this.cache;
    const size = slotsFor(needed, slots, this.capacity, this.growBy);
    if (this.cache) {
      this.cache = await this.runtime.grow(this.cache, 3, size);
    } else {
      const { numLayers, numKvHeads, headDim } = this.config;
      const specs: Record<string, { dtype: 'float32'; shape: number[] }> = {};
      for (let i = 0; i < numLayers; i++) {
        for (const which of ['k', 'v'] as const) specs[slotNames.past(i, which)] = { dtype: 'float32', shape: [this.batch, numKvHeads, 1, size, headDim] };
      }
      this.cache = await this.runtime.allocate(specs, { near: this.graphs.tokens.graph });
    }
    return this.cache;
  }

  /** Tokens written so far (prompt and generated, padding included) per row. */
  get length(): number {
    return this.filled;
  }

  /**
   * Feeds T new tokens per row (`newMask` 0 = padding, e.g. a left-padded prompt or a finished row)
   * and returns the last position's logits (B, V).
   */
  async step(ids: readonly (readonly number[])[], newMask: readonly (readonly number[])[]): Promise<HostTensor> {
    if (this.closed) throw new Error('decoder: step after close()');
    if (ids.length !== this.batch || newMask.length !== this.batch) throw new RangeError(`decoder: step got ${ids.length} rows of ids and ${newMask.length} of mask, the decoder holds ${this.batch}`);
    const idsTensor = idsFeed(ids, this.config.vocabSize);
    const total = stepLength(this.config, this.capacity, this.filled, idsTensor, newMask);
    // Committed only after the run succeeds, so a failed step leaves the decoder as it was.
    const history = this.history.map((row, b) => [...row, ...newMask[b]]);
    const cache = await this.reserve(total);
    const { graph, fixedFeeds } = idsTensor.shape[1] === 1 ? this.graphs.single : this.graphs.tokens;
    const { feeds, writeInto } = stepFeeds(this.config, cache, history, this.filled, idsTensor);
    const out = await graph.run({ ...fixedFeeds, ...feeds }, { writeInto });
    this.history = history;
    this.filled = total;
    return out.logits;
  }

  /**
   * Prefills `prompt` (a step like step()) and then samples and feeds one token per unfinished row
   * until every row stops at EOS or `maxNewTokens` — all inside the worker holding the cache
   * (decode-loop.ts), so no token costs a round trip between threads. The same tokens as sampling
   * step() by step() with the same seed. Stop strings need the text, so generate() keeps those on
   * the step() path. A failure closes the decoder (the cache may be partly written).
   */
  async sample(prompt: { ids: number[][]; mask: number[][] }, options: LoopSampling): Promise<{ tokens: number[][]; stopReasons: StopReason[] }> {
    if (this.closed) throw new Error('decoder: sample after close()');
    if (prompt.ids.length !== this.batch || prompt.mask.length !== this.batch) throw new RangeError(`decoder: sample got ${prompt.ids.length} rows of ids and ${prompt.mask.length} of mask, the decoder holds ${this.batch}`);
    stepLength(this.config, this.capacity, this.filled, idsFeed(prompt.ids, this.config.vocabSize), prompt.mask);
    const cache = await this.reserve(this.filled + prompt.ids[0].length);
    const input: DecodeLoopInput = {
      config: this.config,
      capacity: this.capacity,
      growBy: this.growBy,
      cache,
      filled: this.filled,
      history: this.history,
      fixedFeeds: { tokens: this.graphs.tokens.fixedFeeds, single: this.graphs.single.fixedFeeds },
      prompt,
      sampling: options,
    };
    let out: DecodeLoopOutput;
    try {
      out = await this.runtime.runProgram<DecodeLoopOutput>(DECODE_LOOP, input, { graphs: { tokens: this.graphs.tokens.graph, single: this.graphs.single.graph }, near: cache[slotNames.past(0, 'k')] });
    } catch (e) {
      // The loop may have written and grown the cache before it failed: this side no longer knows
      // its state, so the decoder ends here rather than step on from a wrong one.
      await this.close().catch(() => undefined);
      throw e;
    }
    // The worker grew the cache in place (same refs): only the shapes here are stale.
    this.cache = Object.fromEntries(Object.entries(cache).map(([name, ref]) => [name, { ...ref, shape: ref.shape.map((d, i) => (i === 3 ? out.slots : d)) }]));
    this.filled = out.filled;
    this.history = out.history;
    return { tokens: out.tokens, stopReasons: out.stopReasons };
  }

  /** Cache slots allocated now (grows towards `capacity` as tokens arrive). */
  get slots(): number {
    return this.cache ? this.cache[slotNames.past(0, 'k')].shape[3] : 0;
  }

  /** Frees the cache in the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.cache) await this.runtime.dropWeights(this.cache);
    this.cache = null;
  }
}
