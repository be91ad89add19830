/** @file Generation composed from small parts: pad → prefill → (sample → stop? → stream → decode step)* → trim, over a worker-resident KV cache. */
import type { HostTensor } from '@seal/engine';
import type { LanguageModel } from './language-model';
import type { LoraAdapter } from './peft';
import { createRng } from './random';
import { samplerFor, type SamplingOptions } from './sampling';
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

  // 1. Pad the batch and build the parts: sampler, stop criterion, text decoding.
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
    let logits = await decoder.step(ids, mask);

    // 3. Decode: sample, check stops, stream, then one cached step for the unfinished rows.
    while (stopReasons.some((r) => r === null)) {
      const next = new Array<number>(b).fill(padId);
      const nextMask = new Array<number>(b).fill(0);
      for (let row = 0; row < b; row++) {
        if (stopReasons[row]) continue;
        const token = sample(rowOf(logits, row));
        tokens[row].push(token);
        // Decoding the whole row each step costs ~0.1 ms at 100 tokens: only done when stop strings
        // or streaming need the text now; otherwise once at the end.
        if (textEachStep) texts[row] = decode(tokens[row]);
        stopReasons[row] = shouldStop({ tokens: tokens[row], text: texts[row] });
        if (textEachStep) {
          const ready = stopReasons[row] ? truncateAtStop(texts[row], stops).length : streamable(texts[row], stops);
          if (options.onText && ready > streamed[row]) options.onText(row, texts[row].slice(streamed[row], ready));
          streamed[row] = Math.max(streamed[row], ready);
        }
        next[row] = token;
        nextMask[row] = 1;
      }
      if (stopReasons.every((r) => r !== null)) break;
      // Finished rows feed a masked pad token so the batch keeps one shape.
      logits = await decoder.step(next.map((t) => [t]), nextMask.map((m) => [m]));
    }
  } finally {
    await decoder.close();
  }

  // 4. Cut each text at its first stop string.
  if (!textEachStep) tokens.forEach((row, i) => (texts[i] = decode(row)));
  return { tokens, texts: texts.map((t) => truncateAtStop(t, stops)), stopReasons: stopReasons as StopReason[] };
}
