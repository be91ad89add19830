/** @file Incremental decoding over a KV cache that lives in the runtime's worker: fixed capacity, appended in place. */
import type { CompiledGraph, Feed, HostTensor, Runtime, WeightRef, WriteInto } from '@seal/engine';
import type { ModelConfig } from './config';
import { idsFeed, positionIds, ropeFeeds, slotMaskFeeds } from './feeds';

/** Graph input / output names of the slot-cache decode graph (LanguageModel.openDecoder builds it). */
export const slotNames = {
  past: (layer: number, which: 'k' | 'v') => `past.${layer}.${which}`,
  present: (layer: number, which: 'k' | 'v') => `new.${layer}.${which}`,
  pastMask: 'pastMask',
  mask: 'mask',
} as const;

/**
 * One batch's decoding state: `capacity` cache slots per row, allocated once in a worker. Each
 * step feeds only the new tokens; the graph returns the new keys/values, which the worker writes
 * into the next slots, so the cache never crosses the thread boundary and is never copied whole.
 * Call close() when done (generate does, also on errors).
 */
export class Decoder {
  private filled = 0;
  private history: number[][];
  private closed = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly graph: CompiledGraph,
    private readonly config: ModelConfig,
    /** Frozen weights (when not baked into the graph) and adapter feeds, the same every step. */
    private readonly fixedFeeds: Record<string, Feed>,
    private readonly cache: Record<string, WeightRef>,
    readonly batch: number,
    readonly capacity: number,
  ) {
    this.history = Array.from({ length: batch }, () => []);
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
    const t = idsTensor.shape[1];
    if (t === 0) throw new RangeError('decoder: a step needs at least one token per row');
    const total = this.filled + t;
    if (total > this.config.maxPositionEmbeddings) {
      throw new RangeError(`prompt + generated tokens: ${total} tokens exceed the model's context (max_position_embeddings = ${this.config.maxPositionEmbeddings})`);
    }
    if (total > this.capacity) throw new RangeError(`decoder: ${total} tokens exceed the cache capacity of ${this.capacity} (openDecoder's capacity)`);
    newMask.forEach((row, b) => {
      if (row.length !== t) throw new RangeError(`decoder: mask row ${b} has ${row.length} entries, ids have ${t}`);
    });
    // Committed only after the run succeeds, so a failed step leaves the decoder as it was.
    const history = this.history.map((row, b) => [...row, ...newMask[b]]);
    const { cos, sin } = ropeFeeds(this.config, positionIds(history, t));
    const { pastMask, newMask: mask } = slotMaskFeeds(history, this.filled, this.capacity, t);
    const feeds: Record<string, Feed> = { ...this.fixedFeeds, ...this.cache, ids: idsTensor, cos, sin, [slotNames.pastMask]: pastMask, [slotNames.mask]: mask };
    const writeInto: Record<string, WriteInto> = {};
    for (let i = 0; i < this.config.numLayers; i++) {
      for (const which of ['k', 'v'] as const) writeInto[slotNames.present(i, which)] = { target: this.cache[slotNames.past(i, which)], axis: 3, offset: this.filled };
    }
    const out = await this.graph.run(feeds, { writeInto });
    this.history = history;
    this.filled = total;
    return out.logits;
  }

  /** Frees the cache in the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.runtime.dropWeights(this.cache);
  }
}
