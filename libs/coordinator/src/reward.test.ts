/** @file Reward rules: gain over the cached student baseline or the passage-only score; unusable edits earn 0 with a reason. */
import { describe, expect, it } from 'vitest';
import { screenSelfEdit, toEvaluationRecord, validateEvaluateResult } from './evaluation';
import type { EvaluationRecord } from './journal';
import { computeRewards, meanReward } from './reward';
import type { EvaluateJob, EvaluateResult, SelfEdit } from './roles';

const edit = (passageId: string, index: number, completion = 'The answer is 4.', tokenCount = 4): SelfEdit => ({
  id: `c/${passageId}/${index}`, passageId, index, promptStyle: 'implications', prompt: 'P', completion, seed: index, tokenCount, checkpointId: 'c',
});

function evalOf(e: SelfEdit, scoreBefore: number | null, scoreAfter: number | null, extra: Partial<EvaluationRecord> = {}): EvaluationRecord {
  return {
    idempotencyKey: `k/${e.id}`, round: 1, kind: 'self_edit', passageId: e.passageId, selfEditId: e.id, baseCheckpoint: 's',
    studentId: 'a', attempts: 1, scoreBefore, scoreAfter, trainLoss: 0.1, perQuestion: [], adapterSha256: 'x', timings: null, failure: null, ...extra,
  };
}

function cache() {
  const stored = new Map<string, number>();
  return {
    stored,
    cacheBaseline: (checkpointId: string, passageId: string, score: number) => {
      const key = `${checkpointId}|${passageId}`;
      if (!stored.has(key)) stored.set(key, score);
      return stored.get(key)!;
    },
  };
}

describe('computeRewards', () => {
  it('is post-update accuracy minus one cached baseline per (checkpoint, passage), taken in edit order', () => {
    const [a0, a1, b0] = [edit('pa', 0), edit('pa', 1), edit('pb', 0)];
    const c = cache();
    // a1 reports a different scoreBefore (a flaky student): the passage still shares a0's baseline.
    const rewards = computeRewards({
      round: 1, baseline: 'student', studentCheckpointId: 's', edits: [a1, b0, a0],
      evaluations: [evalOf(a1, 0.5, 0.75), evalOf(a0, 0.25, 0.5), evalOf(b0, 0.5, 0.25)], cacheBaseline: c.cacheBaseline,
    });
    expect(rewards.map((r) => [r.selfEditId, r.reward, r.baseline])).toEqual([
      [a0.id, 0.25, 0.25],
      [a1.id, 0.5, 0.25],
      [b0.id, -0.25, 0.5],
    ]);
    expect(c.stored).toEqual(new Map([['s|pa', 0.25], ['s|pb', 0.5]]));
    expect(meanReward(rewards)).toBeCloseTo(1 / 6);
  });

  it('uses a journaled baseline from an earlier pass instead of re-measuring', () => {
    const e = edit('pa', 0);
    const c = cache();
    c.cacheBaseline('s', 'pa', 0.1);
    const [r] = computeRewards({ round: 1, baseline: 'student', studentCheckpointId: 's', edits: [e], evaluations: [evalOf(e, 0.5, 0.6)], cacheBaseline: c.cacheBaseline });
    expect(r!.reward).toBeCloseTo(0.5);
  });

  it("measures the gain over the passage-only update with baseline 'passage', falling back to the student score when that failed", () => {
    const [a0, b0] = [edit('pa', 0), edit('pb', 0)];
    const passageA: EvaluationRecord = { ...evalOf(a0, 0.25, 0.5), kind: 'passage_baseline', selfEditId: null, idempotencyKey: 'k/passage:pa' };
    const passageB: EvaluationRecord = { ...evalOf(b0, 0.25, null), kind: 'passage_baseline', selfEditId: null, idempotencyKey: 'k/passage:pb', failure: { reason: 'error', message: 'x' } };
    const rewards = computeRewards({
      round: 1, baseline: 'passage', studentCheckpointId: 's', edits: [a0, b0],
      evaluations: [evalOf(a0, 0.25, 0.75), evalOf(b0, 0.25, 0.75), passageA, passageB], cacheBaseline: cache().cacheBaseline,
    });
    expect(rewards.map((r) => r.reward)).toEqual([0.25, 0.5]);
  });

  it('gives 0 with the reason to refused, failed and NaN edits, and refuses a missing evaluation', () => {
    const [e0, e1, e2] = [edit('pa', 0, ''), edit('pa', 1), edit('pa', 2)];
    const rewards = computeRewards({
      round: 1, baseline: 'student', studentCheckpointId: 's', edits: [e0, e1, e2],
      evaluations: [
        evalOf(e0, null, null, { failure: { reason: 'empty', message: 'the self-edit is empty' }, studentId: null }),
        evalOf(e1, 0.25, null, { trainLoss: null, failure: { reason: 'nan_loss', message: 'NaN' } }),
        evalOf(e2, 0.25, 0.5),
      ],
      cacheBaseline: cache().cacheBaseline,
    });
    expect(rewards.map((r) => [r.reward, r.reason])).toEqual([
      [0, 'empty: the self-edit is empty'],
      [0, 'nan_loss: NaN'],
      [0.25, null],
    ]);
    expect(() =>
      computeRewards({ round: 1, baseline: 'student', studentCheckpointId: 's', edits: [e0], evaluations: [], cacheBaseline: cache().cacheBaseline }),
    ).toThrow(/has no evaluation/);
  });
});

describe('screening and result checks', () => {
  it('refuses empty, garbage and too-long edits before any update', () => {
    expect(screenSelfEdit(edit('p', 0, '  \n '), 100)?.reason).toBe('empty');
    expect(screenSelfEdit(edit('p', 0, '### *** ---'), 100)?.reason).toBe('garbage');
    expect(screenSelfEdit(edit('p', 0, 'many words', 101), 100)).toMatchObject({ reason: 'too_long', message: expect.stringContaining('101 tokens') });
    expect(screenSelfEdit(edit('p', 0, 'Varn is in Ardenia.', 4), 100)).toBeUndefined();
  });

  const job = { idempotencyKey: 'k', baseCheckpoint: { id: 'b', sha256: 'aa', size: 1 }, selfEdit: edit('p', 0) } as EvaluateJob;
  const good: EvaluateResult = {
    idempotencyKey: 'k', baseCheckpointSha256: 'aa', scoreBefore: 0.25, scoreAfter: 0.5, perQuestion: [], trainLoss: 0.2,
    adapterSha256: 'ad', evaluatedAdapterSha256: 'ad', timings: { queueMs: 0, sftMs: 0, evalMs: 0, totalMs: 0 },
  };

  it('rejects results whose adapter was not the one scored, or that name another base or key', () => {
    expect(() => validateEvaluateResult(job, good, 's1')).not.toThrow();
    expect(() => validateEvaluateResult(job, { ...good, evaluatedAdapterSha256: 'zz' }, 's1')).toThrow(/s1 .*scored adapter zz is not the trained adapter ad/);
    expect(() => validateEvaluateResult(job, { ...good, adapterSha256: '', evaluatedAdapterSha256: '' }, 's1')).toThrow(/adapterSha256 is missing/);
    expect(() => validateEvaluateResult(job, { ...good, baseCheckpointSha256: 'bb' }, 's1')).toThrow(/base sha256 bb/);
    expect(() => validateEvaluateResult(job, { ...good, idempotencyKey: 'other' }, 's1')).toThrow(/idempotency key/);
    expect(() => validateEvaluateResult(job, { ...good, scoreAfter: 1.5 }, 's1')).toThrow(/scoreAfter 1.5/);
    // a failed edit carries no adapter, and that is fine
    expect(() => validateEvaluateResult(job, { ...good, adapterSha256: '', evaluatedAdapterSha256: '', failure: { reason: 'too_long', message: 'x' } }, 's1')).not.toThrow();
  });

  it('marks a NaN loss the student did not flag as nan_loss', () => {
    const record = toEvaluationRecord(job, 1, 'self_edit', { result: { ...good, trainLoss: Number.NaN }, studentId: 's1', attempts: 1 });
    expect(record.failure).toEqual({ reason: 'nan_loss', message: 'the inner-loop loss was NaN' });
  });
});
