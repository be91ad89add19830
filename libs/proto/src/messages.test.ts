/** @file Round trips through the generated codecs, including oneofs and 64-bit sizes. */
import { describe, expect, it } from 'vitest';
import { Context, CheckpointRef, LoadCheckpointRequest, PromptStyle } from './index';

describe('generated messages', () => {
  it('round-trips a knowledge context through the binary codec', () => {
    const context = Context.fromPartial({
      id: 'p1',
      kind: { $case: 'knowledge', value: { title: 'T', passage: 'P', questions: [{ id: 'q1', text: 'Q?', answers: ['A'] }] } },
    });
    expect(Context.decode(Context.encode(context).finish())).toEqual(context);
  });

  it('keeps sizes above 4 GiB exact', () => {
    const ref = CheckpointRef.fromPartial({ id: 'c', sha256: 'ab', sizeBytes: 5 * 2 ** 30 + 7 });
    expect(CheckpointRef.decode(CheckpointRef.encode(ref).finish()).sizeBytes).toBe(5 * 2 ** 30 + 7);
  });

  it('strips enum prefixes and keeps the zero value unspecified', () => {
    expect(PromptStyle.UNSPECIFIED).toBe(0);
    expect(PromptStyle.IMPLICATIONS).toBe(1);
    expect(LoadCheckpointRequest.fromPartial({}).part).toBeUndefined();
  });
});
