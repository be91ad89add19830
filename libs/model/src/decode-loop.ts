/**
 * @file The decode loop run inside a session worker (Runtime.runProgram, from Decoder.sample):
 * prefill, then sample → stop? → one-token step until every row stops, against the KV cache that
 * worker holds. The same parts as the step-by-step path: stepFeeds, samplerFor, the stop criteria.
 */
import type { Feed, WeightRef, WorkerContext } from '@seal/engine';
import type { ModelConfig } from './config';
import { slotNames, slotsFor, stepFeeds, stepLength } from './decoder';
import { idsFeed } from './feeds';
import { sampleRows } from './generate';
import { createRng } from './random';
import { samplerFor, type SamplingOptions } from './sampling';
import { anyCriterion, eosCriterion, maxNewTokensCriterion, type StopReason } from './stopping';

/** What the loop samples with and when a row stops (no stop strings: they need the tokenizer's text). */
export interface LoopSampling extends SamplingOptions {
  seed: number;
  eosTokenIds: readonly number[];
  maxNewTokens: number;
  /** Fed (masked) for rows that have stopped, so the batch keeps one shape. */
  padId: number;
}

export interface DecodeLoopInput {
  config: ModelConfig;
  capacity: number;
  growBy: number;
  /** The cache's tensors in this worker, holding the prompt's room at least. */
  cache: Record<string, WeightRef>;
  filled: number;
  history: number[][];
  fixedFeeds: { tokens: Record<string, Feed>; single: Record<string, Feed> };
  prompt: { ids: number[][]; mask: number[][] };
  sampling: LoopSampling;
}

export interface DecodeLoopOutput {
  tokens: number[][];
  stopReasons: StopReason[];
  filled: number;
  history: number[][];
  /** Cache slots after the loop (it grows the cache in place). */
  slots: number;
}

export default async function decodeLoop(context: WorkerContext, input: DecodeLoopInput): Promise<DecodeLoopOutput> {
  const { config, capacity, growBy, sampling } = input;
  const cache = { ...input.cache };
  let { filled, history } = input;

  const step = async (ids: number[][], mask: number[][]) => {
    const idsTensor = idsFeed(ids, config.vocabSize);
    const total = stepLength(config, capacity, filled, idsTensor, mask);
    const slots = cache[slotNames.past(0, 'k')].shape[3];
    const size = slotsFor(total, slots, capacity, growBy);
    if (size !== slots) for (const [name, ref] of Object.entries(cache)) cache[name] = { ...ref, shape: context.grow(ref.ref, 3, size) };
    const next = history.map((row, b) => [...row, ...mask[b]]);
    const { feeds, writeInto } = stepFeeds(config, cache, next, filled, idsTensor);
    const graph = idsTensor.shape[1] === 1 ? 'single' : 'tokens';
    const out = await context.run(graph, { ...input.fixedFeeds[graph], ...feeds }, { writeInto });
    history = next;
    filled = total;
    return out.logits;
  };

  const sample = samplerFor(sampling, createRng(sampling.seed));
  const shouldStop = anyCriterion(eosCriterion(sampling.eosTokenIds), maxNewTokensCriterion(sampling.maxNewTokens));
  const rows = { tokens: input.prompt.ids.map((): number[] => []), stopReasons: input.prompt.ids.map((): StopReason | null => null) };
  let logits = await step(input.prompt.ids, input.prompt.mask);
  for (;;) {
    const next = sampleRows(logits, sample, rows, sampling.padId, (row) => shouldStop({ tokens: rows.tokens[row], text: '' }));
    if (!next) break;
    logits = await step(next.ids, next.mask);
  }
  return { tokens: rows.tokens, stopReasons: rows.stopReasons as StopReason[], filled, history, slots: cache[slotNames.past(0, 'k')].shape[3] };
}
