/**
 * @file From a self-edit to an EvaluateJob and back: screening edits that cannot be used (empty,
 * garbage, too long), checking a student's answer can be trusted, and turning it into a journal row.
 */
import { SealError } from './errors';
import type { EvaluationRecord } from './journal';
import type { RunConfig } from './config';
import type { CheckpointRef, EditFailure, EvaluateJob, EvaluateResult, KnowledgeContext, Context, SelfEdit } from './roles';
import { evaluationSeed } from './seeds';

/** Idempotency key of one evaluation: stable across reruns and resumes of the same run. */
export const evaluationKey = (runId: string, round: number, subject: string, baseCheckpointId: string) =>
  `${runId}/r${round}/${subject}@${baseCheckpointId}`;

/** The subject of a passage-only baseline evaluation (reward baseline 'passage'). */
export const passageBaselineSubject = (passageId: string) => `passage:${passageId}`;

/**
 * Why an edit is not worth an inner-loop update, or undefined when it is. Garbage means no
 * letter or digit at all: such text cannot state a fact, and training on it only adds noise.
 */
export function screenSelfEdit(edit: SelfEdit, maxContextTokens: number): EditFailure | undefined {
  if (edit.completion.trim() === '') return { reason: 'empty', message: 'the self-edit is empty' };
  if (!/[\p{L}\p{N}]/u.test(edit.completion)) return { reason: 'garbage', message: 'the self-edit has no letters or digits' };
  if (edit.tokenCount > maxContextTokens) {
    return { reason: 'too_long', message: `the self-edit has ${edit.tokenCount} tokens; the student context holds ${maxContextTokens}` };
  }
  return undefined;
}

export function buildEvaluateJob(params: {
  config: RunConfig;
  runId: string;
  round: number;
  baseCheckpoint: CheckpointRef;
  context: Context;
  selfEdit: SelfEdit;
  subject: string;
}): EvaluateJob {
  const { config, runId, round, baseCheckpoint, context, selfEdit, subject } = params;
  return {
    idempotencyKey: evaluationKey(runId, round, subject, baseCheckpoint.id),
    baseCheckpoint,
    selfEdit,
    sft: config.inner.sft,
    eval: {
      context,
      splitNewlines: config.inner.splitNewlines,
      appendPassage: config.inner.appendPassage,
      maxAnswerTokens: config.inner.maxAnswerTokens,
    },
    repeats: config.inner.evalTimes,
    seed: evaluationSeed(config.seed, round, context.id),
  };
}

/** An empty self-edit of a passage: trains on the passage alone (reference §2.2), the 'passage' baseline. */
export function passageOnlyEdit(context: KnowledgeContext, checkpointId: string): SelfEdit {
  return {
    id: passageBaselineSubject(context.id),
    passageId: context.id,
    index: -1,
    promptStyle: 'implications',
    prompt: '',
    completion: '',
    seed: 0,
    tokenCount: 0,
    checkpointId,
  };
}

/**
 * Refuses a result the coordinator cannot trust. The adapter checks catch the top silent failure
 * of RL setups: an adapter trained but never applied when scoring, which makes every reward 0 ± noise.
 */
export function validateEvaluateResult(job: EvaluateJob, result: EvaluateResult, studentId: string): void {
  const fail = (what: string) =>
    new SealError('internal', `student ${studentId} returned an untrustworthy result for ${job.idempotencyKey}: ${what}`, {
      studentId,
      idempotencyKey: job.idempotencyKey,
    });
  if (result.idempotencyKey !== job.idempotencyKey) throw fail(`idempotency key ${result.idempotencyKey} does not match`);
  if (result.baseCheckpointSha256 !== job.baseCheckpoint.sha256) {
    throw fail(`trained on base sha256 ${result.baseCheckpointSha256 || '(missing)'}, expected ${job.baseCheckpoint.sha256}`);
  }
  if (!isUnitScore(result.scoreBefore)) throw fail(`scoreBefore ${result.scoreBefore} is not in [0, 1]`);
  if (result.failure) return;
  if (!result.adapterSha256) throw fail('adapterSha256 is missing');
  if (result.adapterSha256 !== result.evaluatedAdapterSha256) {
    throw fail(`scored adapter ${result.evaluatedAdapterSha256 || '(missing)'} is not the trained adapter ${result.adapterSha256}`);
  }
  // NaN scoreAfter is allowed through: it becomes reward 0 with reason nan_loss.
  if (!Number.isNaN(result.scoreAfter) && !isUnitScore(result.scoreAfter)) throw fail(`scoreAfter ${result.scoreAfter} is not in [0, 1]`);
}

const isUnitScore = (x: number) => Number.isFinite(x) && x >= 0 && x <= 1;

export function toEvaluationRecord(
  job: EvaluateJob,
  round: number,
  kind: EvaluationRecord['kind'],
  outcome: { result: EvaluateResult; studentId: string; attempts: number } | { refused: EditFailure },
): EvaluationRecord {
  const base = {
    idempotencyKey: job.idempotencyKey,
    round,
    kind,
    passageId: job.selfEdit.passageId,
    selfEditId: kind === 'self_edit' ? job.selfEdit.id : null,
    baseCheckpoint: job.baseCheckpoint.id,
  };
  if ('refused' in outcome) {
    return {
      ...base,
      studentId: null,
      attempts: 0,
      scoreBefore: null,
      scoreAfter: null,
      trainLoss: null,
      perQuestion: [],
      adapterSha256: null,
      timings: null,
      failure: outcome.refused,
    };
  }
  const { result } = outcome;
  const nanLoss = !result.failure && (Number.isNaN(result.trainLoss) || Number.isNaN(result.scoreAfter));
  return {
    ...base,
    studentId: outcome.studentId,
    attempts: outcome.attempts,
    scoreBefore: result.scoreBefore,
    scoreAfter: result.scoreAfter,
    trainLoss: result.trainLoss,
    perQuestion: result.perQuestion,
    adapterSha256: result.adapterSha256 || null,
    timings: result.timings,
    failure: result.failure ?? (nanLoss ? { reason: 'nan_loss', message: 'the inner-loop loss was NaN' } : null),
  };
}
