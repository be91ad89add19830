/** @file Evaluation jobs: common random numbers (one inner-loop seed per passage and round) and distinct idempotency keys. */
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from './config';
import { buildEvaluateJob, passageOnlyEdit } from './evaluation';
import type { SelfEdit } from './roles';
import { DeterministicStudent, tinyContexts } from './testing/deterministic-roles';

const config = parseRunConfig({ seed: 11 });
const baseCheckpoint = new DeterministicStudent().base.ref;
const [first, second] = tinyContexts(2);

const edit = (passageId: string, index: number): SelfEdit => ({
  id: `c/${passageId}/${index}`, passageId, index, promptStyle: 'implications', prompt: 'P',
  completion: `edit ${index}`, seed: index, tokenCount: 2, checkpointId: 'c',
});
const job = (round: number, context = first!, selfEdit = edit(context.id, 0), runConfig = config) =>
  buildEvaluateJob({ config: runConfig, runId: 'run', round, baseCheckpoint, context, selfEdit, subject: selfEdit.id });

describe('buildEvaluateJob', () => {
  it('starts every edit of one passage in one round, and its passage-only baseline, from the same adapter seed', () => {
    const edits = [0, 1, 2, 3].map((k) => job(1, first, edit(first!.id, k)));
    const baseline = job(1, first, passageOnlyEdit(first!, 'c'));
    expect(new Set([...edits, baseline].map((j) => j.seed)).size).toBe(1);
    expect(new Set([...edits, baseline].map((j) => j.idempotencyKey)).size).toBe(5);
  });

  it('draws a different seed for another passage, another round and another run seed', () => {
    const seed = job(1).seed;
    expect(job(1, second, edit(second!.id, 0)).seed).not.toBe(seed);
    expect(job(2).seed).not.toBe(seed);
    expect(job(1, first, edit(first!.id, 0), parseRunConfig({ seed: 12 })).seed).not.toBe(seed);
  });
});
