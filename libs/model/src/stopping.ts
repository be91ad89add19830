/** @file Stop criteria for generation (EOS, stop strings, max new tokens), each a small composable unit. */

export type StopReason = 'eos' | 'stop_string' | 'max_new_tokens';

/** What a criterion sees for one sequence after each new token. */
export interface SequenceProgress {
  /** Generated token ids so far (prompt excluded). */
  readonly tokens: readonly number[];
  /** Decoded text of `tokens`. */
  readonly text: string;
}

export type StopCriterion = (progress: SequenceProgress) => StopReason | null;

export function eosCriterion(eosIds: Iterable<number>): StopCriterion {
  const ids = new Set(eosIds);
  return ({ tokens }) => (tokens.length > 0 && ids.has(tokens[tokens.length - 1]) ? 'eos' : null);
}

export function maxNewTokensCriterion(maxNewTokens: number): StopCriterion {
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new RangeError(`max new tokens must be a positive integer, got ${maxNewTokens}`);
  return ({ tokens }) => (tokens.length >= maxNewTokens ? 'max_new_tokens' : null);
}

export function stopStringCriterion(stops: readonly string[]): StopCriterion {
  const nonEmpty = stops.filter((s) => s.length > 0);
  return ({ text }) => (nonEmpty.some((s) => text.includes(s)) ? 'stop_string' : null);
}

/** The first criterion that fires wins; order them by the reason you want reported. */
export function anyCriterion(...criteria: StopCriterion[]): StopCriterion {
  return (progress) => {
    for (const c of criteria) {
      const reason = c(progress);
      if (reason) return reason;
    }
    return null;
  };
}

/** Cuts the text at the earliest occurrence of any stop string (the stop string itself is dropped). */
export function truncateAtStop(text: string, stops: readonly string[]): string {
  let cut = text.length;
  for (const s of stops) {
    if (!s) continue;
    const at = text.indexOf(s);
    if (at >= 0 && at < cut) cut = at;
  }
  return text.slice(0, cut);
}

/**
 * How much of `text` can be streamed now: everything except a tail that might still grow into a
 * stop string (so a streamer never prints the start of a stop string it later has to take back).
 */
export function safePrefixLength(text: string, stops: readonly string[]): number {
  let hold = 0;
  for (const s of stops) {
    for (let n = Math.min(s.length - 1, text.length); n > hold; n--) {
      if (text.endsWith(s.slice(0, n))) {
        hold = n;
        break;
      }
    }
  }
  return text.length - hold;
}
