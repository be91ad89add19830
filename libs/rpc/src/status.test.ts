/** @file The code ⇄ status table: every domain code maps both ways; anything else is INTERNAL. */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ERROR_CODES, SealError } from '@seal/coordinator';
import { describe, expect, it } from 'vitest';
import { ERROR_DETAILS_KEY, fromServiceError, STATUS_BY_CODE, toStatus } from './status';

function asServiceError(s: ReturnType<typeof toStatus>): ServiceError {
  return Object.assign(new Error(s.details), { code: s.code!, details: s.details!, metadata: s.metadata ?? new Metadata() });
}

describe('status table', () => {
  it('covers every domain code, each to a distinct status, and back', () => {
    expect(Object.keys(STATUS_BY_CODE).sort()).toEqual([...ERROR_CODES].sort());
    expect(new Set(Object.values(STATUS_BY_CODE)).size).toBe(ERROR_CODES.length);
    for (const code of ERROR_CODES) {
      const back = fromServiceError(asServiceError(toStatus(new SealError(code, `boom ${code}`, { checkpointId: 'c1' }))));
      expect(back.code).toBe(code);
      expect(back.message).toBe(`boom ${code}`);
      expect(back.details).toEqual({ checkpointId: 'c1' });
    }
  });

  it('maps errors without a known code to INTERNAL with their message', () => {
    expect(toStatus(new Error('disk on fire'))).toMatchObject({ code: status.INTERNAL, details: 'disk on fire' });
    expect(toStatus(Object.assign(new Error('x'), { code: 'ENOENT' })).code).toBe(status.INTERNAL);
    expect(toStatus('a string').details).toBe('a string');
  });

  it('reads statuses with no domain meaning as internal, and survives bad details metadata', () => {
    const metadata = new Metadata();
    metadata.set(ERROR_DETAILS_KEY, '{not json');
    const error = fromServiceError(Object.assign(new Error('no'), { code: status.PERMISSION_DENIED, details: 'no', metadata }));
    expect(error.code).toBe('internal');
    expect(error.grpcStatus).toBe(status.PERMISSION_DENIED);
    expect(error.details).toEqual({ raw: '{not json' });
  });
});
