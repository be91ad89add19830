/**
 * @file Domain → proto for every request and response; the inverse of ./from-proto. Builds
 * messages with `fromPartial` so every field is present (grpc-js cannot serialize partial ones).
 */
import type * as coordinator from '@seal/coordinator';
import * as pb from '@seal/proto';
import { LOSS_MASK, LR_SCHEDULE, PROMPT_STYLE, REJECT_REASON } from './from-proto';

function invert<K extends number, V extends string>(table: Partial<Record<K, V>>): Record<V, K> {
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [v, Number(k)])) as Record<V, K>;
}

const PROMPT_STYLE_PB = invert(PROMPT_STYLE);
const LR_SCHEDULE_PB = invert(LR_SCHEDULE);
const LOSS_MASK_PB = invert(LOSS_MASK);
const REJECT_REASON_PB = invert(REJECT_REASON);

export function checkpointRef(ref: coordinator.CheckpointRef): pb.CheckpointRef {
  return pb.CheckpointRef.fromPartial({ id: ref.id, sha256: ref.sha256, sizeBytes: ref.size });
}

/** An unset ref (empty id) stays unset on the wire. */
function optionalRef(ref: coordinator.CheckpointRef | undefined): pb.CheckpointRef | undefined {
  return ref && ref.id ? checkpointRef(ref) : undefined;
}

function grid(rows: number[][]): pb.Grid {
  return pb.Grid.fromPartial({ height: rows.length, width: rows[0]?.length ?? 0, cells: rows.flat() });
}

export function context(c: coordinator.Context): pb.Context {
  if (c.kind === 'knowledge') {
    return pb.Context.fromPartial({
      id: c.id,
      kind: {
        $case: 'knowledge',
        value: {
          title: c.title,
          passage: c.context,
          questions: c.questions.map((q) => ({
            id: q.id,
            text: q.question,
            answers: [q.answer],
            kind: q.kind === 'direct' ? pb.QuestionKind.DIRECT : q.kind === 'implied' ? pb.QuestionKind.IMPLIED : pb.QuestionKind.UNSPECIFIED,
          })),
        },
      },
    });
  }
  const pair = (x: coordinator.FewShotExample) => ({ input: grid(x.input), output: grid(x.output) });
  return pb.Context.fromPartial({ id: c.id, kind: { $case: 'fewShot', value: { demonstrations: c.train.map(pair), tests: c.test.map(pair) } } });
}

export function sftConfig(s: coordinator.SftConfig): pb.SftConfig {
  return pb.SftConfig.fromPartial({
    lora: { rank: s.rank, alpha: s.alpha, dropout: s.dropout, targetModules: s.targets },
    learningRate: s.lr,
    epochs: s.epochs,
    batchSize: s.batchSize,
    gradientAccumulationSteps: 1,
    schedule: LR_SCHEDULE_PB[s.schedule],
    warmupSteps: s.warmup,
    lossMask: LOSS_MASK_PB[s.lossMask],
  });
}

export function selfEdit(e: coordinator.SelfEdit): pb.SelfEdit {
  return pb.SelfEdit.fromPartial({
    id: e.id,
    contextId: e.passageId,
    index: e.index,
    promptStyle: PROMPT_STYLE_PB[e.promptStyle],
    prompt: e.prompt,
    completion: e.completion,
    seed: e.seed,
    completionTokens: e.tokenCount,
    checkpointId: e.checkpointId,
  });
}

// ---------------------------------------------------------------------------------------------
// Requests (for remote clients).
// ---------------------------------------------------------------------------------------------

export function evaluateRequest(job: coordinator.EvaluateJob): pb.EvaluateRequest {
  return pb.EvaluateRequest.fromPartial({
    idempotencyKey: job.idempotencyKey,
    baseCheckpoint: checkpointRef(job.baseCheckpoint),
    context: context(job.eval.context),
    selfEdit: selfEdit(job.selfEdit),
    trainData: { splitNewlines: job.eval.splitNewlines, appendContext: job.eval.appendPassage },
    sft: sftConfig(job.sft),
    eval: { answerSampling: { temperature: 0, topP: 1, maxNewTokens: job.eval.maxAnswerTokens } },
    repeats: job.repeats,
    seed: job.seed,
  });
}

export function generateSelfEditsRequest(r: coordinator.GenerateSelfEditsRequest): pb.GenerateSelfEditsRequest {
  return pb.GenerateSelfEditsRequest.fromPartial({
    checkpoint: checkpointRef(r.checkpoint),
    contexts: r.contexts.map(context),
    promptStyle: PROMPT_STYLE_PB[r.promptStyle],
    n: r.count,
    sampling: { temperature: r.sampling.temperature, topP: r.sampling.topP, maxNewTokens: r.sampling.maxNewTokens },
    seed: r.seed,
  });
}

export function updateRequest(r: coordinator.UpdateRequest): pb.UpdateRequest {
  return pb.UpdateRequest.fromPartial({
    idempotencyKey: r.idempotencyKey,
    baseCheckpoint: checkpointRef(r.baseCheckpoint),
    merge: r.merge,
    pairs: r.pairs,
    sft: sftConfig(r.sft),
    seed: r.seed,
  });
}

// ---------------------------------------------------------------------------------------------
// Responses (for servers).
// ---------------------------------------------------------------------------------------------

export function evaluateResponse(r: coordinator.EvaluateResult, base: coordinator.CheckpointRef): pb.EvaluateResponse {
  const total = r.perQuestion.length;
  const correct = r.perQuestion.filter((q) => q.correctBefore).length;
  return pb.EvaluateResponse.fromPartial({
    idempotencyKey: r.idempotencyKey,
    baseCheckpoint: checkpointRef(base),
    baseline: { correct, total, accuracy: r.scoreBefore },
    meanGain: r.failure ? 0 : r.scoreAfter - r.scoreBefore,
    meanAdaptedAccuracy: r.scoreAfter,
    questions: r.perQuestion.map((q) => ({
      questionId: q.questionId,
      baselineCorrect: q.correctBefore,
      adaptedCorrectFraction: q.correctAfter,
      adaptedAnswer: q.answerAfter ?? '',
    })),
    rejectReason: r.failure ? REJECT_REASON_PB[r.failure.reason] : pb.RejectReason.UNSPECIFIED,
    rejectDetail: r.failure?.message ?? '',
    timings: r.timings,
    adapterSha256: r.adapterSha256,
    evaluatedAdapterSha256: r.evaluatedAdapterSha256,
    trainLoss: r.trainLoss,
  });
}

export function serverInfo(startedAt: number, version: string, hostname: string): pb.ServerInfo {
  return pb.ServerInfo.fromPartial({ version, hostname, pid: process.pid, uptimeSeconds: (Date.now() - startedAt) / 1000 });
}

export function studentInfo(info: coordinator.StudentInfo, model: Partial<pb.ModelInfo>, server: pb.ServerInfo, inFlight = 0): pb.StudentServiceInfoResponse {
  return pb.StudentServiceInfoResponse.fromPartial({
    studentId: info.studentId,
    model: { ...model, name: info.model, maxSequenceTokens: info.maxContextTokens },
    capacity: info.capacity,
    inFlight,
    loadedCheckpoints: info.checkpoints.map(checkpointRef),
    baseCheckpoint: optionalRef(info.baseCheckpoint),
    server,
  });
}

export function teacherInfo(info: coordinator.TeacherInfo, model: Partial<pb.ModelInfo>, server: pb.ServerInfo, current?: coordinator.CheckpointRef): pb.TeacherServiceInfoResponse {
  return pb.TeacherServiceInfoResponse.fromPartial({
    model: { ...model, name: info.model },
    baseCheckpoint: optionalRef(info.baseCheckpoint),
    currentCheckpoint: optionalRef(current),
    checkpoints: info.checkpoints.map(checkpointRef),
    server,
  });
}
