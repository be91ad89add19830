/**
 * @file ReST-EM selection: the best edit per passage (the reference's k_best 1) or every edit with
 * positive reward. Edits that failed (reason set) are never kept: they carry no measurement.
 */
import type { RewardRecord } from './journal';
import type { SelfEdit } from './roles';

export type SelectionMode = 'best' | 'positive';

/** Kept self-edits, in (passage, index) order. Ties go to the lowest index so reruns agree. */
export function selectSelfEdits(
  edits: SelfEdit[],
  rewards: RewardRecord[],
  mode: SelectionMode,
  bestRequiresPositive = false,
): SelfEdit[] {
  const rewardOf = new Map(rewards.map((r) => [r.selfEditId, r]));
  const usable = edits
    .filter((e) => {
      const r = rewardOf.get(e.id);
      return r !== undefined && r.reason === null;
    })
    .sort((a, b) => (a.passageId < b.passageId ? -1 : a.passageId > b.passageId ? 1 : a.index - b.index));
  if (mode === 'positive') return usable.filter((e) => rewardOf.get(e.id)!.reward > 0);

  const best = new Map<string, SelfEdit>();
  for (const edit of usable) {
    const current = best.get(edit.passageId);
    // strictly greater: an equal reward never displaces the lower index seen first
    if (!current || rewardOf.get(edit.id)!.reward > rewardOf.get(current.id)!.reward) best.set(edit.passageId, edit);
  }
  return [...best.values()].filter((e) => !bestRequiresPositive || rewardOf.get(e.id)!.reward > 0);
}
