/** @file Student pool: backpressure, re-issue from a dying or hung student, revival, checkpoint pushes on failed_precondition, giving up, names resolving to many students (join, leave). */
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from './config';
import { invalidArgument, SealError, unavailable } from './errors';
import { buildEvaluateJob } from './evaluation';
import type { EvaluateJob, SelfEdit } from './roles';
import { StudentPool, type PoolEvent, type StudentGroup, type StudentPoolOptions } from './student-pool';
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

function poolOf(students: (DeterministicStudent | StudentGroup)[], overrides: Partial<StudentPoolOptions> = {}, events: PoolEvent[] = []) {
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

  it('makes one member per address a name resolves to (own capacity each), and follows re-resolution: new replicas join, vanished ones leave', async () => {
    const replicas = new Map([
      ['10.0.0.1:50052', new DeterministicStudent({ studentId: 'r1', capacity: 1, workMs: 3 })],
      ['10.0.0.2:50052', new DeterministicStudent({ studentId: 'r2', capacity: 3, workMs: 3 })],
      ['10.0.0.3:50052', new DeterministicStudent({ studentId: 'r3', capacity: 2, workMs: 3 })],
    ]);
    // The "DNS" answer: the first two replicas, then (after r1 did some work) the scaled set r2, r3.
    let answer = ['10.0.0.1:50052', '10.0.0.2:50052'];
    let resolutions = 0;
    const group: StudentGroup = {
      name: 'dns:///students:50052',
      resolve: async () => {
        resolutions++;
        return new Map(answer.map((address) => [address, replicas.get(address)!]));
      },
    };
    const r1 = replicas.get('10.0.0.1:50052')!;
    r1.options.fault = (call, self) => {
      if (call === 'evaluate' && self.evaluateCalls === 3) answer = ['10.0.0.2:50052', '10.0.0.3:50052'];
    };
    const events: PoolEvent[] = [];
    let r1CallsAtLeave = -1;
    const onEvent = (e: PoolEvent) => {
      events.push(e);
      if (e.type === 'student-leave') r1CallsAtLeave = r1.evaluateCalls;
    };
    const pool = poolOf([group], { resolveIntervalMs: 5, onEvent });
    await pool.connect();
    expect(pool.members.map((m) => [m.id, m.address, m.capacity])).toEqual([
      ['r1', '10.0.0.1:50052', 1],
      ['r2', '10.0.0.2:50052', 3],
    ]);
    const work = jobs(60);
    const delivered = await collect(pool, work);
    expect(delivered.map((d) => d.key).sort()).toEqual(work.map((j) => j.idempotencyKey).sort());
    expect(resolutions).toBeGreaterThan(1);
    expect(events).toContainEqual({ type: 'student-leave', studentId: 'r1', group: 'dns:///students:50052', address: '10.0.0.1:50052' });
    expect(events).toContainEqual({ type: 'student-join', studentId: '10.0.0.3:50052', group: 'dns:///students:50052', address: '10.0.0.3:50052' });
    // r1 got no new work once its address was gone; the new replica took a share within its capacity.
    expect(r1CallsAtLeave).toBeGreaterThanOrEqual(3);
    expect(r1.evaluateCalls).toBe(r1CallsAtLeave);
    const r3 = replicas.get('10.0.0.3:50052')!;
    expect(r3.evaluateCalls).toBeGreaterThan(0);
    expect(r3.maxInFlight).toBeLessThanOrEqual(2);
    expect(pool.members.map((m) => m.id)).toEqual(['r2', 'r3']);
  });

  it('keeps a group member through a failed resolution, and names the group when nothing ever resolves', async () => {
    const only = new DeterministicStudent({ studentId: 'only', capacity: 2 });
    let fail = false;
    const group: StudentGroup = {
      name: 'dns:///flaky:1',
      resolve: async () => {
        if (fail) throw unavailable('getaddrinfo EAI_AGAIN flaky');
        return new Map([['10.0.0.9:1', only]]);
      },
    };
    const events: PoolEvent[] = [];
    const pool = poolOf([group], { resolveIntervalMs: 1 }, events);
    await pool.connect();
    fail = true;
    const delivered = await collect(pool, jobs(6));
    expect(delivered).toHaveLength(6);
    expect(events.some((e) => e.type === 'resolve-failed' && e.group === 'dns:///flaky:1')).toBe(true);
    expect(pool.members.map((m) => m.id)).toEqual(['only']);

    const nowhere: StudentGroup = { name: 'dns:///nowhere:1', resolve: async () => { throw unavailable('getaddrinfo ENOTFOUND nowhere'); } };
    await expect(poolOf([nowhere]).connect()).rejects.toThrow('no student answered Info: dns:///nowhere:1 (unavailable: getaddrinfo ENOTFOUND nowhere)');
  });
});
