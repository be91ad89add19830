/**
 * @file Rewards: post-update accuracy minus a baseline — the current student checkpoint's score
 * (reference) or the passage-only update's score — cached per (checkpoint, passage); unusable
 * edits get 0 with the reason kept.
 */
import { failedPrecondition } from './errors';
import type { EvaluationRecord, RewardRecord } from './journal';
import type { SelfEdit } from './roles';

export type RewardBaseline = 'student' | 'passage';

export interface RewardInputs {
  round: number;
  baseline: RewardBaseline;
  /** the student checkpoint the round evaluated on. */
  studentCheckpointId: string;
  edits: SelfEdit[];
  /** evaluations of the round, including passage baselines. */
  evaluations: EvaluationRecord[];
  /** the journal's (checkpoint, passage) baseline cache: returns the first score ever stored. */
  cacheBaseline: (checkpointId: string, passageId: string, score: number, sourceKey: string) => number;
}

/** One reward per edit, in edit order. Every edit must have an evaluation (refused ones included). */
export function computeRewards(inputs: RewardInputs): RewardRecord[] {
  const bySelfEdit = new Map<string, EvaluationRecord>();
  const passageBaselines = new Map<string, EvaluationRecord>();
  for (const e of inputs.evaluations) {
    if (e.kind === 'passage_baseline') passageBaselines.set(e.passageId, e);
    else if (e.selfEditId) bySelfEdit.set(e.selfEditId, e);
  }
  const ordered = [...inputs.edits].sort((a, b) => (a.passageId < b.passageId ? -1 : a.passageId > b.passageId ? 1 : a.index - b.index));

  // The student baseline of a passage: first usable measurement in edit order, so it does not depend
  // on which student answered first; cached so every edit of the passage shares one baseline.
  const studentBaseline = (passageId: string): number | null => {
    for (const edit of ordered) {
      if (edit.passageId !== passageId) continue;
      const e = bySelfEdit.get(edit.id);
      if (e && e.scoreBefore !== null) return inputs.cacheBaseline(inputs.studentCheckpointId, passageId, e.scoreBefore, e.idempotencyKey);
    }
    return null;
  };

  return ordered.map((edit) => {
    const evaluation = bySelfEdit.get(edit.id);
    if (!evaluation) throw failedPrecondition(`round ${inputs.round}: self-edit ${edit.id} has no evaluation`);
    const zero = (reason: string, baseline: number | null = null): RewardRecord => ({
      selfEditId: edit.id,
      round: inputs.round,
      passageId: edit.passageId,
      reward: 0,
      baseline,
      reason,
    });
    if (evaluation.failure) return zero(`${evaluation.failure.reason}: ${evaluation.failure.message}`, evaluation.scoreBefore);
    if (evaluation.scoreAfter === null) return zero('nan_loss: no post-update score');

    let baseline: number | null = null;
    if (inputs.baseline === 'passage') {
      const passage = passageBaselines.get(edit.passageId);
      if (passage && !passage.failure && passage.scoreAfter !== null) baseline = passage.scoreAfter;
    }
    // NOTE: a failed passage-only baseline falls back to the student's score rather than dropping the passage.
    baseline ??= studentBaseline(edit.passageId);
    if (baseline === null) return zero('no baseline score');
    return { selfEditId: edit.id, round: inputs.round, passageId: edit.passageId, reward: evaluation.scoreAfter - baseline, baseline, reason: null };
  });
}

export function meanReward(rewards: RewardRecord[]): number {
  return rewards.length === 0 ? 0 : rewards.reduce((sum, r) => sum + r.reward, 0) / rewards.length;
}
