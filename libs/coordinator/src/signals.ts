/** @file Per-call abort signals linked to a run's signal, with cleanup so long runs do not pile up listeners or timers. */
import { describeError, SealError } from './errors';

export interface LinkedSignal {
  signal: AbortSignal;
  /** absolute deadline (ms since epoch) to hand to the callee. */
  deadline: number;
  dispose(): void;
}

/** A signal that fires when `parent` does or after `timeoutMs` (with a deadline_exceeded reason naming `what`). */
export function linkedSignal(parent: AbortSignal | undefined, timeoutMs: number, what: string): LinkedSignal {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent!.reason);
  const timer = setTimeout(() => controller.abort(new SealError('deadline_exceeded', `${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    deadline: Date.now() + timeoutMs,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

/** Races `promise` against `signal`, so a callee that ignores its signal cannot hold the caller. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The SealError an aborted signal stands for (its reason if it is one, else `cancelled`). */
export function abortError(signal: AbortSignal): SealError {
  return signal.reason instanceof SealError ? signal.reason : new SealError('cancelled', `cancelled: ${describeError(signal.reason)}`);
}

/** Resolves after `ms` or as soon as `signal` fires; never rejects (the caller checks the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
