/**
 * @file RemoteStudent against `serveStudent` on loopback: the gRPC path gives exactly what the
 * same Student gives in-process (info, evaluate, checkpoint loads by stream and by shared path),
 * and failures keep their domain codes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckpointChunk, CheckpointRef, EvaluateJob, SelfEdit } from '@seal/coordinator';
import { checkpointBytes, DeterministicStudent, DeterministicTeacher, refOf, tinyContexts } from '@seal/coordinator/testing';
import { parseConfig, RemoteStudent, type RunningServer } from '@seal/rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { studentConfigSchema } from './config';
import { serveStudent } from './serve';

const sharedRoot = mkdtempSync(join(tmpdir(), 'seal-remote-student-'));
const served = new DeterministicStudent({ studentId: 'remote', sharedRoot, workMs: 5 });
const local = new DeterministicStudent({ studentId: 'remote', sharedRoot, workMs: 5 });
let server: RunningServer;
let remote: RemoteStudent;

const bytes = checkpointBytes('teacher-r1', 0.6, 20_000);
const ref = refOf('teacher-r1', bytes);
async function* chunks(size = 6000): AsyncIterable<CheckpointChunk> {
  for (let offset = 0; offset < bytes.length; offset += size) yield { checkpoint: ref, offset, data: bytes.subarray(offset, offset + size) };
}

let job: EvaluateJob;
beforeAll(async () => {
  server = await serveStudent(parseConfig({ server: { port: 0 } }, studentConfigSchema), served);
  remote = new RemoteStudent(server.address);
  const [context] = tinyContexts(1);
  const teacher = new DeterministicTeacher({ pathologies: false });
  const base = (await teacher.info()).baseCheckpoint;
  const edits: SelfEdit[] = [];
  for await (const e of teacher.generateSelfEdits({ checkpoint: base, contexts: [context], promptStyle: 'implications', count: 1, sampling: { temperature: 1, topP: 0.95, maxNewTokens: 64 }, seed: 3 })) edits.push(e);
  job = {
    idempotencyKey: 'run/r1/e0',
    baseCheckpoint: ref,
    selfEdit: edits[0],
    sft: { rank: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj'], lr: 1e-3, epochs: 2, batchSize: 1, schedule: 'linear', warmup: 0, lossMask: 'all' },
    eval: { context, splitNewlines: true, appendPassage: true, maxAnswerTokens: 16 },
    repeats: 2,
    seed: 9,
  };
});
afterAll(async () => {
  remote.close();
  await server.shutdown();
  rmSync(sharedRoot, { recursive: true, force: true });
});

describe('RemoteStudent ⇄ StudentService', () => {
  it('reports the same info as the student itself', async () => {
    expect(await remote.info()).toEqual(await served.info());
  });

  it('keeps FAILED_PRECONDITION and its details for a checkpoint the student does not hold', async () => {
    await expect(remote.evaluate(job)).rejects.toMatchObject({ code: 'failed_precondition', details: { checkpointId: 'teacher-r1' } });
  });

  it('streams a checkpoint in chunks, verified, then evaluates exactly as in-process', async () => {
    expect(await remote.loadCheckpoint(chunks())).toEqual(ref);
    expect(served.held.get('teacher-r1')).toEqual(ref);
    await local.loadCheckpoint(chunks());
    expect(await remote.evaluate(job)).toEqual(await local.evaluate(job));
  });

  it('rejects corrupted bytes with invalid_argument', async () => {
    async function* corrupt(): AsyncIterable<CheckpointChunk> {
      const copy = bytes.slice();
      copy[100] ^= 1;
      yield { checkpoint: { ...ref, id: 'corrupt' }, offset: 0, data: copy };
    }
    await expect(remote.loadCheckpoint(corrupt())).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('loads by shared path inside the root and refuses escapes', async () => {
    mkdirSync(join(sharedRoot, 'ckpt'), { recursive: true });
    writeFileSync(join(sharedRoot, 'ckpt', 'teacher-r2.bin'), bytes);
    const r2: CheckpointRef = { ...ref, id: 'teacher-r2' };
    expect(await remote.loadSharedCheckpoint(r2, 'ckpt/teacher-r2.bin')).toEqual(r2);
    await expect(remote.loadSharedCheckpoint(r2, '../outside.bin')).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('escapes') });
  });

  it('turns an abort into cancelled and a passed deadline into deadline_exceeded', async () => {
    const controller = new AbortController();
    const pending = remote.evaluate(job, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'cancelled' });
    await expect(remote.evaluate(job, { deadline: Date.now() + 1 })).rejects.toMatchObject({ code: 'deadline_exceeded' });
  });
});
