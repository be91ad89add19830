/** @file proto ⇄ domain: round trips are lossless, and every bad field is named in the error. */
import type { EvaluateJob, GenerateSelfEditsRequest, UpdateRequest } from '@seal/coordinator';
import * as pb from '@seal/proto';
import { describe, expect, it } from 'vitest';
import * as fromProto from './from-proto';
import * as toProto from './to-proto';

const ref = { id: 'teacher-r0', sha256: 'a'.repeat(64), size: 1234 };
const knowledge = {
  kind: 'knowledge' as const,
  id: 'p1',
  title: 'Zorbland',
  context: 'Zorbland exports glass.',
  questions: [{ id: 'q1', question: 'What does Zorbland export?', answer: 'glass', kind: 'direct' as const }],
};
const sft = { rank: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj'], lr: 1e-3, epochs: 2, batchSize: 1, schedule: 'linear' as const, warmup: 0, lossMask: 'all' as const };
const job: EvaluateJob = {
  idempotencyKey: 'run1/r1/teacher-r0/p1/0',
  baseCheckpoint: ref,
  selfEdit: { id: 'teacher-r0/p1/0', passageId: 'p1', index: 0, promptStyle: 'implications', prompt: 'P', completion: 'Glass is exported.', seed: 7, tokenCount: 5, checkpointId: 'teacher-r0' },
  sft,
  eval: { context: knowledge, splitNewlines: true, appendPassage: true, maxAnswerTokens: 16 },
  repeats: 3,
  seed: 11,
};

/** Encodes to bytes and back, as the wire does. */
function wire<T>(codec: { encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T }, message: T): T {
  return codec.decode(codec.encode(message).finish());
}

describe('proto ⇄ domain', () => {
  it('round-trips an evaluation job, knowledge and few-shot', () => {
    expect(fromProto.evaluateRequest(wire(pb.EvaluateRequest, toProto.evaluateRequest(job)))).toEqual(job);
    const fewshot = { kind: 'fewshot' as const, id: 't1', train: [{ input: [[1, 2]], output: [[2, 1]] }], test: [{ input: [[3], [4]], output: [[4], [3]] }] };
    const fewJob = { ...job, selfEdit: { ...job.selfEdit, passageId: 't1', promptStyle: 'fewshot-config' as const }, eval: { ...job.eval, context: fewshot } };
    expect(fromProto.evaluateRequest(wire(pb.EvaluateRequest, toProto.evaluateRequest(fewJob)))).toEqual(fewJob);
  });

  it('carries the passage-only baseline (index -1) and bounds repeats', () => {
    // The coordinator's passage-only job is an empty self-edit with index -1 (coordinator evaluation.ts).
    const baseline = { ...job, selfEdit: { ...job.selfEdit, id: 'passage:p1', index: -1, completion: '', prompt: '' } };
    expect(fromProto.evaluateRequest(wire(pb.EvaluateRequest, toProto.evaluateRequest(baseline)))).toEqual(baseline);
    const tooMany = toProto.evaluateRequest({ ...job, repeats: fromProto.MAX_REPEATS + 1 });
    expect(() => fromProto.evaluateRequest(wire(pb.EvaluateRequest, tooMany))).toThrow(/repeats must be in \[1, 64\]/);
    const badIndex = toProto.evaluateRequest({ ...job, selfEdit: { ...job.selfEdit, index: -2 } });
    expect(() => fromProto.evaluateRequest(wire(pb.EvaluateRequest, badIndex))).toThrow(/self_edit\.index must be in \[-1/);
  });

  it('round-trips generation and update requests', () => {
    const gen: GenerateSelfEditsRequest = { checkpoint: ref, contexts: [knowledge], promptStyle: 'self-qa', count: 5, sampling: { temperature: 1, topP: 0.95, maxNewTokens: 64 }, seed: 3 };
    expect(fromProto.generateSelfEditsRequest(wire(pb.GenerateSelfEditsRequest, toProto.generateSelfEditsRequest(gen)))).toEqual(gen);
    const update: UpdateRequest = { idempotencyKey: 'run1/r1/update', baseCheckpoint: ref, pairs: [{ prompt: 'P', completion: 'C' }], sft: { ...sft, lossMask: 'completion', schedule: 'cosine' }, merge: true, seed: 5 };
    expect(fromProto.updateRequest(wire(pb.UpdateRequest, toProto.updateRequest(update)))).toEqual(update);
  });

  it('round-trips an evaluation result, including a rejection', () => {
    const result = {
      idempotencyKey: job.idempotencyKey,
      baseCheckpointSha256: ref.sha256,
      scoreBefore: 0,
      scoreAfter: 2 / 3,
      perQuestion: [{ questionId: 'q1', correctBefore: false, correctAfter: 2 / 3, answerAfter: 'glass' }],
      trainLoss: 0.25,
      adapterSha256: 'b'.repeat(64),
      evaluatedAdapterSha256: 'b'.repeat(64),
      timings: { queueMs: 1, sftMs: 2, evalMs: 3, totalMs: 6 },
    };
    expect(fromProto.evaluateResponse(wire(pb.EvaluateResponse, toProto.evaluateResponse(result, ref)))).toEqual(result);
    const rejected = { ...result, scoreAfter: 0, trainLoss: NaN, failure: { reason: 'nan_loss' as const, message: 'loss became NaN at step 3' } };
    expect(fromProto.evaluateResponse(wire(pb.EvaluateResponse, toProto.evaluateResponse(rejected, ref)))).toEqual(rejected);
  });

  it.each([
    ['idempotency_key must be non-empty', (r: pb.EvaluateRequest) => (r.idempotencyKey = '')],
    ['base_checkpoint is required', (r: pb.EvaluateRequest) => (r.baseCheckpoint = undefined)],
    ['base_checkpoint.sha256 must be 64 lower-case hex digits', (r: pb.EvaluateRequest) => (r.baseCheckpoint!.sha256 = 'XYZ')],
    ['context.knowledge.questions must be non-empty', (r: pb.EvaluateRequest) => ((r.context!.kind!.value as pb.KnowledgeContext).questions = [])],
    ['context.knowledge.questions[0].answers must be non-empty', (r: pb.EvaluateRequest) => ((r.context!.kind!.value as pb.KnowledgeContext).questions[0].answers = [])],
    ['self_edit.context_id "p1" does not match context.id "p2"', (r: pb.EvaluateRequest) => (r.context!.id = 'p2')],
    ['sft.lora.rank must be > 0, got 0', (r: pb.EvaluateRequest) => (r.sft!.lora!.rank = 0)],
    ['sft.lora.dropout must be in [0, 1)', (r: pb.EvaluateRequest) => (r.sft!.lora!.dropout = 1)],
    ['sft.schedule must be set to a known value, got 0', (r: pb.EvaluateRequest) => (r.sft!.schedule = pb.LrSchedule.UNSPECIFIED)],
    ['eval.answer_sampling.max_new_tokens must be > 0', (r: pb.EvaluateRequest) => (r.eval!.answerSampling!.maxNewTokens = 0)],
    ['self_edit.prompt_style must be set to a known value', (r: pb.EvaluateRequest) => (r.selfEdit!.promptStyle = 99 as pb.PromptStyle)],
  ])('rejects a bad Evaluate field: %s', (message, spoil) => {
    const request = toProto.evaluateRequest(job);
    spoil(request);
    expect(() => fromProto.evaluateRequest(request)).toThrow(expect.objectContaining({ code: 'invalid_argument', message: expect.stringContaining(message) }));
  });

  it('rejects bad grids and checkpoint streams, naming the field', () => {
    const bad = pb.Context.fromPartial({ id: 't', kind: { $case: 'fewShot', value: { demonstrations: [{ input: { height: 2, width: 2, cells: [1, 2, 3] }, output: { height: 1, width: 1, cells: [1] } }] } } });
    expect(() => fromProto.context(bad, 'context', false)).toThrow('context.few_shot.demonstrations[0].input.cells must hold height × width = 4 values, got 3');
  });

  it('checks LoadCheckpoint streams: header first, contiguous offsets, size bound', async () => {
    const header = pb.LoadCheckpointRequest.fromPartial({ part: { $case: 'header', value: { idempotencyKey: 'k', checkpoint: toProto.checkpointRef({ ...ref, size: 4 }) } } });
    const chunk = (offset: number, bytes: number[]) => pb.LoadCheckpointRequest.fromPartial({ part: { $case: 'chunk', value: { offset, data: Buffer.from(bytes) } } });
    const drain = async (messages: pb.LoadCheckpointRequest[]) => {
      const out = [];
      for await (const c of fromProto.loadCheckpointChunks((async function* () { yield* messages; })())) out.push(c);
      return out;
    };
    expect((await drain([header, chunk(0, [1, 2]), chunk(2, [3, 4])])).map((c) => c.offset)).toEqual([0, 2]);
    await expect(drain([chunk(0, [1])])).rejects.toThrow('messages[0] must be the header');
    await expect(drain([header, chunk(1, [1])])).rejects.toThrow('messages[1].chunk.offset must be 0, got 1');
    await expect(drain([header, chunk(0, [1, 2, 3, 4, 5])])).rejects.toThrow('chunks exceed header.checkpoint.size_bytes (4)');
    await expect(drain([header, header])).rejects.toThrow('the header must be sent once, first');
  });
});
