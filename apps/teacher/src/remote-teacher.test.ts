/**
 * @file RemoteTeacher against `serveTeacher` on loopback: self-edits, M-step and checkpoint
 * streams over gRPC equal what the same Teacher gives in-process; a run against a teacher served
 * without a model stops at once with FAILED_PRECONDITION saying how to start it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig, runSeal, type CheckpointChunk, type SelfEdit } from '@seal/coordinator';
import { DeterministicStudent, DeterministicTeacher, tinyContexts } from '@seal/coordinator/testing';
import { parseConfig, RemoteTeacher, type RunningServer } from '@seal/rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { teacherConfigSchema } from './config';
import { serveTeacher } from './serve';

const served = new DeterministicTeacher({ pathologies: true });
const local = new DeterministicTeacher({ pathologies: true });
let server: RunningServer;
let remote: RemoteTeacher;
beforeAll(async () => {
  server = await serveTeacher(parseConfig({ server: { port: 0 } }, teacherConfigSchema), served);
  remote = new RemoteTeacher(server.address);
});
afterAll(async () => {
  remote.close();
  await server.shutdown();
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const bytesOf = (chunks: CheckpointChunk[]) => Buffer.concat(chunks.map((c) => c.data));

describe('RemoteTeacher ⇄ TeacherService', () => {
  it('generates the same self-edits, runs the same M-step and streams the same checkpoint bytes', async () => {
    const info = await remote.info();
    expect(info).toEqual(await local.info());
    const request = { checkpoint: info.baseCheckpoint, contexts: tinyContexts(3), promptStyle: 'implications' as const, count: 4, sampling: { temperature: 1, topP: 0.95, maxNewTokens: 64 }, seed: 21 };
    const byId = (edits: SelfEdit[]) => [...edits].sort((a, b) => a.id.localeCompare(b.id));
    const edits = byId(await collect(remote.generateSelfEdits(request)));
    expect(edits).toEqual(byId(await collect(local.generateSelfEdits(request))));
    expect(edits).toHaveLength(12);

    const kept = edits.filter((e) => e.completion !== '').slice(0, 3);
    const update = {
      idempotencyKey: 'run/r1/update',
      baseCheckpoint: info.baseCheckpoint,
      pairs: kept.map((e) => ({ prompt: e.prompt, completion: e.completion })),
      sft: { rank: 8, alpha: 16, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], lr: 1e-4, epochs: 2, batchSize: 2, schedule: 'cosine' as const, warmup: 1, lossMask: 'completion' as const },
      merge: true,
      seed: 4,
    };
    const next = await remote.update(update);
    expect(next).toEqual(await local.update(update));

    const streamed = await collect(remote.getCheckpoint(next.id));
    expect(streamed.every((c) => c.checkpoint.sha256 === next.sha256)).toBe(true);
    expect(bytesOf(streamed).equals(bytesOf(await collect(local.getCheckpoint(next.id))))).toBe(true);
  });

  it('keeps not_found for an unknown checkpoint', async () => {
    await expect(collect(remote.getCheckpoint('nope'))).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('a teacher served without a model', () => {
  it('answers the loop RPCs with failed_precondition, and a run against it stops with the same advice', async () => {
    const bare = await serveTeacher(parseConfig({ server: { port: 0 } }, teacherConfigSchema));
    const client = new RemoteTeacher(bare.address);
    const runDir = mkdtempSync(join(tmpdir(), 'seal-no-model-teacher-'));
    try {
      const advice = /(this|the) teacher serves no model.*; start it with --model DIR \(or without --no-model\)/;
      const request = { checkpoint: { id: 'base-1', sha256: 'a'.repeat(64), size: 1 }, contexts: tinyContexts(1), promptStyle: 'implications' as const, count: 1, sampling: { temperature: 1, topP: 1, maxNewTokens: 8 }, seed: 1 };
      await expect(collect(client.generateSelfEdits(request))).rejects.toMatchObject({ code: 'failed_precondition', message: expect.stringMatching(advice) });
      const run = runSeal({ runDir, config: parseRunConfig({ rounds: 1, data: { passagesPerRound: 1 }, selfEdits: { perPassage: 1 } }), teacher: client, students: [new DeterministicStudent()], trainContexts: tinyContexts(2) });
      await expect(run).rejects.toMatchObject({ code: 'failed_precondition', message: expect.stringMatching(advice) });
    } finally {
      client.close();
      await bare.shutdown();
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});
