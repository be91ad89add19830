/**
 * @file The paper-style table on held-out passages (reference §2.6): per condition — no update,
 * passage only, one self-edit per passage from a given teacher checkpoint, or given completions
 * (oracle) — closed-book accuracy after the inner-loop update, scored through the student pool.
 */
import type { RunConfig } from './config';
import { ensureStudentHolds } from './checkpoint-push';
import { SealError, throwIfAborted } from './errors';
import { buildEvaluateJob, passageOnlyEdit, screenSelfEdit, validateEvaluateResult } from './evaluation';
import type { CallOptions, CheckpointChunk, CheckpointRef, EvaluateJob, EvaluateResult, KnowledgeContext, SelfEdit, Teacher } from './roles';
import { selfEditId } from './roles';
import { deriveSeed, generationSeed } from './seeds';
import { withSpan } from '@seal/telemetry';
import type { StudentPool } from './student-pool';

export type TableCondition =
  /** the student checkpoint with no update: accuracy before training (scoreBefore). */
  | { name: string; kind: 'no-update'; studentCheckpoint: CheckpointRef }
  /** the inner loop on the passage alone. */
  | { name: string; kind: 'passage'; studentCheckpoint: CheckpointRef }
  /** one self-edit per passage written by `teacherCheckpoint`, then the inner loop on it. */
  | { name: string; kind: 'self-edits'; studentCheckpoint: CheckpointRef; teacherCheckpoint: CheckpointRef }
  /** fixed completions per passage id (e.g. the tiny world's oracle implications). */
  | { name: string; kind: 'given'; studentCheckpoint: CheckpointRef; completions: Record<string, string> };

/** One row of results.json's table. */
export interface TableRow {
  condition: string;
  accuracy: number;
  n_questions: number;
  /** edits that could not be used (empty, too long, NaN loss): their questions count as wrong. */
  failures: number;
}

export interface EvaluateTableParams {
  config: RunConfig;
  teacher: Teacher;
  /** a connected pool. */
  pool: StudentPool;
  contexts: KnowledgeContext[];
  conditions: TableCondition[];
  /** namespaces idempotency keys (e.g. `${runId}/table`). */
  label: string;
  /** where student checkpoints come from (default: the teacher's GetCheckpoint). */
  checkpointSource?: (checkpoint: CheckpointRef, opts: CallOptions) => AsyncIterable<CheckpointChunk>;
  signal?: AbortSignal;
}

export async function evaluateTable(params: EvaluateTableParams): Promise<TableRow[]> {
  const { config, teacher, pool, contexts, label, signal } = params;
  const source = params.checkpointSource ?? ((checkpoint, opts) => teacher.getCheckpoint(checkpoint.id, opts));
  // One result per idempotency key: 'no-update' and 'passage' on the same checkpoint share their jobs.
  const results = new Map<string, EvaluateResult>();
  const rows: TableRow[] = [];
  for (const condition of params.conditions) {
    throwIfAborted(signal);
    const row = await withSpan('score adapter', { 'seal.condition': condition.name, 'seal.checkpoint_id': condition.studentCheckpoint.id }, async () => {
      const student = condition.studentCheckpoint;
      await pool.forEachLive(
        async (member) =>
          void (await ensureStudentHolds({ member, checkpoint: student, source: (opts) => source(student, opts), infoDeadlineMs: config.rpc.infoDeadlineMs, pushDeadlineMs: config.rpc.pushDeadlineMs, signal })),
        signal,
      );
      const edits = await editsFor(params, condition);
      const jobs = new Map<string, { job: EvaluateJob; refused: boolean }>();
      for (const context of contexts) {
        const edit = edits.get(context.id)!;
        const job = buildEvaluateJob({ config, runId: label, round: 0, baseCheckpoint: student, context, selfEdit: edit, subject: edit.id });
        // the passage-only edit is empty on purpose; any other edit is screened like in the E-step
        const refused = edit.index >= 0 && screenSelfEdit(edit, pool.maxContextTokens()) !== undefined;
        jobs.set(context.id, { job, refused });
      }
      const pending = [...jobs.values()].filter((j) => !j.refused && !results.has(j.job.idempotencyKey)).map((j) => j.job);
      await pool.evaluateAll(pending, {
        signal,
        validate: validateEvaluateResult,
        ensureCheckpoint: async (member, checkpoint, callSignal) =>
          void (await ensureStudentHolds({ member, checkpoint, source: (opts) => source(checkpoint, opts), infoDeadlineMs: config.rpc.infoDeadlineMs, pushDeadlineMs: config.rpc.pushDeadlineMs, signal: callSignal })),
        onResult: (job, result) => void results.set(job.idempotencyKey, result),
      });
      let correct = 0;
      let questions = 0;
      let failures = 0;
      for (const context of contexts) {
        const { job, refused } = jobs.get(context.id)!;
        questions += context.questions.length;
        const result = results.get(job.idempotencyKey);
        if (refused || !result) {
          failures += 1;
          continue;
        }
        if (condition.kind === 'no-update') {
          correct += result.perQuestion.filter((q) => q.correctBefore).length;
        } else if (result.failure || Number.isNaN(result.scoreAfter)) {
          failures += 1;
        } else {
          correct += result.perQuestion.reduce((sum, q) => sum + q.correctAfter, 0);
        }
      }
      return { condition: condition.name, accuracy: questions === 0 ? 0 : correct / questions, n_questions: questions, failures };
    });
    rows.push(row);
  }
  return rows;
}

/** The edit each passage is trained on under `condition`. */
async function editsFor(params: EvaluateTableParams, condition: TableCondition): Promise<Map<string, SelfEdit>> {
  const { config, contexts, teacher, signal } = params;
  const edits = new Map<string, SelfEdit>();
  if (condition.kind === 'no-update' || condition.kind === 'passage') {
    for (const context of contexts) edits.set(context.id, passageOnlyEdit(context, condition.studentCheckpoint.id));
    return edits;
  }
  if (condition.kind === 'given') {
    for (const context of contexts) {
      const completion = condition.completions[context.id];
      if (completion === undefined) throw new SealError('invalid_argument', `condition ${condition.name}: no completion for passage ${context.id}`);
      edits.set(context.id, {
        id: `${condition.name}/${context.id}`,
        passageId: context.id,
        index: 0,
        promptStyle: config.selfEdits.promptStyle,
        prompt: '',
        completion,
        seed: 0,
        tokenCount: completion.split(/\s+/).filter(Boolean).length,
        checkpointId: condition.name,
      });
    }
    return edits;
  }
  // One sample per passage, seeded apart from training rounds (round 0 never occurs in a run).
  const stream = teacher.generateSelfEdits(
    {
      checkpoint: condition.teacherCheckpoint,
      contexts,
      promptStyle: config.selfEdits.promptStyle,
      count: 1,
      sampling: { temperature: config.selfEdits.temperature, topP: config.selfEdits.topP, maxNewTokens: config.selfEdits.maxNewTokens },
      seed: generationSeed(deriveSeed(config.seed, 'table'), 0),
    },
    { signal, deadline: Date.now() + config.rpc.generateDeadlineMs },
  );
  for await (const edit of stream) {
    if (edit.id !== selfEditId(condition.teacherCheckpoint.id, edit.passageId, 0)) {
      throw new SealError('internal', `condition ${condition.name}: the teacher returned self-edit ${edit.id}`);
    }
    edits.set(edit.passageId, edit);
  }
  const missing = contexts.filter((c) => !edits.has(c.id));
  if (missing.length > 0) throw new SealError('internal', `condition ${condition.name}: no self-edit for ${missing.map((c) => c.id).join(', ')}`);
  return edits;
}
