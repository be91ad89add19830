/** @file StudentService over real gRPC on loopback without a model: Info from config, bad input named, the loop RPCs FAILED_PRECONDITION saying how to serve a model. */
import { hostname } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import * as pb from '@seal/proto';
import { parseConfig, type RunningServer } from '@seal/rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { studentConfigSchema } from './config';
import { serveStudent } from './serve';

let server: RunningServer;
let client: pb.StudentServiceClient;
beforeAll(async () => {
  server = await serveStudent(parseConfig({ server: { port: 0 }, model: { name: 'tiny-test', path: '/models/tiny' }, workers: 3 }, studentConfigSchema));
  client = new pb.StudentServiceClient(server.address, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client.close();
  await server.shutdown();
});

const call = <Res>(fn: (cb: (e: grpc.ServiceError | null, r?: Res) => void) => unknown) =>
  new Promise<Res>((resolve, reject) => fn((e, r) => (e ? reject(e) : resolve(r as Res))));

const validEvaluate = pb.EvaluateRequest.fromPartial({
  idempotencyKey: 'k1',
  baseCheckpoint: { id: 'student-r0', sha256: 'c'.repeat(64), sizeBytes: 10 },
  context: { id: 'p1', kind: { $case: 'knowledge', value: { title: 'T', passage: 'P.', questions: [{ id: 'q1', text: 'Q?', answers: ['A'] }] } } },
  selfEdit: { id: 'teacher-r0/p1/0', contextId: 'p1', promptStyle: pb.PromptStyle.IMPLICATIONS, completion: 'A.', checkpointId: 'teacher-r0' },
  trainData: { splitNewlines: true, appendContext: true },
  sft: { lora: { rank: 4, alpha: 8, targetModules: ['q_proj'] }, learningRate: 1e-3, epochs: 1, batchSize: 1, schedule: pb.LrSchedule.LINEAR, lossMask: pb.LossMask.ALL_TOKENS },
  eval: { answerSampling: { topP: 1, maxNewTokens: 8 } },
});

describe('StudentService', () => {
  it('answers Info from its config', async () => {
    const info = await call<pb.StudentServiceInfoResponse>((cb) => client.info({}, cb));
    expect(info).toMatchObject({ model: { name: 'tiny-test', path: '/models/tiny' }, capacity: 3, inFlight: 0, loadedCheckpoints: [], studentId: `${hostname()}:${server.port}` });
    expect(info.server?.pid).toBe(process.pid);
  });

  it('names the bad field of a malformed Evaluate', async () => {
    const bad = { ...validEvaluate, sft: { ...validEvaluate.sft!, epochs: 0 } };
    await expect(call((cb) => client.evaluate(bad, cb))).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'sft.epochs must be > 0, got 0' });
  });

  it('answers a valid Evaluate without a model with FAILED_PRECONDITION saying how to start it', async () => {
    await expect(call((cb) => client.evaluate(validEvaluate, cb))).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: 'Evaluate: this student serves no model; start it with --model DIR (or without --no-model)' });
  });

  it('reports per-item outcomes on EvaluateStream and keeps the stream open', async () => {
    const stream = client.evaluateStream();
    const replies: pb.EvaluateStreamResponse[] = [];
    const done = (async () => {
      for await (const r of stream as AsyncIterable<pb.EvaluateStreamResponse>) replies.push(r);
    })();
    stream.write({ request: { ...validEvaluate, idempotencyKey: '' } });
    stream.write({ request: validEvaluate });
    stream.end();
    await done;
    expect(replies.map((r) => r.outcome?.$case === 'error' && [r.outcome.value.statusCode, r.outcome.value.message])).toEqual([
      [grpc.status.INVALID_ARGUMENT, 'messages[0].request.idempotency_key must be non-empty'],
      [grpc.status.FAILED_PRECONDITION, 'Evaluate: this student serves no model; start it with --model DIR (or without --no-model)'],
    ]);
  });

  it('validates the LoadCheckpoint header before answering FAILED_PRECONDITION (no model)', async () => {
    const load = (header: Partial<pb.LoadCheckpointHeader>) =>
      call<pb.LoadCheckpointResponse>((cb) => {
        const stream = client.loadCheckpoint(cb);
        stream.write(pb.LoadCheckpointRequest.fromPartial({ part: { $case: 'header', value: header } }));
        stream.end();
      });
    await expect(load({ idempotencyKey: 'k', checkpoint: { id: 'c', sha256: 'nothex', sizeBytes: 1 } })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'header.checkpoint.sha256 must be 64 lower-case hex digits',
    });
    await expect(load({ idempotencyKey: 'k', checkpoint: { id: 'c', sha256: 'd'.repeat(64), sizeBytes: 1 } })).rejects.toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      details: 'LoadCheckpoint: this student serves no model; start it with --model DIR (or without --no-model)',
    });
  });
});
