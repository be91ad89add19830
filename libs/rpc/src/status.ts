/**
 * @file The one table between domain error codes and gRPC status codes. Libraries below rpc
 * never import grpc: they throw Errors with a string `code` (see @seal/coordinator errors.ts);
 * servers map it to a status here, and remote clients map statuses back to codes here.
 */
import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import type { ErrorCode } from '@seal/coordinator';

/** Domain code → gRPC status. Anything without a known code is INTERNAL. */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, status>> = {
  invalid_argument: status.INVALID_ARGUMENT,
  failed_precondition: status.FAILED_PRECONDITION,
  not_found: status.NOT_FOUND,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  cancelled: status.CANCELLED,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  unimplemented: status.UNIMPLEMENTED,
  internal: status.INTERNAL,
};

const CODE_BY_STATUS = new Map<status, ErrorCode>(Object.entries(STATUS_BY_CODE).map(([code, s]) => [s, code as ErrorCode]));

/** The metadata key carrying a domain error's `details` (JSON) alongside the status. */
export const ERROR_DETAILS_KEY = 'seal-error-details';

/** What a handler's failure becomes on the wire: known codes keep their meaning, the rest is INTERNAL. */
export function toStatus(error: unknown): Partial<StatusObject> {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const mapped = typeof code === 'string' ? STATUS_BY_CODE[code as ErrorCode] : undefined;
  const metadata = new Metadata();
  const details = (error as { details?: unknown } | null | undefined)?.details;
  if (details && typeof details === 'object' && Object.keys(details).length > 0) {
    metadata.set(ERROR_DETAILS_KEY, JSON.stringify(details));
  }
  return { code: mapped ?? status.INTERNAL, details: message, metadata };
}

/** An Error thrown by remote clients: the domain `code` recovered from the status, so callers branch on codes, never on grpc. */
export class RemoteError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly grpcStatus: status;
  constructor(grpcStatus: status, message: string, details: Record<string, unknown>) {
    super(message);
    this.name = 'RemoteError';
    this.grpcStatus = grpcStatus;
    // NOTE: UNKNOWN, ABORTED, OUT_OF_RANGE, DATA_LOSS, UNAUTHENTICATED and PERMISSION_DENIED have
    // no domain meaning; they surface as 'internal' (not retryable) with the status in the message.
    this.code = CODE_BY_STATUS.get(grpcStatus) ?? 'internal';
    this.details = details;
  }
}

/** Maps a grpc-js client error to a RemoteError (status → domain code, details from metadata). */
export function fromServiceError(error: ServiceError): RemoteError {
  const raw = error.metadata?.get(ERROR_DETAILS_KEY)[0];
  let details: Record<string, unknown> = {};
  if (typeof raw === 'string') {
    try {
      details = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      details = { raw };
    }
  }
  return new RemoteError(error.code, error.details || error.message, details);
}
