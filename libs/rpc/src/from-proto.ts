/**
 * @file Proto → domain for every request and response, validating as it goes: a bad field throws
 * `invalid_argument` naming its path (e.g. "sft.lora.rank must be > 0"), which the adapters turn
 * into INVALID_ARGUMENT. Used by servers (requests) and remote clients (responses).
 */
import type * as coordinator from '@seal/coordinator';
import { invalidArgument } from './errors';
import * as pb from '@seal/proto';

// ---------------------------------------------------------------------------------------------
// Field checks: each names the field path in its message.
// ---------------------------------------------------------------------------------------------

function present<T>(value: T | undefined, path: string): T {
  if (value === undefined || value === null) throw invalidArgument(`${path} is required`, { field: path });
  return value;
}

function nonEmpty(value: string, path: string): string {
  if (value.trim() === '') throw invalidArgument(`${path} must be non-empty`, { field: path });
  return value;
}

function positive(value: number, path: string): number {
  if (!Number.isFinite(value) || value <= 0) throw invalidArgument(`${path} must be > 0, got ${value}`, { field: path });
  return value;
}

function inRange(value: number, min: number, max: number, path: string, maxInclusive = true): number {
  const ok = Number.isFinite(value) && value >= min && (maxInclusive ? value <= max : value < max);
  if (!ok) throw invalidArgument(`${path} must be in [${min}, ${max}${maxInclusive ? ']' : ')'}, got ${value}`, { field: path });
  return value;
}

function known<E extends number>(value: E, table: Partial<Record<number, string>>, path: string): string {
  const mapped = table[value];
  if (mapped === undefined) throw invalidArgument(`${path} must be set to a known value, got ${value}`, { field: path });
  return mapped;
}

const SHA256 = /^[0-9a-f]{64}$/;
/** Most evaluations of one self-edit a single request may ask for (the paper uses 1–3). */
export const MAX_REPEATS = 64;

// ---------------------------------------------------------------------------------------------
// Enum tables (proto number → domain string).
// ---------------------------------------------------------------------------------------------

export const PROMPT_STYLE: Partial<Record<pb.PromptStyle, coordinator.PromptStyle>> = {
  [pb.PromptStyle.IMPLICATIONS]: 'implications',
  [pb.PromptStyle.IMPLICATIONS_LONG]: 'implications-long',
  [pb.PromptStyle.IMPLICATIONS_VERY_LONG]: 'implications-very-long',
  [pb.PromptStyle.REWRITE]: 'rewrite',
  [pb.PromptStyle.SELF_QA]: 'self-qa',
  [pb.PromptStyle.FEW_SHOT_CONFIG]: 'fewshot-config',
};

export const LR_SCHEDULE: Partial<Record<pb.LrSchedule, coordinator.SftConfig['schedule']>> = {
  [pb.LrSchedule.CONSTANT]: 'constant',
  [pb.LrSchedule.LINEAR]: 'linear',
  [pb.LrSchedule.COSINE]: 'cosine',
};

export const LOSS_MASK: Partial<Record<pb.LossMask, coordinator.SftConfig['lossMask']>> = {
  [pb.LossMask.ALL_TOKENS]: 'all',
  [pb.LossMask.COMPLETION_TOKENS]: 'completion',
};

export const REJECT_REASON: Partial<Record<pb.RejectReason, coordinator.EditFailureReason>> = {
  [pb.RejectReason.EMPTY_SELF_EDIT]: 'empty',
  [pb.RejectReason.UNPARSEABLE_SELF_EDIT]: 'garbage',
  [pb.RejectReason.TOO_LONG]: 'too_long',
  [pb.RejectReason.NON_FINITE_LOSS]: 'nan_loss',
  [pb.RejectReason.ADAPTER_MISMATCH]: 'adapter_mismatch',
  [pb.RejectReason.OTHER]: 'error',
};

// ---------------------------------------------------------------------------------------------
// Shared messages.
// ---------------------------------------------------------------------------------------------

export function checkpointRef(ref: pb.CheckpointRef | undefined, path: string): coordinator.CheckpointRef {
  const r = present(ref, path);
  nonEmpty(r.id, `${path}.id`);
  if (!SHA256.test(r.sha256)) throw invalidArgument(`${path}.sha256 must be 64 lower-case hex digits`, { field: `${path}.sha256` });
  positive(r.sizeBytes, `${path}.size_bytes`);
  return { id: r.id, sha256: r.sha256, size: r.sizeBytes };
}

function grid(g: pb.Grid | undefined, path: string): number[][] {
  const { height, width, cells } = present(g, path);
  inRange(height, 1, 30, `${path}.height`);
  inRange(width, 1, 30, `${path}.width`);
  if (cells.length !== height * width) throw invalidArgument(`${path}.cells must hold height × width = ${height * width} values, got ${cells.length}`, { field: `${path}.cells` });
  const bad = cells.findIndex((c) => c > 9);
  if (bad >= 0) throw invalidArgument(`${path}.cells[${bad}] must be a colour 0..9, got ${cells[bad]}`, { field: `${path}.cells` });
  return Array.from({ length: height }, (_, r) => cells.slice(r * width, (r + 1) * width));
}

/** A context; `needsChecks` demands the questions/tests τ (the student needs them, the teacher does not). */
export function context(c: pb.Context | undefined, path: string, needsChecks: boolean): coordinator.Context {
  const ctx = present(c, path);
  const id = nonEmpty(ctx.id, `${path}.id`);
  const kind = present(ctx.kind, `${path}.kind (knowledge or few_shot)`);
  if (kind.$case === 'knowledge') {
    const k = kind.value;
    const p = `${path}.knowledge`;
    nonEmpty(k.passage, `${p}.passage`);
    if (needsChecks && k.questions.length === 0) throw invalidArgument(`${p}.questions must be non-empty`, { field: `${p}.questions` });
    const questions = k.questions.map((q, i) => {
      const qp = `${p}.questions[${i}]`;
      nonEmpty(q.id, `${qp}.id`);
      nonEmpty(q.text, `${qp}.text`);
      if (q.answers.length === 0) throw invalidArgument(`${qp}.answers must be non-empty`, { field: `${qp}.answers` });
      // NOTE: the domain holds one gold answer per question (the tiny world has one); further
      // answers are kept on the wire for SQuAD-style data but not used yet.
      const question: coordinator.KnowledgeQuestion = { id: q.id, question: q.text, answer: nonEmpty(q.answers[0], `${qp}.answers[0]`) };
      if (q.kind === pb.QuestionKind.DIRECT) question.kind = 'direct';
      if (q.kind === pb.QuestionKind.IMPLIED) question.kind = 'implied';
      return question;
    });
    return { kind: 'knowledge', id, title: k.title, context: k.passage, questions };
  }
  const f = kind.value;
  const p = `${path}.few_shot`;
  if (f.demonstrations.length === 0) throw invalidArgument(`${p}.demonstrations must be non-empty`, { field: `${p}.demonstrations` });
  if (needsChecks && f.tests.length === 0) throw invalidArgument(`${p}.tests must be non-empty`, { field: `${p}.tests` });
  const pair = (x: pb.GridPair, q: string) => ({ input: grid(x.input, `${q}.input`), output: grid(x.output, `${q}.output`) });
  return { kind: 'fewshot', id, train: f.demonstrations.map((d, i) => pair(d, `${p}.demonstrations[${i}]`)), test: f.tests.map((t, i) => pair(t, `${p}.tests[${i}]`)) };
}

export function sampling(s: pb.SamplingParams | undefined, path: string): coordinator.SamplingConfig {
  const v = present(s, path);
  inRange(v.temperature, 0, 100, `${path}.temperature`);
  inRange(v.topP, Number.MIN_VALUE, 1, `${path}.top_p`);
  positive(v.maxNewTokens, `${path}.max_new_tokens`);
  return { temperature: v.temperature, topP: v.topP, maxNewTokens: v.maxNewTokens };
}

export function sftConfig(s: pb.SftConfig | undefined, path: string): coordinator.SftConfig {
  const v = present(s, path);
  const lora = present(v.lora, `${path}.lora`);
  positive(lora.rank, `${path}.lora.rank`);
  positive(lora.alpha, `${path}.lora.alpha`);
  inRange(lora.dropout, 0, 1, `${path}.lora.dropout`, false);
  if (lora.targetModules.length === 0) throw invalidArgument(`${path}.lora.target_modules must be non-empty`, { field: `${path}.lora.target_modules` });
  lora.targetModules.forEach((t, i) => nonEmpty(t, `${path}.lora.target_modules[${i}]`));
  return {
    rank: lora.rank,
    alpha: lora.alpha,
    dropout: lora.dropout,
    targets: [...lora.targetModules],
    lr: positive(v.learningRate, `${path}.learning_rate`),
    epochs: positive(v.epochs, `${path}.epochs`),
    batchSize: positive(v.batchSize, `${path}.batch_size`),
    schedule: known(v.schedule, LR_SCHEDULE, `${path}.schedule`) as coordinator.SftConfig['schedule'],
    warmup: v.warmupSteps,
    lossMask: known(v.lossMask, LOSS_MASK, `${path}.loss_mask`) as coordinator.SftConfig['lossMask'],
  };
}

export function selfEdit(s: pb.SelfEdit | undefined, path: string): coordinator.SelfEdit {
  const v = present(s, path);
  return {
    id: nonEmpty(v.id, `${path}.id`),
    passageId: nonEmpty(v.contextId, `${path}.context_id`),
    index: inRange(v.index, -1, 2 ** 31 - 1, `${path}.index`),
    promptStyle: known(v.promptStyle, PROMPT_STYLE, `${path}.prompt_style`) as coordinator.PromptStyle,
    prompt: v.prompt,
    // An empty completion is legal here: the student answers it with reward 0 and reason 'empty'.
    completion: v.completion,
    seed: v.seed,
    tokenCount: v.completionTokens,
    checkpointId: nonEmpty(v.checkpointId, `${path}.checkpoint_id`),
  };
}

// ---------------------------------------------------------------------------------------------
// Requests.
// ---------------------------------------------------------------------------------------------

export function evaluateRequest(r: pb.EvaluateRequest, path = ''): coordinator.EvaluateJob {
  const idempotencyKey = nonEmpty(r.idempotencyKey, prefix(path, 'idempotency_key'));
  const ctx = context(r.context, prefix(path, 'context'), true);
  const edit = selfEdit(r.selfEdit, prefix(path, 'self_edit'));
  if (edit.passageId !== ctx.id) {
    throw invalidArgument(`${prefix(path, 'self_edit.context_id')} "${edit.passageId}" does not match ${prefix(path, 'context.id')} "${ctx.id}"`, { field: prefix(path, 'self_edit.context_id') });
  }
  const evalSpec = present(r.eval, prefix(path, 'eval'));
  const answers = sampling(evalSpec.answerSampling, prefix(path, 'eval.answer_sampling'));
  const trainData = present(r.trainData, prefix(path, 'train_data'));
  return {
    idempotencyKey,
    baseCheckpoint: checkpointRef(r.baseCheckpoint, prefix(path, 'base_checkpoint')),
    selfEdit: edit,
    sft: sftConfig(r.sft, prefix(path, 'sft')),
    eval: { context: ctx, splitNewlines: trainData.splitNewlines, appendPassage: trainData.appendContext, maxAnswerTokens: answers.maxNewTokens },
    // 0 means unset (one repeat); the bound keeps one request from buying unbounded student work.
    repeats: r.repeats === 0 ? 1 : inRange(r.repeats, 1, MAX_REPEATS, prefix(path, 'repeats')),
    seed: r.seed,
  };
}

export function generateSelfEditsRequest(r: pb.GenerateSelfEditsRequest): coordinator.GenerateSelfEditsRequest {
  if (r.contexts.length === 0) throw invalidArgument('contexts must be non-empty', { field: 'contexts' });
  const contexts = r.contexts.map((c, i) => context(c, `contexts[${i}]`, false));
  const ids = new Set<string>();
  for (const [i, c] of contexts.entries()) {
    if (ids.has(c.id)) throw invalidArgument(`contexts[${i}].id "${c.id}" is repeated`, { field: `contexts[${i}].id` });
    ids.add(c.id);
  }
  return {
    checkpoint: checkpointRef(r.checkpoint, 'checkpoint'),
    contexts,
    promptStyle: known(r.promptStyle, PROMPT_STYLE, 'prompt_style') as coordinator.PromptStyle,
    count: positive(r.n, 'n'),
    sampling: sampling(r.sampling, 'sampling'),
    seed: r.seed,
  };
}

export function updateRequest(r: pb.UpdateRequest): coordinator.UpdateRequest {
  if (r.pairs.length === 0) throw invalidArgument('pairs must be non-empty', { field: 'pairs' });
  r.pairs.forEach((p, i) => nonEmpty(p.completion, `pairs[${i}].completion`));
  return {
    idempotencyKey: nonEmpty(r.idempotencyKey, 'idempotency_key'),
    baseCheckpoint: checkpointRef(r.baseCheckpoint, 'base_checkpoint'),
    pairs: r.pairs.map((p) => ({ prompt: p.prompt, completion: p.completion })),
    sft: sftConfig(r.sft, 'sft'),
    merge: r.merge,
    seed: r.seed,
  };
}

/**
 * A LoadCheckpoint stream → the domain's chunk stream (every chunk names its checkpoint). The
 * header must come first and only once; offsets must be contiguous. Size and sha256 are the
 * domain's to verify, over the bytes it actually stored.
 */
export async function* loadCheckpointChunks(
  requests: AsyncIterable<{ part?: pb.LoadCheckpointRequest['part'] }>,
  onHeader: (header: { idempotencyKey: string; checkpoint: coordinator.CheckpointRef; sharedPath: string }) => void = () => {},
): AsyncGenerator<coordinator.CheckpointChunk> {
  let checkpoint: coordinator.CheckpointRef | undefined;
  let offset = 0;
  let index = 0;
  for await (const request of requests) {
    const part = present(request.part, `messages[${index}].part`);
    if (part.$case === 'header') {
      if (checkpoint) throw invalidArgument(`messages[${index}].header: the header must be sent once, first`, { field: 'header' });
      checkpoint = checkpointRef(part.value.checkpoint, 'header.checkpoint');
      onHeader({ idempotencyKey: nonEmpty(part.value.idempotencyKey, 'header.idempotency_key'), checkpoint, sharedPath: part.value.sharedPath });
    } else {
      if (!checkpoint) throw invalidArgument('messages[0] must be the header', { field: 'header' });
      if (part.value.offset !== offset) throw invalidArgument(`messages[${index}].chunk.offset must be ${offset}, got ${part.value.offset}`, { field: 'chunk.offset' });
      offset += part.value.data.length;
      if (offset > checkpoint.size) throw invalidArgument(`chunks exceed header.checkpoint.size_bytes (${checkpoint.size})`, { field: 'chunk.data' });
      yield { checkpoint, offset: part.value.offset, data: part.value.data };
    }
    index++;
  }
  if (!checkpoint) throw invalidArgument('the stream carried no header', { field: 'header' });
}

// ---------------------------------------------------------------------------------------------
// Responses (for remote clients).
// ---------------------------------------------------------------------------------------------

export function evaluateResponse(r: pb.EvaluateResponse): coordinator.EvaluateResult {
  const timings = r.timings ?? pb.EvaluationTimings.fromPartial({});
  const result: coordinator.EvaluateResult = {
    idempotencyKey: r.idempotencyKey,
    baseCheckpointSha256: r.baseCheckpoint?.sha256 ?? '',
    scoreBefore: r.baseline?.accuracy ?? 0,
    scoreAfter: r.meanAdaptedAccuracy,
    perQuestion: r.questions.map((q) => ({
      questionId: q.questionId,
      correctBefore: q.baselineCorrect,
      correctAfter: q.adaptedCorrectFraction,
      ...(q.adaptedAnswer ? { answerAfter: q.adaptedAnswer } : {}),
    })),
    trainLoss: r.trainLoss,
    adapterSha256: r.adapterSha256,
    evaluatedAdapterSha256: r.evaluatedAdapterSha256,
    timings: { queueMs: timings.queueMs, sftMs: timings.sftMs, evalMs: timings.evalMs, totalMs: timings.totalMs },
  };
  const reason = REJECT_REASON[r.rejectReason];
  if (reason) result.failure = { reason, message: r.rejectDetail };
  return result;
}

export function selfEditResponse(r: pb.GenerateSelfEditsResponse): coordinator.SelfEdit {
  return selfEdit(r.selfEdit, 'self_edit');
}

export function studentInfo(r: pb.StudentServiceInfoResponse): coordinator.StudentInfo {
  return {
    studentId: r.studentId,
    model: r.model?.name ?? '',
    capacity: r.capacity,
    baseCheckpoint: r.baseCheckpoint ? checkpointRef(r.baseCheckpoint, 'base_checkpoint') : { id: '', sha256: '', size: 0 },
    checkpoints: r.loadedCheckpoints.map((c, i) => checkpointRef(c, `loaded_checkpoints[${i}]`)),
    maxContextTokens: r.model?.maxSequenceTokens ?? 0,
  };
}

export function teacherInfo(r: pb.TeacherServiceInfoResponse): coordinator.TeacherInfo {
  return {
    model: r.model?.name ?? '',
    baseCheckpoint: r.baseCheckpoint ? checkpointRef(r.baseCheckpoint, 'base_checkpoint') : { id: '', sha256: '', size: 0 },
    checkpoints: r.checkpoints.map((c, i) => checkpointRef(c, `checkpoints[${i}]`)),
  };
}

/** `field` under `path`, or `field` alone at the top level (path ''). */
function prefix(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}
