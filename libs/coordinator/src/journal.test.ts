/** @file Journal: round trip, idempotent writes, manifests, disjoint passages, config checks on resume, and a SIGKILLed writer. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from './config';
import type { SealError } from './errors';
import { Journal, JOURNAL_FILE, type EvaluationRecord } from './journal';
import { SEED_SCHEME } from './seeds';
import { tempDirs } from './testing/temp-dirs';
import { checkpointBytes, refOf, tinyContexts } from './testing/deterministic-roles';
import type { SelfEdit } from './roles';

const dirs = tempDirs('seal-journal-');
const freshDir = dirs.make;
afterAll(dirs.removeAll);
const base = refOf('base', checkpointBytes('base'));

function edit(passageId: string, index: number, completion = `text ${index}`): SelfEdit {
  return { id: `base/${passageId}/${index}`, passageId, index, promptStyle: 'implications', prompt: 'P', completion, seed: index, tokenCount: 2, checkpointId: 'base' };
}

function evaluation(e: SelfEdit, scoreAfter: number): EvaluationRecord {
  return {
    idempotencyKey: `run/r1/${e.id}@base`,
    round: 1,
    kind: 'self_edit',
    passageId: e.passageId,
    selfEditId: e.id,
    baseCheckpoint: 'base',
    studentId: 's0',
    attempts: 1,
    scoreBefore: 0.25,
    scoreAfter,
    trainLoss: 0.1,
    perQuestion: [{ questionId: 'q', correctBefore: false, correctAfter: scoreAfter }],
    adapterSha256: 'ab'.repeat(32),
    timings: { queueMs: 0, sftMs: 1, evalMs: 1, totalMs: 2 },
    failure: null,
  };
}

function thrown(fn: () => unknown): SealError {
  try {
    fn();
  } catch (error) {
    return error as SealError;
  }
  throw new Error('expected a throw');
}

describe('journal', () => {
  it('round-trips every kind of row through close and reopen', () => {
    const dir = freshDir();
    const config = parseRunConfig({ seed: 3 });
    const journal = Journal.create(dir, config, 'run-1');
    journal.recordCheckpoint(base, 'teacher-base', null);
    const contexts = tinyContexts(2);
    journal.startRound(1, contexts, 'base', 'base');
    const edits = [edit('p000', 0), edit('p000', 1), edit('p001', 0, '')];
    for (const e of edits) journal.recordSelfEdit(1, e);
    journal.recordSelfEdit(1, edits[0]!); // a resumed generation re-yields: ignored
    expect(journal.recordEvaluation(evaluation(edits[0]!, 0.75))).toBe(true);
    expect(journal.recordEvaluation(evaluation(edits[0]!, 0.5))).toBe(false); // idempotency key already there
    journal.recordEvaluation({ ...evaluation(edits[2]!, 0), scoreAfter: Number.NaN, trainLoss: Number.NaN, failure: { reason: 'nan_loss', message: 'NaN' } });
    journal.recordEvaluationFailure('run/r1/x', 's1', 'unavailable: gone');
    expect(journal.cacheBaseline('base', 'p000', 0.25, 'k1')).toBe(0.25);
    expect(journal.cacheBaseline('base', 'p000', 0.5, 'k2')).toBe(0.25); // first value wins
    journal.recordSelection(1, [{ selfEditId: edits[0]!.id, round: 1, passageId: 'p000', reward: 0.5, baseline: 0.25, reason: null }], [edits[0]!.id]);
    journal.startMStep(1, 'run-1/r1/update', 'base', 1);
    const next = refOf('ckpt-1', checkpointBytes('next'));
    journal.finishMStep(1, next, true);
    journal.recordPush(1, 's0', 'ckpt-1', next.size, 3.5);
    const before = journal.snapshotJson();
    journal.close();

    const reopened = Journal.open(dir, config);
    expect(reopened.snapshotJson()).toBe(before);
    expect(reopened.runId).toBe('run-1');
    expect(reopened.round(1)).toMatchObject({ status: 'updated', passageIds: ['p000', 'p001'] });
    expect(reopened.contexts(1)).toEqual(contexts);
    expect(reopened.selfEdits(1)).toEqual(edits);
    const evaluations = reopened.evaluations(1);
    expect(evaluations).toHaveLength(2);
    expect(evaluations.find((e) => e.selfEditId === edits[0]!.id)!.scoreAfter).toBe(0.75);
    expect(evaluations.find((e) => e.selfEditId === edits[2]!.id)).toMatchObject({ scoreAfter: null, failure: { reason: 'nan_loss' } });
    expect(reopened.selections(1).map((e) => e.id)).toEqual([edits[0]!.id]);
    expect(reopened.mstep(1)).toMatchObject({ resultCheckpoint: 'ckpt-1', pairs: 1 });
    expect(reopened.checkpoint('ckpt-1')).toEqual(next);
    expect(reopened.pushes()).toEqual([{ round: 1, studentId: 's0', checkpointId: 'ckpt-1', bytes: next.size, ms: 3.5 }]);
    expect(reopened.evaluationFailures()).toEqual([{ idempotencyKey: 'run/r1/x', studentId: 's1', error: 'unavailable: gone' }]);
    reopened.close();
  });

  it('refuses a second run in the same directory, a reused passage, and a checkpoint whose sha256 changed', () => {
    const dir = freshDir();
    const journal = Journal.create(dir, parseRunConfig({}), 'run');
    expect(thrown(() => Journal.create(dir, parseRunConfig({}), 'run')).code).toBe('failed_precondition');
    journal.recordCheckpoint(base, 'teacher-base', null);
    journal.startRound(1, tinyContexts(2), 'base', 'base');
    const reused = thrown(() => journal.startRound(2, tinyContexts(3).slice(1), 'base', 'base'));
    expect(reused.message).toContain('passage p001 was already used');
    expect(journal.round(2)).toBeUndefined(); // the failed round start left nothing behind
    expect(thrown(() => journal.recordCheckpoint({ ...base, sha256: '00'.repeat(32) }, 'mstep', 1)).message).toContain('sha256');
    expect(journal.checkpoint('never-completed')).toBeUndefined();
    journal.close();
    expect(thrown(() => Journal.open(freshDir())).code).toBe('not_found');
  });

  it('refuses to resume with changed result-defining fields and names them; allows operational changes and more rounds', () => {
    const dir = freshDir();
    const config = parseRunConfig({ rounds: 2 });
    const journal = Journal.create(dir, config, 'run');
    journal.recordCheckpoint(base, 'teacher-base', null);
    journal.startRound(1, tinyContexts(1), 'base', 'base');
    journal.startRound(2, tinyContexts(2).slice(1), 'base', 'base');
    journal.close();

    const changed = thrown(() => Journal.open(dir, parseRunConfig({ rounds: 2, seed: 5, reward: { selection: 'positive' } })));
    expect(changed.code).toBe('failed_precondition');
    expect(changed.message).toContain('reward.selection: "best" → "positive"');
    expect(changed.message).toContain('seed: 0 → 5');
    expect(thrown(() => Journal.open(dir, parseRunConfig({ rounds: 1 }))).message).toContain('2 rounds already started');

    const moved = Journal.open(dir, parseRunConfig({ rounds: 3, students: { addresses: ['h:1'] } }));
    moved.close();
    expect(Journal.open(dir).config).toMatchObject({ rounds: 3, students: { addresses: ['h:1'] } });
  });

  it('refuses to resume a run started under another seed scheme, and still opens it for reading', () => {
    const dir = freshDir();
    const config = parseRunConfig({ rounds: 2 });
    Journal.create(dir, config, 'run').close();
    // A journal written before the scheme was journaled has no seed_scheme row: scheme 1.
    const db = new Database(join(dir, JOURNAL_FILE));
    db.prepare("DELETE FROM meta WHERE key = 'seed_scheme'").run();
    db.close();
    const refused = thrown(() => Journal.open(dir, config));
    expect(refused.code).toBe('failed_precondition');
    expect(refused.message).toContain(`seed scheme 1 and this SEAL-TS derives seeds with scheme ${SEED_SCHEME}`);
    const read = Journal.open(dir);
    expect(read.runId).toBe('run');
    read.close();
  });

  it('keeps every committed row when the writing process is SIGKILLed mid-round', () => {
    const dir = freshDir();
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'testing', 'seal-run-child.ts'), JSON.stringify({
        runDir: dir,
        runId: 'crash',
        config: { rounds: 1, data: { passagesPerRound: 3 }, selfEdits: { perPassage: 2 } },
        contexts: 3,
        killAfterEvaluations: 3,
      })],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(child.signal).toBe('SIGKILL');
    const journal = Journal.open(dir);
    expect(journal.round(1)!.status).toBe('generated');
    expect(journal.selfEdits(1)).toHaveLength(6);
    const evaluations = journal.evaluations(1);
    // Only complete rows: each has its scores and per-question results, and no key appears twice.
    expect(new Set(evaluations.map((e) => e.idempotencyKey)).size).toBe(evaluations.length);
    expect(evaluations.length).toBeLessThan(6);
    for (const e of evaluations.filter((x) => x.studentId)) expect(e.perQuestion.length).toBe(4);
    expect(journal.meta('status')).toBe('running');
    journal.close();
  });
});
