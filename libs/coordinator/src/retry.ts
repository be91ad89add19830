/** @file Retrying an idempotent call with exponential backoff, only on unavailable-like failures. */
import type { RetryConfig } from './config';
import { describeError, isRetryable, throwIfAborted } from './errors';
import { linkedSignal, raceAbort, sleep } from './signals';

/** Calls `fn` up to `retry.maxAttempts` times; `fn` gets the attempt's signal (run signal + per-call deadline). */
export async function withRetries<T>(
  what: string,
  retry: RetryConfig,
  deadlineMs: number,
  signal: AbortSignal | undefined,
  fn: (opts: { signal: AbortSignal; deadline: number }) => Promise<T>,
  onRetry?: (attempt: number, error: string, waitMs: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    const call = linkedSignal(signal, deadlineMs, what);
    try {
      return await raceAbort(fn({ signal: call.signal, deadline: call.deadline }), call.signal);
    } catch (error) {
      throwIfAborted(signal);
      if (!isRetryable(error) || attempt >= retry.maxAttempts) {
        if (isRetryable(error)) (error as Error).message = `${what}: gave up after ${attempt} attempts: ${(error as Error).message}`;
        throw error;
      }
      const waitMs = Math.min(retry.maxBackoffMs, retry.initialBackoffMs * retry.multiplier ** (attempt - 1));
      onRetry?.(attempt, describeError(error), waitMs);
      await sleep(waitMs, signal);
    } finally {
      call.dispose();
    }
  }
}
