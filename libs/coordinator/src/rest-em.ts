/**
 * @file The SEAL run driver: rounds of E-step (self-edits → evaluations → rewards), selection and
 * M-step, checkpoint pushes in 'merged' mode. Journal-first: each phase reads what is done, does
 * the rest, and records it before the next decision, so `resumeSeal` continues exactly.
 */
import { randomUUID } from 'node:crypto';
import { isAbsolute, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CheckpointArchive } from './checkpoint-archive';
import { ensureStudentHolds } from './checkpoint-push';
import type { RunConfig } from './config';
import { failedPrecondition, SealError, throwIfAborted } from './errors';
import {
  buildEvaluateJob,
  passageBaselineSubject,
  passageOnlyEdit,
  screenSelfEdit,
  toEvaluationRecord,
  validateEvaluateResult,
} from './evaluation';
import { Journal } from './journal';
import { runMetricsRecorder } from './metrics';
import { computeRewards, meanReward } from './reward';
import { withRetries } from './retry';
import type { CheckpointRef, Context, EvaluateJob, SelfEdit, Teacher } from './roles';
import { selfEditId } from './roles';
import { generationSeed, updateSeed } from './seeds';
import { selectSelfEdits } from './selection';
import { linkedSignal } from './signals';
import { injectContext, withExtractedContext, withSpan, type TraceCarrier } from '@seal/telemetry';
import { StudentPool, type PoolEvent, type PoolMember, type StudentSource } from './student-pool';

// ---------------------------------------------------------------------------------------------
// Public surface
// ---------------------------------------------------------------------------------------------

export type Phase = 'generate' | 'evaluate' | 'select' | 'update' | 'push';

export type RunEvent =
  | PoolEvent
  | { type: 'run-start'; runId: string; runDir: string; rounds: number; resumed: boolean }
  | { type: 'round-start'; round: number; rounds: number; passages: number }
  | { type: 'phase-start'; round: number; phase: Phase }
  /**
   * Evaluations of a round: `alreadyDone` were journaled before (a resumed round) or refused without
   * an update; the pool's `progress` events then count the remaining `total − alreadyDone`.
   */
  | { type: 'evaluate-plan'; round: number; total: number; alreadyDone: number }
  | { type: 'phase-end'; round: number; phase: Phase; ms: number }
  | { type: 'generate-progress'; round: number; done: number; total: number }
  | { type: 'checkpoint-push'; round: number; studentId: string; checkpointId: string; bytes: number; ms: number; via: 'shared' | 'stream' }
  | { type: 'teacher-retry'; what: string; attempt: number; error: string; waitMs: number }
  | { type: 'round-end'; round: number; meanReward: number; kept: number; checkpointId: string }
  | { type: 'run-end'; runId: string };

export interface SealRunOptions {
  runDir: string;
  teacher: Teacher;
  /** students, and names resolving to many (one pool member per address). */
  students: StudentSource[];
  /** RL-train contexts in a fixed order; each round takes the next `passagesPerRound` unused ones. */
  trainContexts: Context[];
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
}

export interface RoundSummary {
  round: number;
  meanReward: number;
  kept: number;
  evaluations: number;
  teacherCheckpoint: string;
  studentCheckpoint: string;
  /** the checkpoint the round's M-step produced (equal to teacherCheckpoint when nothing was kept). */
  resultCheckpoint: string;
  /** inner-loop time summed over the round's evaluations, as the students reported it. */
  studentMs: { sft: number; eval: number };
  /** edits scored 0 without a measurement, by reason (empty, garbage, too_long, nan_loss…). */
  zeroReasons: Record<string, number>;
}

export interface RunSummary {
  runId: string;
  runDir: string;
  rounds: RoundSummary[];
  finalTeacherCheckpoint: CheckpointRef;
  finalStudentCheckpoint: CheckpointRef;
  /** wall time per phase in this process (a resumed run counts only its own part). */
  phaseMs: Record<Phase, number>;
}

/** Starts a new run in `runDir` (which must not hold a journal yet). */
export async function runSeal(options: SealRunOptions & { config: RunConfig; runId?: string }): Promise<RunSummary> {
  const journal = Journal.create(options.runDir, options.config, options.runId ?? randomUUID());
  return drive(journal, options, false);
}

/** Continues the run in `runDir`; with `config`, refuses one whose result-defining fields changed. */
export async function resumeSeal(options: SealRunOptions & { config?: RunConfig }): Promise<RunSummary> {
  const journal = Journal.open(options.runDir, options.config);
  return drive(journal, options, true);
}

/** Reads a (finished or partial) run's per-round summary from its journal. */
export function summarizeRounds(journal: Journal): RoundSummary[] {
  return journal.rounds().map((r) => {
    const rewards = journal.rewards(r.round);
    const evaluations = journal.evaluations(r.round);
    const zeroReasons: Record<string, number> = {};
    for (const reward of rewards) {
      const reason = reward.reason?.split(':')[0];
      if (reason) zeroReasons[reason] = (zeroReasons[reason] ?? 0) + 1;
    }
    return {
      round: r.round,
      meanReward: meanReward(rewards),
      kept: journal.selections(r.round).length,
      evaluations: evaluations.length,
      studentMs: {
        sft: evaluations.reduce((sum, e) => sum + (e.timings?.sftMs ?? 0), 0),
        eval: evaluations.reduce((sum, e) => sum + (e.timings?.evalMs ?? 0), 0),
      },
      zeroReasons,
      teacherCheckpoint: r.teacherCheckpoint,
      studentCheckpoint: r.studentCheckpoint,
      resultCheckpoint: journal.mstep(r.round)?.resultCheckpoint ?? r.teacherCheckpoint,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

async function drive(journal: Journal, options: SealRunOptions, resumed: boolean): Promise<RunSummary> {
  const { config } = journal;
  const recordMetrics = runMetricsRecorder(journal.runId);
  const emit = (event: RunEvent) => {
    recordMetrics(event);
    options.onEvent?.(event);
  };
  const phaseMs: Record<Phase, number> = { generate: 0, evaluate: 0, select: 0, update: 0, push: 0 };
  const pool = new StudentPool(options.students, {
    retry: config.rpc.retry,
    evaluateDeadlineMs: config.rpc.evaluateDeadlineMs,
    infoDeadlineMs: config.rpc.infoDeadlineMs,
    maxEvaluateAttempts: config.rpc.maxEvaluateAttempts,
    resolveIntervalMs: config.rpc.resolveIntervalMs,
    onEvent: emit,
  });
  const archive = new CheckpointArchive(options.runDir);
  const ctx: DriverContext = { journal, config, options, pool, archive, emit, phaseMs, runId: journal.runId };
  try {
    // The caller's span (the `seal run` root, see apps/cli main-job.ts) when there is one; without
    // one, a resumed session still continues the run's trace under the journaled root.
    const callerTrace = injectContext();
    const continued = callerTrace.traceparent ? undefined : runTraceParent(journal);
    return await withExtractedContext(continued, () => withSpan('run rounds', { 'seal.run_id': ctx.runId, 'seal.rounds': config.rounds, 'seal.mode': config.mode, 'seal.resumed': resumed }, async () => {
      recordRunTrace(journal, callerTrace.traceparent ? callerTrace : injectContext());
      emit({ type: 'run-start', runId: ctx.runId, runDir: options.runDir, rounds: config.rounds, resumed });
      await pool.connect(options.signal);
      await recordBaseCheckpoints(ctx);
      for (let round = 1; round <= config.rounds; round++) await runRound(ctx, round);
      journal.setMeta('status', 'done');
      emit({ type: 'run-end', runId: ctx.runId });
      const last = summarizeRounds(journal).at(-1)!;
      const finalTeacher = journal.requireCheckpoint(last.resultCheckpoint);
      return {
        runId: ctx.runId,
        runDir: options.runDir,
        rounds: summarizeRounds(journal),
        finalTeacherCheckpoint: finalTeacher,
        finalStudentCheckpoint: config.mode === 'merged' ? finalTeacher : journal.requireCheckpoint(last.studentCheckpoint),
        phaseMs,
      };
    }));
  } finally {
    journal.close();
  }
}

/** Journal meta key: the W3C traceparent of a run's first root span; resumed sessions continue that trace. */
export const RUN_TRACE_PARENT = 'trace_parent';

/**
 * Records the run's trace: the root span's traceparent once (the first session's; a resumed
 * session parents its root on it, so a run is one trace across sessions), and every trace id
 * seen, for runs whose sessions could not share one (a journal from before this rule).
 */
function recordRunTrace(journal: Journal, root: TraceCarrier): void {
  const traceparent = root.traceparent;
  if (!traceparent) return; // telemetry off: no trace to continue
  if (!journal.meta(RUN_TRACE_PARENT)) journal.setMeta(RUN_TRACE_PARENT, traceparent);
  const traceId = traceparent.split('-')[1]!;
  const seen = journal.meta('trace_ids')?.split(',') ?? [];
  if (!seen.includes(traceId)) journal.setMeta('trace_ids', [...seen, traceId].join(','));
}

/** The traceparent a resumed session of the run in `journal` parents its root span on, if any. */
export function runTraceParent(journal: Journal): TraceCarrier | undefined {
  const traceparent = journal.meta(RUN_TRACE_PARENT);
  return traceparent ? { traceparent } : undefined;
}

interface DriverContext {
  journal: Journal;
  config: RunConfig;
  options: SealRunOptions;
  pool: StudentPool;
  archive: CheckpointArchive;
  emit: (event: RunEvent) => void;
  phaseMs: Record<Phase, number>;
  runId: string;
}

/** Journals the run's starting checkpoints once: the teacher's base, and the student's (merged: the same). */
async function recordBaseCheckpoints(ctx: DriverContext): Promise<void> {
  const { journal, config, options } = ctx;
  if (journal.meta('teacher_base')) return;
  const info = await withRetries('teacher Info', config.rpc.retry, config.rpc.infoDeadlineMs, options.signal, (o) => options.teacher.info(o));
  // A teacher served without a model answers Info with no base checkpoint: say so, before its empty id is used.
  if (!info.baseCheckpoint.id) throw failedPrecondition('the teacher serves no model (its Info names no base checkpoint); start it with --model DIR (or without --no-model)');
  await archiveFromTeacher(ctx, info.baseCheckpoint);
  journal.recordCheckpoint(info.baseCheckpoint, 'teacher-base', null);
  let studentBase = info.baseCheckpoint;
  if (config.mode === 'separated') {
    const bases = ctx.pool.members.filter((m) => m.up && m.info).map((m) => m.info!.baseCheckpoint);
    const distinct = [...new Set(bases.map((b) => b.sha256))];
    if (distinct.length !== 1) {
      throw failedPrecondition(`separated mode needs every student on one base checkpoint; students report ${bases.map((b) => b.id).join(', ')}`);
    }
    studentBase = bases[0]!;
    journal.recordCheckpoint(studentBase, 'student-base', null);
  }
  journal.setMeta('student_base', studentBase.id);
  journal.setMeta('teacher_base', info.baseCheckpoint.id);
}

async function runRound(ctx: DriverContext, round: number): Promise<void> {
  const { journal, config, options, emit } = ctx;
  throwIfAborted(options.signal);
  let record = journal.round(round);
  if (record?.status === 'done') return;
  if (!record) {
    const { teacher, student } = checkpointsEntering(ctx, round);
    const contexts = freshContexts(ctx, round);
    journal.startRound(round, contexts, teacher.id, student.id);
    record = journal.round(round)!;
  }
  const teacherCkpt = journal.requireCheckpoint(record.teacherCheckpoint);
  const studentCkpt = journal.requireCheckpoint(record.studentCheckpoint);
  const contexts = journal.contexts(round);
  emit({ type: 'round-start', round, rounds: config.rounds, passages: contexts.length });

  await withSpan('run round', { 'seal.run_id': ctx.runId, 'seal.round': round, 'seal.passages': contexts.length }, async (span) => {
    const timed = async (phase: Phase, fn: () => Promise<void>) => {
      const start = performance.now();
      emit({ type: 'phase-start', round, phase });
      await fn();
      const ms = performance.now() - start;
      ctx.phaseMs[phase] += ms;
      emit({ type: 'phase-end', round, phase, ms });
    };
    const status = () => journal.round(round)!.status;

    if (status() === 'started') await timed('generate', () => generatePhase(ctx, round, teacherCkpt, contexts));
    if (status() === 'generated') await timed('evaluate', () => evaluatePhase(ctx, round, studentCkpt, contexts));
    if (status() === 'evaluated') await timed('select', async () => selectPhase(ctx, round, studentCkpt));
    if (status() === 'selected') await timed('update', () => updatePhase(ctx, round, teacherCkpt));
    if (status() === 'updated') await timed('push', () => pushPhase(ctx, round));

    const rewards = journal.rewards(round);
    const kept = journal.selections(round).length;
    const resultCheckpoint = journal.mstep(round)?.resultCheckpoint ?? teacherCkpt.id;
    span.setAttributes({ 'seal.mean_reward': meanReward(rewards), 'seal.kept': kept, 'seal.checkpoint_id': resultCheckpoint });
    emit({ type: 'round-end', round, meanReward: meanReward(rewards), kept, checkpointId: resultCheckpoint });
  });
}

/** The teacher and student checkpoints round `round` starts from, read from the journal. */
function checkpointsEntering(ctx: DriverContext, round: number): { teacher: CheckpointRef; student: CheckpointRef } {
  const { journal, config } = ctx;
  if (round === 1) {
    return { teacher: journal.requireCheckpoint(journal.meta('teacher_base')!), student: journal.requireCheckpoint(journal.meta('student_base')!) };
  }
  const previous = journal.round(round - 1)!;
  const teacher = journal.requireCheckpoint(journal.mstep(round - 1)?.resultCheckpoint ?? previous.teacherCheckpoint);
  // merged: the student's base follows the teacher (SEAL proper); separated: it never moves.
  const student = config.mode === 'merged' ? teacher : journal.requireCheckpoint(previous.studentCheckpoint);
  return { teacher, student };
}

function freshContexts(ctx: DriverContext, round: number): Context[] {
  const used = ctx.journal.usedPassageIds();
  const wanted = ctx.config.data.passagesPerRound;
  const fresh = ctx.options.trainContexts.filter((c) => !used.has(c.id)).slice(0, wanted);
  if (fresh.length < wanted) {
    throw failedPrecondition(
      `round ${round} needs ${wanted} fresh passages but only ${fresh.length} of ${ctx.options.trainContexts.length} are unused (data.passagesPerRound × rounds is too large)`,
    );
  }
  return fresh;
}

// ---------------------------------------------------------------------------------------------
// E-step: generate
// ---------------------------------------------------------------------------------------------

async function generatePhase(ctx: DriverContext, round: number, teacherCkpt: CheckpointRef, contexts: Context[]): Promise<void> {
  const { journal, config, options, emit } = ctx;
  const K = config.selfEdits.perPassage;
  const total = contexts.length * K;
  const byId = new Map(contexts.map((c) => [c.id, c]));
  await ensureTeacherHolds(ctx, teacherCkpt);
  const haveCount = () => {
    const counts = new Map<string, number>();
    for (const e of journal.selfEdits(round)) counts.set(e.passageId, (counts.get(e.passageId) ?? 0) + 1);
    return counts;
  };
  await withSpan('generate self_edits', { 'seal.round': round, 'seal.checkpoint_id': teacherCkpt.id, 'seal.self_edits': total }, async () => {
    await withRetries(
      `teacher GenerateSelfEdits (round ${round})`,
      config.rpc.retry,
      config.rpc.generateDeadlineMs,
      options.signal,
      async (call) => {
        // Only passages still short of K edits are asked again; seeds make the repeat identical.
        const counts = haveCount();
        const missing = contexts.filter((c) => (counts.get(c.id) ?? 0) < K);
        if (missing.length === 0) return;
        let done = total - missing.reduce((n, c) => n + K - (counts.get(c.id) ?? 0), 0);
        const stream = options.teacher.generateSelfEdits(
          {
            checkpoint: teacherCkpt,
            contexts: missing,
            promptStyle: config.selfEdits.promptStyle,
            count: K,
            sampling: { temperature: config.selfEdits.temperature, topP: config.selfEdits.topP, maxNewTokens: config.selfEdits.maxNewTokens },
            seed: generationSeed(config.seed, round),
          },
          call,
        );
        for await (const edit of stream) {
          checkSelfEdit(edit, byId, K, teacherCkpt);
          journal.recordSelfEdit(round, edit);
          emit({ type: 'generate-progress', round, done: ++done, total });
          throwIfAborted(options.signal);
        }
      },
      (attempt, error, waitMs) => emit({ type: 'teacher-retry', what: 'generate', attempt, error, waitMs }),
    );
  });
  const counts = haveCount();
  const short = contexts.filter((c) => (counts.get(c.id) ?? 0) < K);
  if (short.length > 0) {
    throw new SealError('internal', `round ${round}: the teacher returned fewer than ${K} self-edits for ${short.map((c) => c.id).join(', ')}`);
  }
  journal.setRoundStatus(round, 'generated');
}

function checkSelfEdit(edit: SelfEdit, contexts: Map<string, Context>, K: number, teacherCkpt: CheckpointRef): void {
  const problem = !contexts.has(edit.passageId)
    ? `unknown passage ${edit.passageId}`
    : !Number.isInteger(edit.index) || edit.index < 0 || edit.index >= K
      ? `index ${edit.index} outside 0..${K - 1}`
      : edit.checkpointId !== teacherCkpt.id
        ? `written by checkpoint ${edit.checkpointId}, asked for ${teacherCkpt.id}`
        : edit.id !== selfEditId(edit.checkpointId, edit.passageId, edit.index)
          ? `id ${edit.id} is not ${selfEditId(edit.checkpointId, edit.passageId, edit.index)}`
          : undefined;
  if (problem) throw new SealError('internal', `the teacher returned a bad self-edit: ${problem}`);
}

// ---------------------------------------------------------------------------------------------
// E-step: evaluate
// ---------------------------------------------------------------------------------------------

async function evaluatePhase(ctx: DriverContext, round: number, studentCkpt: CheckpointRef, contexts: Context[]): Promise<void> {
  const { journal, config, options, pool } = ctx;
  const byId = new Map(contexts.map((c) => [c.id, c]));
  const done = journal.evaluatedKeys(round);
  const maxContext = pool.maxContextTokens();
  const jobs: { job: EvaluateJob; kind: 'self_edit' | 'passage_baseline' }[] = [];

  for (const edit of journal.selfEdits(round)) {
    const job = buildEvaluateJob({ config, runId: ctx.runId, round, baseCheckpoint: studentCkpt, context: byId.get(edit.passageId)!, selfEdit: edit, subject: edit.id });
    if (done.has(job.idempotencyKey)) continue;
    const refused = screenSelfEdit(edit, maxContext);
    // An unusable edit is journaled as refused (reward 0, reason kept) instead of costing an update.
    if (refused) journal.recordEvaluation(toEvaluationRecord(job, round, 'self_edit', { refused }));
    else jobs.push({ job, kind: 'self_edit' });
  }
  if (config.reward.baseline === 'passage') {
    for (const context of contexts) {
      if (context.kind !== 'knowledge') continue;
      const edit = passageOnlyEdit(context, studentCkpt.id);
      const job = buildEvaluateJob({ config, runId: ctx.runId, round, baseCheckpoint: studentCkpt, context, selfEdit: edit, subject: passageBaselineSubject(context.id) });
      if (!done.has(job.idempotencyKey)) jobs.push({ job, kind: 'passage_baseline' });
    }
  }
  const kindOf = new Map(jobs.map((j) => [j.job.idempotencyKey, j.kind]));
  const total = journal.evaluatedKeys(round).size + jobs.length;
  ctx.emit({ type: 'evaluate-plan', round, total, alreadyDone: total - jobs.length });

  await withSpan('score adapter', { 'seal.round': round, 'seal.checkpoint_id': studentCkpt.id, 'seal.evaluations': jobs.length }, async () => {
    if (config.mode === 'merged') await pushToAll(ctx, round, studentCkpt);
    await pool.evaluateAll(
      jobs.map((j) => j.job),
      {
        signal: options.signal,
        validate: validateEvaluateResult,
        ensureCheckpoint: (member, checkpoint, signal) => ensureCheckpoint(ctx, round, member, checkpoint, signal),
        onResult: (job, result, meta) => {
          journal.recordEvaluation(toEvaluationRecord(job, round, kindOf.get(job.idempotencyKey)!, { result, ...meta }));
        },
        onAttemptFailed: (job, studentId, error) => journal.recordEvaluationFailure(job.idempotencyKey, studentId, String((error as Error)?.message ?? error)),
      },
    );
  });
  journal.setRoundStatus(round, 'evaluated');
}

// ---------------------------------------------------------------------------------------------
// Selection and M-step
// ---------------------------------------------------------------------------------------------

function selectPhase(ctx: DriverContext, round: number, studentCkpt: CheckpointRef): void {
  const { journal, config } = ctx;
  const edits = journal.selfEdits(round);
  const rewards = computeRewards({
    round,
    baseline: config.reward.baseline,
    studentCheckpointId: studentCkpt.id,
    edits,
    evaluations: journal.evaluations(round),
    cacheBaseline: (checkpointId, passageId, score, key) => journal.cacheBaseline(checkpointId, passageId, score, key),
  });
  const kept = selectSelfEdits(edits, rewards, config.reward.selection, config.reward.bestRequiresPositive);
  journal.recordSelection(round, rewards, kept.map((e) => e.id));
}

async function updatePhase(ctx: DriverContext, round: number, teacherCkpt: CheckpointRef): Promise<void> {
  const { journal, config, options, emit } = ctx;
  const kept = journal.selections(round);
  const pairs = config.mstep.pairs === 'all' ? Array.from({ length: round }, (_, i) => journal.selections(i + 1)).flat() : kept;
  const from = config.mstep.from === 'base' ? journal.requireCheckpoint(journal.meta('teacher_base')!) : teacherCkpt;
  if (kept.length === 0) {
    // Nothing worth learning this round: the policy stays as it is (no update, no new checkpoint).
    journal.startMStep(round, `${ctx.runId}/r${round}/update`, teacherCkpt.id, 0);
    journal.finishMStep(round, teacherCkpt, false);
    return;
  }
  const key = `${ctx.runId}/r${round}/update`;
  journal.startMStep(round, key, from.id, pairs.length);
  await ensureTeacherHolds(ctx, from);
  const result = await withSpan('update teacher', { 'seal.round': round, 'seal.checkpoint_id': from.id, 'seal.pairs': pairs.length }, async (span) => {
    const ref = await withRetries(
      `teacher Update (round ${round})`,
      config.rpc.retry,
      config.rpc.updateDeadlineMs,
      options.signal,
      (call) =>
        options.teacher.update(
          {
            idempotencyKey: key,
            baseCheckpoint: from,
            pairs: pairs.map((e) => ({ prompt: e.prompt, completion: e.completion })),
            sft: config.mstep.sft,
            merge: config.mstep.merge,
            seed: updateSeed(config.seed, round),
          },
          call,
        ),
      (attempt, error, waitMs) => emit({ type: 'teacher-retry', what: 'update', attempt, error, waitMs }),
    );
    span.setAttribute('seal.result_checkpoint_id', ref.id);
    return ref;
  });
  if (!result.id || !/^[0-9a-f]{64}$/.test(result.sha256) || !(result.size > 0)) {
    throw new SealError('internal', `teacher Update returned an incomplete checkpoint reference ${JSON.stringify(result)}`);
  }
  // Archive (sha256-verified) before the manifest row: a journaled checkpoint is always restorable.
  await archiveFromTeacher(ctx, result);
  journal.finishMStep(round, result, true);
}

async function pushPhase(ctx: DriverContext, round: number): Promise<void> {
  const { journal, config } = ctx;
  if (config.mode === 'merged') {
    const next = journal.requireCheckpoint(journal.mstep(round)!.resultCheckpoint!);
    if (round < config.rounds) await pushToAll(ctx, round, next);
  }
  journal.setRoundStatus(round, 'done');
}

// ---------------------------------------------------------------------------------------------
// Checkpoint distribution
// ---------------------------------------------------------------------------------------------

async function pushToAll(ctx: DriverContext, round: number, checkpoint: CheckpointRef): Promise<void> {
  await ctx.pool.forEachLive((member) => ensureCheckpoint(ctx, round, member, checkpoint, ctx.options.signal), ctx.options.signal);
}

/** Sends `checkpoint` (from the archive, else the teacher) to a student that lacks it, and journals the transfer. */
async function ensureCheckpoint(ctx: DriverContext, round: number, member: PoolMember, checkpoint: CheckpointRef, signal?: AbortSignal): Promise<void> {
  const { config, options, journal, emit } = ctx;
  const pushed = await ensureStudentHolds({
    member,
    checkpoint,
    source: (opts) =>
      ctx.archive.has(checkpoint) ? ctx.archive.read(checkpoint, config.rpc.checkpointChunkBytes) : options.teacher.getCheckpoint(checkpoint.id, opts),
    infoDeadlineMs: config.rpc.infoDeadlineMs,
    pushDeadlineMs: config.rpc.pushDeadlineMs,
    signal,
    attributes: { 'seal.round': round },
    sharedPath: sharedPathOf(ctx, checkpoint),
  });
  if (!pushed) return;
  journal.recordPush(round, member.id, checkpoint.id, pushed.bytes, pushed.ms);
  emit({ type: 'checkpoint-push', round, studentId: member.id, checkpointId: checkpoint.id, bytes: pushed.bytes, ms: pushed.ms, via: pushed.via });
}

/** The archived checkpoint's path relative to the shared-storage root, if the archive lies inside it. */
function sharedPathOf(ctx: DriverContext, checkpoint: CheckpointRef): string | undefined {
  const root = ctx.config.rpc.sharedStorageRoot;
  if (!root || !ctx.archive.has(checkpoint)) return undefined;
  const relativePath = relative(resolve(root), resolve(ctx.archive.path(checkpoint)));
  return relativePath.startsWith('..') || isAbsolute(relativePath) ? undefined : relativePath;
}

/** Copies a teacher checkpoint into the run's archive unless it is already there. */
async function archiveFromTeacher(ctx: DriverContext, checkpoint: CheckpointRef): Promise<void> {
  if (ctx.archive.has(checkpoint)) return;
  const { config, options } = ctx;
  await withRetries(`archive checkpoint ${checkpoint.id}`, config.rpc.retry, config.rpc.pushDeadlineMs, options.signal, (call) =>
    ctx.archive.save(checkpoint, options.teacher.getCheckpoint(checkpoint.id, call), call.signal),
  );
}

/** A restarted teacher may have lost the round's checkpoint: restore it from the archive. */
async function ensureTeacherHolds(ctx: DriverContext, checkpoint: CheckpointRef): Promise<void> {
  const { config, options } = ctx;
  const info = await withRetries('teacher Info', config.rpc.retry, config.rpc.infoDeadlineMs, options.signal, (o) => options.teacher.info(o));
  if (info.checkpoints.some((c) => c.id === checkpoint.id && c.sha256 === checkpoint.sha256)) return;
  if (!options.teacher.loadCheckpoint || !ctx.archive.has(checkpoint)) {
    throw failedPrecondition(`the teacher does not hold checkpoint ${checkpoint.id} and it cannot be restored from ${ctx.archive.dir}`, { checkpointId: checkpoint.id });
  }
  await withSpan('push checkpoint', { 'seal.checkpoint_id': checkpoint.id, 'seal.target': 'teacher', 'seal.bytes': checkpoint.size }, async () => {
    const call = linkedSignal(options.signal, config.rpc.pushDeadlineMs, `restore ${checkpoint.id} to the teacher`);
    try {
      const loaded = await options.teacher.loadCheckpoint!(ctx.archive.read(checkpoint, config.rpc.checkpointChunkBytes), { signal: call.signal, deadline: call.deadline });
      if (loaded.sha256 !== checkpoint.sha256) throw new SealError('internal', `the teacher restored ${checkpoint.id} with sha256 ${loaded.sha256}, expected ${checkpoint.sha256}`);
    } finally {
      call.dispose();
    }
  });
}
