/** @file TeacherService over real gRPC on loopback without a model: Info from config, bad input named, the loop RPCs FAILED_PRECONDITION saying how to serve a model. */
import * as grpc from '@grpc/grpc-js';
import * as pb from '@seal/proto';
import { parseConfig, type RunningServer } from '@seal/rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { teacherConfigSchema } from './config';
import { serveTeacher } from './serve';

let server: RunningServer;
let client: pb.TeacherServiceClient;
beforeAll(async () => {
  server = await serveTeacher(parseConfig({ server: { port: 0 }, model: { name: 'tiny-teacher' } }, teacherConfigSchema));
  client = new pb.TeacherServiceClient(server.address, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client.close();
  await server.shutdown();
});

async function firstError(stream: AsyncIterable<unknown>): Promise<grpc.ServiceError> {
  try {
    for await (const _ of stream) expect.fail('expected no messages');
  } catch (error) {
    return error as grpc.ServiceError;
  }
  return expect.fail('the stream ended without an error');
}

const generate = pb.GenerateSelfEditsRequest.fromPartial({
  checkpoint: { id: 'teacher-r0', sha256: 'e'.repeat(64), sizeBytes: 1 },
  contexts: [{ id: 'p1', kind: { $case: 'knowledge', value: { title: 'T', passage: 'P.' } } }],
  promptStyle: pb.PromptStyle.IMPLICATIONS,
  n: 2,
  sampling: { temperature: 1, topP: 0.95, maxNewTokens: 32 },
});

describe('TeacherService', () => {
  it('answers Info from its config', async () => {
    const info = await new Promise<pb.TeacherServiceInfoResponse>((resolve, reject) => client.info({}, (e, r) => (e ? reject(e) : resolve(r))));
    expect(info.model?.name).toBe('tiny-teacher');
    expect(info.checkpoints).toEqual([]);
  });

  it('names the bad field of a malformed GenerateSelfEdits', async () => {
    const error = await firstError(client.generateSelfEdits({ ...generate, n: 0 }));
    expect(error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'n must be > 0, got 0' });
    const noPassage = await firstError(client.generateSelfEdits({ ...generate, contexts: [{ id: 'p1', kind: { $case: 'knowledge', value: { title: 'T', passage: '', questions: [] } } }] }));
    expect(noPassage.details).toBe('contexts[0].knowledge.passage must be non-empty');
  });

  it('answers valid requests without a model with FAILED_PRECONDITION saying how to start it', async () => {
    const noModel = (rpc: string) => ({ code: grpc.status.FAILED_PRECONDITION, details: `${rpc}: this teacher serves no model; start it with --model DIR (or without --no-model)` });
    expect(await firstError(client.generateSelfEdits(generate))).toMatchObject(noModel('GenerateSelfEdits'));
    expect(await firstError(client.getCheckpoint({ checkpointId: 'teacher-r0', maxChunkBytes: 0 }))).toMatchObject(noModel('GetCheckpoint'));
    expect(await firstError(client.getCheckpoint({ checkpointId: '', maxChunkBytes: 0 }))).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'checkpoint_id must be non-empty' });
  });
});
