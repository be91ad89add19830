/** @file Getting a checkpoint onto a student: ask what it holds, stream the bytes if it lacks them, check the sha256 it reports. */
import { performance } from 'node:perf_hooks';
import { errorCode, SealError } from './errors';
import type { CallOptions, CheckpointChunk, CheckpointRef } from './roles';
import { linkedSignal, raceAbort } from './signals';
import { withSpan } from '@seal/telemetry';
import type { PoolMember } from './student-pool';

export interface PushParams {
  member: PoolMember;
  checkpoint: CheckpointRef;
  /** where the bytes come from: the run's archive, or the teacher's GetCheckpoint. */
  source: (opts: CallOptions) => AsyncIterable<CheckpointChunk>;
  infoDeadlineMs: number;
  pushDeadlineMs: number;
  signal?: AbortSignal;
  /** extra span attributes (e.g. seal.round). */
  attributes?: Record<string, string | number>;
  /** the checkpoint's path relative to the shared-storage root, when it lies in shared storage. */
  sharedPath?: string;
}

export interface PushOutcome {
  /** bytes sent over the stream (0 for a load by reference). */
  bytes: number;
  ms: number;
  via: 'shared' | 'stream';
}

/** Returns undefined when the student already held the checkpoint, else the bytes sent and the transfer time. */
export async function ensureStudentHolds(params: PushParams): Promise<PushOutcome | undefined> {
  const { member, checkpoint, signal } = params;
  const infoCall = linkedSignal(signal, params.infoDeadlineMs, `student ${member.id} Info`);
  try {
    const info = await raceAbort(member.student.info({ signal: infoCall.signal, deadline: infoCall.deadline }), infoCall.signal);
    if (info.checkpoints.some((c) => c.id === checkpoint.id && c.sha256 === checkpoint.sha256)) return undefined;
  } finally {
    infoCall.dispose();
  }
  const attributes = { ...params.attributes, 'seal.student_id': member.id, 'seal.checkpoint_id': checkpoint.id, 'seal.bytes': checkpoint.size };
  return withSpan('push checkpoint', attributes, async (span) => {
    const start = performance.now();
    const call = linkedSignal(signal, params.pushDeadlineMs, `push ${checkpoint.id} to ${member.id}`);
    let loaded: CheckpointRef | undefined;
    let via: PushOutcome['via'] = 'stream';
    try {
      const opts = { signal: call.signal, deadline: call.deadline };
      if (params.sharedPath !== undefined && member.student.loadSharedCheckpoint) {
        try {
          loaded = await raceAbort(member.student.loadSharedCheckpoint(checkpoint, params.sharedPath, opts), call.signal);
          via = 'shared';
        } catch (error) {
          // A student without (that) shared storage still gets the bytes; anything else is real.
          if (!REFERENCE_REFUSALS.has(errorCode(error) ?? '')) throw error;
        }
      }
      loaded ??= await raceAbort(member.student.loadCheckpoint(verifiedChunks(params.source(opts), checkpoint), opts), call.signal);
    } finally {
      call.dispose();
    }
    if (loaded.id !== checkpoint.id || loaded.sha256 !== checkpoint.sha256 || loaded.size !== checkpoint.size) {
      throw new SealError('internal', `student ${member.id} loaded ${JSON.stringify(loaded)} instead of ${JSON.stringify(checkpoint)}`);
    }
    span.setAttribute('seal.via', via);
    return { bytes: via === 'shared' ? 0 : checkpoint.size, ms: performance.now() - start, via };
  });
}

const REFERENCE_REFUSALS = new Set(['failed_precondition', 'not_found', 'unimplemented']);

/** Passes chunks through, refusing ones that name another checkpoint, skip bytes, or stop short. */
export async function* verifiedChunks(chunks: AsyncIterable<CheckpointChunk>, expected: CheckpointRef): AsyncIterable<CheckpointChunk> {
  let offset = 0;
  for await (const chunk of chunks) {
    if (chunk.checkpoint.id !== expected.id || chunk.checkpoint.sha256 !== expected.sha256) {
      throw new SealError('internal', `streamed checkpoint ${chunk.checkpoint.id} while ${expected.id} was asked for`);
    }
    if (chunk.offset !== offset) throw new SealError('internal', `checkpoint ${expected.id}: chunk at offset ${chunk.offset}, expected ${offset}`);
    offset += chunk.data.byteLength;
    yield chunk;
  }
  if (offset !== expected.size) throw new SealError('internal', `checkpoint ${expected.id}: streamed ${offset} bytes, expected ${expected.size}`);
}
