/** @file Generation composed from small parts: pad → prefill → (sample → stop? → stream → decode step)* → trim, over a worker-resident KV cache. */
import type { HostTensor } from '@seal/engine';
import type { LanguageModel } from './language-model';
import type { LoraAdapter } from './peft';
import { createRng } from './random';
import { samplerFor, type Sampler, type SamplingOptions } from './sampling';
import { anyCriterion, eosCriterion, maxNewTokensCriterion, safePrefixLength, stopStringCriterion, truncateAtStop, type StopReason } from './stopping';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Seeds the sampler; the same seed, prompts and model give the same tokens. */
  seed?: number;
  /** Generation stops once the decoded text contains one; the text is cut before it. */
  stopStrings?: readonly string[];
  /** Defaults to config.json's eos ids plus the tokenizer's eos token. */
  eosTokenIds?: readonly number[];
  adapter?: LoraAdapter | null;
  /** Receives text as it becomes final (never a partial stop string or a partial UTF-8 character). */
  onText?: (row: number, text: string) => void;
}

export interface Generation {
  /** New token ids per row (EOS included when it stopped the row; nothing after it). */
  readonly tokens: number[][];
  /** Decoded new text per row (special tokens skipped, cut at a stop string); '' without a tokenizer. */
  readonly texts: string[];
  readonly stopReasons: StopReason[];
}

/** Left-pads prompts to a common length; padding is masked out and takes HF's position 1. */
export function leftPad(prompts: readonly (readonly number[])[], padId: number): { ids: number[][]; mask: number[][] } {
  if (!prompts.length || prompts.some((p) => p.length === 0)) throw new RangeError('prompts: every prompt needs at least one token');
  const t = Math.max(...prompts.map((p) => p.length));
  return {
    ids: prompts.map((p) => [...new Array<number>(t - p.length).fill(padId), ...p]),
    mask: prompts.map((p) => [...new Array<number>(t - p.length).fill(0), ...new Array<number>(p.length).fill(1)]),
  };
}

const rowOf = (logits: HostTensor, b: number): Float32Array => {
  const v = logits.shape[1];
  return (logits.data as Float32Array).subarray(b * v, (b + 1) * v);
};

/**
 * One decode iteration over the batch: samples a token for every row still running (in row order,
 * so a seeded sampler draws the same numbers on every path), records it and `stopFor(row)`'s
 * verdict, and returns the next one-token step — finished rows feed a masked pad so the batch keeps
 * one shape — or null once every row has stopped.
 */
export function sampleRows(
  logits: HostTensor,
  sample: Sampler,
  rows: { tokens: number[][]; stopReasons: (StopReason | null)[] },
  padId: number,
  stopFor: (row: number) => StopReason | null,
): { ids: number[][]; mask: number[][] } | null {
  const ids: number[][] = [];
  const mask: number[][] = [];
  rows.tokens.forEach((tokens, row) => {
    if (rows.stopReasons[row]) {
      ids.push([padId]);
      mask.push([0]);
      return;
    }
    const token = sample(rowOf(logits, row));
    tokens.push(token);
    rows.stopReasons[row] = stopFor(row);
    ids.push([token]);
    mask.push([1]);
  });
  return rows.stopReasons.every((r) => r !== null) ? null : { ids, mask };
}

/** Decoded text safe to emit: no partial UTF-8 sequence (U+FFFD at the end) and no possible stop-string start. */
function streamable(text: string, stops: readonly string[]): number {
  const complete = text.endsWith('\uFFFD') ? text.length - 1 : text.length;
  return Math.min(complete, safePrefixLength(text, stops));
}

export async function generate(model: LanguageModel, prompts: readonly (readonly number[])[], options: GenerateOptions): Promise<Generation> {
  const { tokenizer, config } = model;
  const stops = options.stopStrings ?? [];
  if (stops.length && !tokenizer) throw new Error('stop strings need the model to have a tokenizer.json');
  const eos = options.eosTokenIds ?? [...config.eosTokenIds, ...(tokenizer?.eosId != null ? [tokenizer.eosId] : [])];
  const padId = config.padTokenId ?? tokenizer?.padId ?? eos[0] ?? 0;
  const adapter = options.adapter ?? null;

  // 1. Pad the batch and build the parts: sampler, stop criterion, text decoding. Built on both
  //    paths: they reject bad options (temperature, maxNewTokens) before any run.
  const { ids, mask } = leftPad(prompts, padId);
  const sample = samplerFor(options, createRng(options.seed ?? 0));
  const shouldStop = anyCriterion(eosCriterion(eos), stopStringCriterion(stops), maxNewTokensCriterion(options.maxNewTokens));
  const decode = (tokens: number[]) => (tokenizer ? tokenizer.decode(tokens, { skipSpecialTokens: true }) : '');
  const textEachStep = stops.length > 0 || options.onText !== undefined;
  const b = prompts.length;
  const tokens: number[][] = Array.from({ length: b }, () => []);
  const texts = new Array<string>(b).fill('');
  const streamed = new Array<number>(b).fill(0);
  const stopReasons = new Array<StopReason | null>(b).fill(null);

  // 2. Prefill every prompt token at once into a cache with room for every token this call can feed
  //    (the last sampled token is never fed back), capped at the context so an overlong request
  //    fails with the context error when it gets there, as before.
  const capacity = Math.min(Math.max(ids[0].length, ids[0].length + options.maxNewTokens - 1), config.maxPositionEmbeddings);
  const decoder = await model.openDecoder(b, capacity, adapter);
  try {
    if (!textEachStep) {
      // Nothing needs the text before the end: the whole loop runs in the cache's worker.
      const out = await decoder.sample({ ids, mask }, { temperature: options.temperature, topK: options.topK, topP: options.topP, seed: options.seed ?? 0, eosTokenIds: eos, maxNewTokens: options.maxNewTokens, padId });
      out.tokens.forEach((row, i) => (tokens[i] = row));
      out.stopReasons.forEach((r, i) => (stopReasons[i] = r));
    } else {
      let logits = await decoder.step(ids, mask);
      // 3. Decode: sample, check stops, stream, then one cached step for the unfinished rows.
      for (;;) {
        const next = sampleRows(logits, sample, { tokens, stopReasons }, padId, (row) => {
          texts[row] = decode(tokens[row]);
          const reason = shouldStop({ tokens: tokens[row], text: texts[row] });
          const ready = reason ? truncateAtStop(texts[row], stops).length : streamable(texts[row], stops);
          if (options.onText && ready > streamed[row]) options.onText(row, texts[row].slice(streamed[row], ready));
          streamed[row] = Math.max(streamed[row], ready);
          return reason;
        });
        if (!next) break;
        logits = await decoder.step(next.ids, next.mask);
      }
    }
  } finally {
    await decoder.close();
  }

  // 4. Cut each text at its first stop string.
  if (!textEachStep) tokens.forEach((row, i) => (texts[i] = decode(row)));
  return { tokens, texts: texts.map((t) => truncateAtStop(t, stops)), stopReasons: stopReasons as StopReason[] };
}
