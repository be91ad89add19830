/** @file Selection: best per passage with deterministic ties, or every positive edit; failed edits never kept. */
import { describe, expect, it } from 'vitest';
import type { RewardRecord } from './journal';
import type { SelfEdit } from './roles';
import { selectSelfEdits } from './selection';

const edit = (passageId: string, index: number): SelfEdit => ({
  id: `c/${passageId}/${index}`, passageId, index, promptStyle: 'implications', prompt: 'P', completion: 'x', seed: 0, tokenCount: 1, checkpointId: 'c',
});
const reward = (e: SelfEdit, value: number, reason: string | null = null): RewardRecord => ({
  selfEditId: e.id, round: 1, passageId: e.passageId, reward: value, baseline: 0, reason,
});

describe('selectSelfEdits', () => {
  const [a0, a1, a2, b0, b1, c0] = [edit('pa', 0), edit('pa', 1), edit('pa', 2), edit('pb', 0), edit('pb', 1), edit('pc', 0)];
  const edits = [a2, b1, a0, c0, a1, b0]; // order must not matter
  const rewards = [reward(a0, 0.25), reward(a1, 0.5), reward(a2, 0.5), reward(b0, -0.25), reward(b1, -0.5), reward(c0, 0, 'empty: x')];

  it("keeps the best edit per passage, lowest index on ties, even a non-positive best (the reference's k_best 1)", () => {
    expect(selectSelfEdits(edits, rewards, 'best').map((e) => e.id)).toEqual([a1.id, b0.id]);
  });

  it('drops a non-positive best when asked', () => {
    expect(selectSelfEdits(edits, rewards, 'best', true).map((e) => e.id)).toEqual([a1.id]);
  });

  it("keeps every edit with positive reward under 'positive'", () => {
    expect(selectSelfEdits(edits, rewards, 'positive').map((e) => e.id)).toEqual([a0.id, a1.id, a2.id]);
  });

  it('never keeps an edit whose reward is 0 by failure, even when it would be the best', () => {
    const only = [reward(b0, -0.25), reward(c0, 0, 'nan_loss: x')];
    expect(selectSelfEdits([b0, c0], only, 'best').map((e) => e.id)).toEqual([b0.id]);
  });
});
