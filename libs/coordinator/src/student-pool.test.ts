/** @file Student pool: backpressure, re-issue from a dying or hung student, revival, checkpoint pushes on failed_precondition, giving up. */
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from './config';
import { invalidArgument, SealError, unavailable } from './errors';
import { buildEvaluateJob } from './evaluation';
import type { EvaluateJob, SelfEdit } from './roles';
import { StudentPool, type PoolEvent, type StudentPoolOptions } from './student-pool';
import { DeterministicStudent, tinyContexts } from './testing/deterministic-roles';

const config = parseRunConfig({ inner: { evalTimes: 1 } });
const baseOf = new DeterministicStudent().base.ref;

function jobs(n: number): EvaluateJob[] {
  const contexts = tinyContexts(n);
  return contexts.map((context, i) => {
    const selfEdit: SelfEdit = {
      id: `c/${context.id}/0`, passageId: context.id, index: 0, promptStyle: 'implications', prompt: 'P',
      completion: `line ${i}`, seed: i, tokenCount: 2, checkpointId: 'c',
    };
    return buildEvaluateJob({ config, runId: 'pool', round: 1, baseCheckpoint: baseOf, context, selfEdit, subject: selfEdit.id });
  });
}

function poolOf(students: DeterministicStudent[], overrides: Partial<StudentPoolOptions> = {}, events: PoolEvent[] = []) {
  return new StudentPool(students, {
    retry: { maxAttempts: 3, initialBackoffMs: 5, maxBackoffMs: 20, multiplier: 2 },
    evaluateDeadlineMs: 2_000,
    infoDeadlineMs: 500,
    maxEvaluateAttempts: 6,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
}

async function collect(pool: StudentPool, work: EvaluateJob[], extra: Partial<Parameters<StudentPool['evaluateAll']>[1]> = {}) {
  const delivered: { key: string; studentId: string }[] = [];
  await pool.evaluateAll(work, { onResult: (job, _result, meta) => void delivered.push({ key: job.idempotencyKey, studentId: meta.studentId }), ...extra });
  return delivered;
}

describe('StudentPool', () => {
  it('bounds in-flight work by each student capacity and delivers every result once', async () => {
    const a = new DeterministicStudent({ studentId: 'a', capacity: 2, workMs: 4 });
    const b = new DeterministicStudent({ studentId: 'b', capacity: 3, workMs: 4 });
    const events: PoolEvent[] = [];
    const pool = poolOf([a, b], {}, events);
    await pool.connect();
    const work = jobs(24);
    const delivered = await collect(pool, work);
    expect(delivered.map((d) => d.key).sort()).toEqual(work.map((j) => j.idempotencyKey).sort());
    expect(a.maxInFlight).toBeLessThanOrEqual(2);
    expect(b.maxInFlight).toBeLessThanOrEqual(3);
    expect(b.maxInFlight).toBeGreaterThan(1); // real concurrency happened
    expect(a.evaluateCalls + b.evaluateCalls).toBe(24);
    expect(a.evaluateCalls).toBeGreaterThan(4); // both got a fair share
    const last = events.filter((e) => e.type === 'progress').at(-1);
    expect(last).toMatchObject({ done: 24, total: 24 });
  });

  it('re-issues a dying student work elsewhere, counts nothing twice, and uses the student again when it returns', async () => {
    let aAlive = true;
    let aCallsAtDeath = 0;
    const a = new DeterministicStudent({
      studentId: 'a', capacity: 2, workMs: 3,
      fault: (_call, self) => {
        if (aAlive && self.evaluateCalls === 4) {
          aAlive = false;
          aCallsAtDeath = self.evaluateCalls;
        }
        if (!aAlive) throw unavailable('connection refused (a)');
      },
    });
    const b = new DeterministicStudent({
      studentId: 'b', capacity: 2, workMs: 3,
      fault: (call, self) => {
        if (call === 'evaluate' && self.evaluateCalls === 10) aAlive = true; // a comes back
      },
    });
    const events: PoolEvent[] = [];
    const pool = poolOf([a, b], { maxEvaluateAttempts: 10, retry: { maxAttempts: 50, initialBackoffMs: 2, maxBackoffMs: 5, multiplier: 2 } }, events);
    await pool.connect();
    const work = jobs(40);
    const failures: string[] = [];
    const delivered = await collect(pool, work, { onAttemptFailed: (job) => void failures.push(job.idempotencyKey) });
    expect(delivered).toHaveLength(40);
    expect(new Set(delivered.map((d) => d.key)).size).toBe(40);
    expect(failures.length).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'student-down' && e.studentId === 'a')).toBe(true);
    expect(events.some((e) => e.type === 'student-up' && e.studentId === 'a')).toBe(true);
    // a's successful calls after its return prove it was used again
    expect(delivered.filter((d) => d.studentId === 'a').length).toBeGreaterThan(aCallsAtDeath - 1);
    expect(a.evaluateCalls).toBeGreaterThan(aCallsAtDeath + 1);
  });

  it('gives up on a hung student at the per-call deadline and re-issues its job', async () => {
    const hung = new DeterministicStudent({
      studentId: 'hung', capacity: 1,
      fault: (call) => (call === 'evaluate' ? new Promise<void>(() => undefined) : undefined), // ignores its signal forever
    });
    const ok = new DeterministicStudent({ studentId: 'ok', capacity: 2 });
    const pool = poolOf([hung, ok], { evaluateDeadlineMs: 40 });
    await pool.connect();
    const delivered = await collect(pool, jobs(6));
    expect(delivered).toHaveLength(6);
    expect(delivered.every((d) => d.studentId === 'ok')).toBe(true);
    expect(hung.evaluateCalls).toBeGreaterThan(0);
  });

  it('pushes a missing checkpoint on failed_precondition, then retries on the same student', async () => {
    const a = new DeterministicStudent({ studentId: 'a', capacity: 1 });
    a.held.clear(); // like a restarted student
    const pool = poolOf([a]);
    await pool.connect();
    const pushed: string[] = [];
    const delivered = await collect(pool, jobs(3), {
      ensureCheckpoint: async (member, checkpoint) => {
        pushed.push(`${member.id}:${checkpoint.id}`);
        a.held.set(checkpoint.id, checkpoint);
      },
    });
    expect(delivered).toHaveLength(3);
    expect(pushed).toEqual(['a:student-base']);
  });

  it('stops at the first non-retryable error and at an untrustworthy result', async () => {
    const bad = new DeterministicStudent({ studentId: 'bad', fault: (call, self) => { if (call === 'evaluate' && self.evaluateCalls === 2) throw invalidArgument('self-edit field completion is not UTF-8'); } });
    const pool = poolOf([bad]);
    await pool.connect();
    await expect(collect(pool, jobs(5))).rejects.toMatchObject({ code: 'invalid_argument' });

    const liar = poolOf([new DeterministicStudent({ studentId: 'liar' })]);
    await liar.connect();
    await expect(
      collect(liar, jobs(2), { validate: (_job, _result, id) => { throw new SealError('internal', `student ${id} scored another adapter`); } }),
    ).rejects.toThrow(/student liar scored another adapter/);
  });

  it('fails with unavailable when every student stays unreachable, and with cancelled on abort', async () => {
    let up = true;
    const flaky = new DeterministicStudent({ studentId: 'f', fault: () => { if (!up) throw unavailable('gone'); } });
    const pool = poolOf([flaky]);
    await pool.connect();
    up = false;
    await expect(collect(pool, jobs(3))).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/unreachable|failed/) });

    const slow = poolOf([new DeterministicStudent({ studentId: 's', workMs: 50 })]);
    await slow.connect();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await expect(collect(slow, jobs(5), { signal: controller.signal })).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('refuses to start with no reachable student', async () => {
    const pool = poolOf([new DeterministicStudent({ fault: () => { throw unavailable('down'); } })]);
    await expect(pool.connect()).rejects.toMatchObject({ code: 'unavailable' });
  });
});
