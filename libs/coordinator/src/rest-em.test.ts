/**
 * @file The SEAL driver with deterministic roles: a straight run's journal, the diamond (straight
 * equals killed + resumed, by abort and by SIGKILL), extension by rounds, refused config changes,
 * separated mode, lazy checkpoint pushes, and rejection of an adapter that was never applied.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { trace, type Attributes, type AttributeValue, type Span, type SpanStatus, type Tracer } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunConfig, type RunConfigInput } from './config';
import { unavailable } from './errors';
import { Journal } from './journal';
import { resumeSeal, runSeal, type RunEvent } from './rest-em';
import { tempDirs } from './testing/temp-dirs';
import { DeterministicStudent, DeterministicTeacher, tinyContexts, type DeterministicStudentOptions } from './testing/deterministic-roles';

const ROUNDS = 3;
const CONTEXTS = 12;
const configInput: RunConfigInput = { rounds: ROUNDS, seed: 11, data: { passagesPerRound: 3 }, selfEdits: { perPassage: 3 } };
const dirs = tempDirs('seal-run-');
const freshDir = dirs.make;
afterAll(dirs.removeAll);

function roles(studentOptions: DeterministicStudentOptions[] = [{ studentId: 'a' }, { studentId: 'b' }]) {
  return { teacher: new DeterministicTeacher(), students: studentOptions.map((o) => new DeterministicStudent(o)), trainContexts: tinyContexts(CONTEXTS) };
}

function snapshotOf(runDir: string): string {
  const journal = Journal.open(runDir);
  try {
    return journal.snapshotJson();
  } finally {
    journal.close();
  }
}

let straightDir: string | undefined;
/** One straight run, shared by the diamond tests. */
async function straightRun(): Promise<string> {
  if (!straightDir) {
    straightDir = freshDir();
    await runSeal({ runDir: straightDir, config: parseRunConfig(configInput), runId: 'diamond', ...roles() });
  }
  return straightDir;
}

function runChild(args: Record<string, unknown>) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'testing', 'seal-run-child.ts'), JSON.stringify(args)], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('runSeal', () => {
  it('journals every phase of every round, with fresh disjoint passages and the student following the teacher', async () => {
    const dir = await straightRun();
    const journal = Journal.open(dir);
    try {
      expect(journal.meta('status')).toBe('done');
      const rounds = journal.rounds();
      expect(rounds.map((r) => r.status)).toEqual(['done', 'done', 'done']);
      expect(new Set(rounds.flatMap((r) => r.passageIds)).size).toBe(9);
      for (const r of rounds) {
        const edits = journal.selfEdits(r.round);
        expect(edits).toHaveLength(9);
        const evaluations = journal.evaluations(r.round);
        expect(evaluations.map((e) => e.selfEditId).sort()).toEqual(edits.map((e) => e.id).sort());
        expect(journal.rewards(r.round)).toHaveLength(9);
        const kept = journal.selections(r.round);
        expect(new Set(kept.map((e) => e.passageId)).size).toBe(kept.length); // 'best': at most one per passage
        const mstep = journal.mstep(r.round)!;
        expect(mstep.pairs).toBe(kept.length);
        expect(journal.checkpoint(mstep.resultCheckpoint!)).toBeDefined();
      }
      // merged: round n+1 starts from round n's M-step result, for teacher and student alike
      for (const r of rounds.slice(1)) {
        const previous = journal.mstep(r.round - 1)!.resultCheckpoint;
        expect(r.teacherCheckpoint).toBe(previous);
        expect(r.studentCheckpoint).toBe(previous);
      }
      // both students received the base and the round-1 and round-2 checkpoints (not the final one)
      expect(journal.pushes().map((p) => `${p.studentId}:${p.round}`).sort()).toEqual(['a:1', 'a:1', 'a:2', 'b:1', 'b:1', 'b:2']);
      // pathological edits were scored 0 with their reason, and the run went on
      const reasons = rounds.flatMap((r) => journal.rewards(r.round)).filter((r) => r.reason).map((r) => r.reason!.split(':')[0]);
      expect(reasons.length).toBeGreaterThan(0);
      for (const r of rounds.flatMap((x) => journal.rewards(x.round)).filter((x) => x.reason)) expect(r.reward).toBe(0);
    } finally {
      journal.close();
    }
  });

  it('diamond: aborted mid-round then resumed equals the straight run', async () => {
    const dir = freshDir();
    const controller = new AbortController();
    let evaluated = 0;
    const onEvent = (e: RunEvent) => {
      if (e.type === 'progress' && e.done > 0 && ++evaluated === 13) controller.abort(); // round 2, mid-evaluation
    };
    await expect(
      runSeal({ runDir: dir, config: parseRunConfig(configInput), runId: 'diamond', ...roles(), signal: controller.signal, onEvent }),
    ).rejects.toMatchObject({ code: 'cancelled' });
    const partial = Journal.open(dir);
    expect(partial.rounds().map((r) => r.status)).toEqual(['done', 'generated']);
    partial.close();
    const plans: RunEvent[] = [];
    const summary = await resumeSeal({ runDir: dir, config: parseRunConfig(configInput), ...roles(), onEvent: (e) => void (e.type === 'evaluate-plan' && plans.push(e)) });
    expect(summary.rounds).toHaveLength(ROUNDS);
    // the resumed round 2 starts its progress where the killed session stopped
    expect(plans[0]).toMatchObject({ round: 2, total: 9 });
    expect((plans[0] as { alreadyDone: number }).alreadyDone).toBeGreaterThanOrEqual(12 - 9);
    expect(plans[1]).toMatchObject({ round: 3, total: 9 });
    expect(snapshotOf(dir)).toBe(snapshotOf(await straightRun()));
  });

  it('diamond: SIGKILLed during generation, then during evaluation, then resumed equals the straight run', async () => {
    const dir = freshDir();
    const common = { runDir: dir, runId: 'diamond', config: configInput, contexts: CONTEXTS };
    const first = runChild({ ...common, killAfterSelfEdits: 13 }); // round 2, passage 2 of 3
    expect(first.signal).toBe('SIGKILL');
    const afterFirst = Journal.open(dir);
    expect(afterFirst.rounds().map((r) => r.status)).toEqual(['done', 'started']);
    expect(afterFirst.selfEdits(2)).toHaveLength(4);
    afterFirst.close();
    const second = runChild({ ...common, resume: true, killAfterEvaluations: 12 }); // round 2 done: 5 evaluations, then round 3
    expect(second.signal).toBe('SIGKILL');
    const summary = await resumeSeal({ runDir: dir, config: parseRunConfig(configInput), ...roles() });
    expect(summary.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    expect(snapshotOf(dir)).toBe(snapshotOf(await straightRun()));
  });

  it('diamond: k complete rounds, then resumed with rounds R, equals R rounds straight', async () => {
    const dir = freshDir();
    await runSeal({ runDir: dir, config: parseRunConfig({ ...configInput, rounds: 1 }), runId: 'diamond', ...roles() });
    await resumeSeal({ runDir: dir, config: parseRunConfig(configInput), ...roles() });
    expect(snapshotOf(dir)).toBe(snapshotOf(await straightRun()));
  });

  it('resuming a finished run does no work', async () => {
    const dir = freshDir();
    await runSeal({ runDir: dir, config: parseRunConfig({ ...configInput, rounds: 1 }), runId: 'done', ...roles() });
    const before = snapshotOf(dir);
    const again = roles();
    const summary = await resumeSeal({ runDir: dir, ...again });
    expect(summary.rounds).toHaveLength(1);
    expect(again.teacher.updateCalls).toBe(0);
    expect(again.students.map((s) => s.evaluateCalls)).toEqual([0, 0]);
    expect(snapshotOf(dir)).toBe(before);
  });

  it('retries a teacher stream that breaks mid-generation, asking only for what is missing, with the same result', async () => {
    const dir = freshDir();
    const r = roles();
    let yielded = 0;
    let broke = 0;
    const flaky = new DeterministicTeacher({
      beforeYield: () => {
        // the connection drops after the 5th and the 16th self-edit
        if (++yielded === 5 || yielded === 16) {
          broke += 1;
          throw unavailable('teacher connection reset');
        }
      },
    });
    const fast = { ...configInput, rpc: { retry: { initialBackoffMs: 1, maxBackoffMs: 2 } } };
    await runSeal({ runDir: dir, config: parseRunConfig(fast), runId: 'diamond', ...r, teacher: flaky });
    expect(broke).toBe(2);
    // 27 edits; each break costs its own call plus at most K−1 = 2 repeats of its passage's earlier edits
    expect(yielded).toBeLessThanOrEqual(27 + 2 * 3);
    expect(snapshotOf(dir)).toBe(snapshotOf(await straightRun()));
  });

  it('gives up on an unreachable teacher after the retries with a clear error, and the journal resumes later', async () => {
    const dir = freshDir();
    const fast = { ...configInput, rpc: { retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2 } } };
    const down = new DeterministicTeacher();
    let infoCalls = 0;
    down.info = async () => {
      infoCalls += 1;
      throw unavailable('connect ECONNREFUSED 127.0.0.1:50051');
    };
    await expect(runSeal({ runDir: dir, config: parseRunConfig(fast), runId: 'diamond', ...roles(), teacher: down })).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('teacher Info: gave up after 3 attempts: connect ECONNREFUSED'),
    });
    expect(infoCalls).toBe(3);
    await resumeSeal({ runDir: dir, config: parseRunConfig(fast), ...roles() });
    expect(snapshotOf(dir)).toBe(snapshotOf(await straightRun()));
  });

  it('refuses to resume with a changed config, naming the fields', async () => {
    const dir = await straightRun();
    await expect(
      resumeSeal({ runDir: dir, config: parseRunConfig({ ...configInput, selfEdits: { perPassage: 4 }, inner: { sft: { lr: 0.01 } } }), ...roles() }),
    ).rejects.toThrow(/changed fields:\n\s+inner\.sft\.lr: 0\.001 → 0\.01\n\s+selfEdits\.perPassage: 3 → 4/);
  });

  it("keeps the student's own base in 'separated' mode and pushes nothing", async () => {
    const dir = freshDir();
    const summary = await runSeal({ runDir: dir, config: parseRunConfig({ ...configInput, rounds: 2, mode: 'separated' }), ...roles() });
    expect(summary.finalStudentCheckpoint.id).toBe('student-base');
    expect(summary.finalTeacherCheckpoint.id).not.toBe('base');
    const journal = Journal.open(dir);
    expect(journal.rounds().map((r) => r.studentCheckpoint)).toEqual(['student-base', 'student-base']);
    expect(journal.rounds()[1]!.teacherCheckpoint).toBe(summary.rounds[0]!.resultCheckpoint);
    expect(journal.pushes()).toEqual([]);
    journal.close();
  });

  it("with mstep.from 'base' and pairs 'all', every M-step trains the base on every round's kept edits so far", async () => {
    const dir = freshDir();
    await runSeal({ runDir: dir, config: parseRunConfig({ ...configInput, mstep: { from: 'base', pairs: 'all' } }), ...roles() });
    const journal = Journal.open(dir);
    try {
      let keptSoFar = 0;
      for (const r of journal.rounds()) {
        keptSoFar += journal.selections(r.round).length;
        const mstep = journal.mstep(r.round)!;
        expect(mstep.baseCheckpoint).toBe(journal.meta('teacher_base'));
        expect(mstep.pairs).toBe(keptSoFar);
        // the E-step still samples from the latest policy
        if (r.round > 1) expect(r.teacherCheckpoint).toBe(journal.mstep(r.round - 1)!.resultCheckpoint);
      }
      expect(keptSoFar).toBeGreaterThan(journal.selections(1).length);
    } finally {
      journal.close();
    }
  });

  it('pushes the checkpoint again to a student that restarted mid-round (failed_precondition), then retries there', async () => {
    const dir = freshDir();
    const options: DeterministicStudentOptions = {
      studentId: 'b',
      capacity: 1,
      fault: (call, self) => {
        if (call === 'evaluate' && self.evaluateCalls === 3) self.restart();
      },
    };
    const summary = await runSeal({ runDir: dir, config: parseRunConfig({ ...configInput, rounds: 1 }), ...roles([{ studentId: 'a' }, options]) });
    expect(summary.rounds[0]!.evaluations).toBe(9);
    const journal = Journal.open(dir);
    expect(journal.pushes().filter((p) => p.studentId === 'b').map((p) => p.checkpointId)).toEqual(['base', 'base']);
    journal.close();
  });

  it('pushes by shared-storage reference to students that can load one, and streams to the others', async () => {
    const root = freshDir();
    const dir = join(root, 'runs', 'shared');
    const r = roles([{ studentId: 'a', sharedRoot: root }, { studentId: 'b' }]);
    await runSeal({ runDir: dir, config: parseRunConfig({ ...configInput, rounds: 2, rpc: { sharedStorageRoot: root } }), ...r });
    const journal = Journal.open(dir);
    const pushes = journal.pushes();
    journal.close();
    expect(pushes.filter((p) => p.studentId === 'a').map((p) => p.bytes)).toEqual([0, 0]);
    expect(pushes.filter((p) => p.studentId === 'b').map((p) => p.bytes)).toEqual([4096, 4096]);
    expect(r.students.map((s) => s.streamedLoads)).toEqual([0, 2]);
  });

  it('rejects a result whose scored adapter is not the trained one, leaving a resumable journal', async () => {
    const dir = freshDir();
    const events: RunEvent[] = [];
    await expect(
      runSeal({ runDir: dir, config: parseRunConfig(configInput), ...roles([{ studentId: 'liar', breakAdapter: true }]), onEvent: (e) => events.push(e) }),
    ).rejects.toThrow(/student liar returned an untrustworthy result .*scored adapter/);
    const journal = Journal.open(dir);
    expect(journal.round(1)!.status).toBe('generated');
    expect(journal.evaluations(1).filter((e) => e.studentId === 'liar')).toEqual([]);
    journal.close();
    await resumeSeal({ runDir: dir, config: parseRunConfig(configInput), ...roles() });
  });
});

// ---------------------------------------------------------------------------------------------
// Spans, recorded by a minimal API-level tracer (libraries may not load the SDK, even in tests)
// ---------------------------------------------------------------------------------------------

interface RecordedSpan {
  name: string;
  attributes: Attributes;
  status?: SpanStatus;
  ended: boolean;
}

function recordingTracer(spans: RecordedSpan[]): Tracer {
  const startSpan = (name: string, options?: { attributes?: Attributes }): Span => {
    const record: RecordedSpan = { name, attributes: { ...options?.attributes }, ended: false };
    spans.push(record);
    const span: Span = {
      spanContext: () => ({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 }),
      setAttribute: (key: string, value: AttributeValue) => ((record.attributes[key] = value), span),
      setAttributes: (attributes: Attributes) => (Object.assign(record.attributes, attributes), span),
      addEvent: () => span,
      addLink: () => span,
      addLinks: () => span,
      setStatus: (status: SpanStatus) => ((record.status = status), span),
      updateName: () => span,
      end: () => void (record.ended = true),
      isRecording: () => true,
      recordException: () => undefined,
    };
    return span;
  };
  return {
    startSpan,
    startActiveSpan: ((name: string, ...rest: unknown[]) => {
      const fn = rest.at(-1) as (span: Span) => unknown;
      const options = rest.length > 1 ? (rest[0] as { attributes?: Attributes }) : undefined;
      return fn(startSpan(name, options));
    }) as Tracer['startActiveSpan'],
  };
}

describe('tracing', () => {
  it("emits the run's spans with seal.* attributes, ended, ERROR on failure", async () => {
    const spans: RecordedSpan[] = [];
    trace.setGlobalTracerProvider({ getTracer: () => recordingTracer(spans) });
    await runSeal({ runDir: freshDir(), config: parseRunConfig({ ...configInput, rounds: 2 }), runId: 'traced', ...roles() });
    const names = new Set(spans.map((s) => s.name));
    for (const name of ['run rounds', 'run round', 'generate self_edits', 'score adapter', 'update teacher', 'push checkpoint']) expect(names).toContain(name);
    expect(spans.every((s) => s.ended)).toBe(true);
    expect(spans.find((s) => s.name === 'run rounds')!.attributes).toMatchObject({ 'seal.run_id': 'traced', 'seal.rounds': 2, 'seal.mode': 'merged' });
    const rounds = spans.filter((s) => s.name === 'run round');
    expect(rounds.map((s) => s.attributes['seal.round'])).toEqual([1, 2]);
    expect(typeof rounds[0]!.attributes['seal.mean_reward']).toBe('number');

    spans.length = 0;
    await expect(runSeal({ runDir: freshDir(), config: parseRunConfig(configInput), ...roles([{ studentId: 'liar', breakAdapter: true }]) })).rejects.toThrow();
    expect(spans.find((s) => s.name === 'run rounds')!.status).toMatchObject({ code: 2 }); // SpanStatusCode.ERROR
    trace.disable();
  });
});
