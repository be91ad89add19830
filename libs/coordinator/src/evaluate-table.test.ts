/** @file The paper-style table through the pool: shared jobs, oracle ceiling, refused edits counted, same seed same table. */
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from './config';
import { evaluateTable, type TableCondition } from './evaluate-table';
import { StudentPool } from './student-pool';
import { DeterministicStudent, DeterministicTeacher, tinyContexts } from './testing/deterministic-roles';

const config = parseRunConfig({ seed: 5, inner: { evalTimes: 1 } });

async function table(conditionsOf: (teacher: DeterministicTeacher) => Promise<TableCondition[]>) {
  const teacher = new DeterministicTeacher();
  const student = new DeterministicStudent({ studentId: 'a', capacity: 3 });
  const pool = new StudentPool([student], { retry: config.rpc.retry, evaluateDeadlineMs: 5_000, infoDeadlineMs: 1_000, maxEvaluateAttempts: 3 });
  await pool.connect();
  const contexts = tinyContexts(8, 't');
  const rows = await evaluateTable({ config, teacher, pool, contexts, conditions: await conditionsOf(teacher), label: 'run/table' });
  return { rows, student, contexts };
}

describe('evaluateTable', () => {
  const conditions = async (teacher: DeterministicTeacher): Promise<TableCondition[]> => {
    const base = (await teacher.info()).baseCheckpoint;
    const oracle = Object.fromEntries(
      tinyContexts(8, 't').map((c) => [c.id, c.questions.map((q) => `The answer to "${q.question}" is ${q.answer}.`).join('\n')]),
    );
    return [
      { name: 'base', kind: 'no-update', studentCheckpoint: base },
      { name: 'passage', kind: 'passage', studentCheckpoint: base },
      { name: 'base-self-edits', kind: 'self-edits', studentCheckpoint: base, teacherCheckpoint: base },
      { name: 'oracle', kind: 'given', studentCheckpoint: base, completions: oracle },
    ];
  };

  it('scores each condition, sharing the passage-only jobs between no-update and passage', async () => {
    const { rows, student } = await table(conditions);
    expect(rows.map((r) => r.condition)).toEqual(['base', 'passage', 'base-self-edits', 'oracle']);
    for (const row of rows) expect(row.n_questions).toBe(32);
    expect(rows[3]).toMatchObject({ accuracy: 1, failures: 0 }); // stating every answer is the ceiling
    expect(rows[0]!.accuracy).toBeLessThan(rows[3]!.accuracy);
    const refused = rows[2]!.failures;
    // 8 passage-only jobs serve two conditions; self-edits skip refused ones; oracle runs 8
    expect(student.evaluateCalls).toBe(8 + (8 - refused) + 8);
  });

  it('gives the same table for the same seed', async () => {
    const [first, second] = [await table(conditions), await table(conditions)];
    expect(second.rows).toEqual(first.rows);
  });

  it('names the passage a given condition lacks', async () => {
    await expect(
      table(async (teacher) => [{ name: 'oracle', kind: 'given', studentCheckpoint: (await teacher.info()).baseCheckpoint, completions: {} }]),
    ).rejects.toThrow(/condition oracle: no completion for passage t000/);
  });
});
