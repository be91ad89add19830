/**
 * @file The errors rpc itself throws, following the project convention (an Error with a string
 * `code` from the domain's vocabulary). Defined here rather than imported from
 * @seal/coordinator so servers and the CLI do not load the whole domain (and the engine behind
 * it) just to report a bad field.
 */
import type { ErrorCode } from '@seal/coordinator';

export class RpcError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.details = details;
  }
}

/** Bad input; `details.field` names the offending field path. */
export const invalidArgument = (message: string, details?: Record<string, unknown>) => new RpcError('invalid_argument', message, details);
