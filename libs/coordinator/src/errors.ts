/** @file Domain errors with a string `code` that the rpc layer maps to a gRPC status, in one place. */

/** The error vocabulary of the roles; names match gRPC status codes so the mapping is a table. */
export const ERROR_CODES = [
  'invalid_argument',
  'failed_precondition',
  'not_found',
  'resource_exhausted',
  'unavailable',
  'cancelled',
  'deadline_exceeded',
  'unimplemented',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** An error any role implementation may throw; `details` carries machine-readable context (e.g. a checkpoint id). */
export class SealError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SealError';
    this.code = code;
    this.details = details;
  }
}

export const invalidArgument = (message: string, details?: Record<string, unknown>) =>
  new SealError('invalid_argument', message, details);
export const failedPrecondition = (message: string, details?: Record<string, unknown>) =>
  new SealError('failed_precondition', message, details);
export const notFound = (message: string, details?: Record<string, unknown>) => new SealError('not_found', message, details);
export const unavailable = (message: string, details?: Record<string, unknown>, cause?: unknown) =>
  new SealError('unavailable', message, details, { cause });
export const cancelled = (message = 'cancelled') => new SealError('cancelled', message);
export const deadlineExceeded = (message = 'deadline exceeded') => new SealError('deadline_exceeded', message);

/** Reads the `code` of anything thrown (ours, or an rpc client's error that copied a code on). */
export function errorCode(error: unknown): ErrorCode | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : undefined;
}

/**
 * Whether retrying the same idempotent call elsewhere or later may succeed. Only transport-like
 * failures qualify: a bad argument stays bad, and a cancelled run must stop.
 * NOTE: deadline_exceeded counts as retryable because a per-call deadline expiring usually means
 * the student hung or died, not that the job is bad; the pool still caps attempts.
 */
export function isRetryable(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'unavailable' || code === 'deadline_exceeded' || code === 'resource_exhausted';
}

/** Throws `cancelled` if the signal fired, so long loops stop at the next step boundary. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof SealError ? signal.reason : cancelled(describeReason(signal.reason));
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error) return `cancelled: ${reason.message}`;
  return reason === undefined ? 'cancelled' : `cancelled: ${String(reason)}`;
}

/** One-line description of an error for the journal's failure columns. */
export function describeError(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${code}: ${message}` : message;
}
