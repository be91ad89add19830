/**
 * @file The in-process Teacher and Student on the tiny Llama fixture of libs/model: honest adapter
 * hashes, determinism per seed, edit-level failures, checkpoint transfer, and one real SEAL round.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRuntime } from '@seal/engine';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../config';
import { buildEvaluateJob } from '../evaluation';
import { Journal } from '../journal';
import { tempDirs } from '../testing/temp-dirs';
import { resumeSeal, runSeal } from '../rest-em';
import type { KnowledgeContext, SelfEdit } from '../roles';
import { createInProcessRoles } from './in-process-roles';
import { InProcessStudent } from './in-process-student';
import { InProcessTeacher } from './in-process-teacher';

// The fixture's config says 64 positions; RoPE has no learned positions, so a longer context is the same model.
const dirs = tempDirs('seal-in-process-');
const root = dirs.make();
const modelDir = join(root, 'model');
cpSync(join(import.meta.dirname, '..', '..', '..', 'model', 'src', 'fixtures', 'llama-fp32'), modelDir, { recursive: true });
const hf = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8'));
writeFileSync(join(modelDir, 'config.json'), JSON.stringify({ ...hf, max_position_embeddings: 384 }));

const runtime = createRuntime({ intraOpThreads: 1 });
afterAll(async () => {
  await runtime.release();
  dirs.removeAll();
});

const contexts: KnowledgeContext[] = ['Ann Vo', 'Bo Li', 'Cy Ek'].map((name, i) => ({
  kind: 'knowledge',
  id: `p${i}`,
  title: name,
  context: `${name} was born in Varn.`,
  questions: [{ id: `p${i}-q0`, question: `Where was ${name} born?`, answer: 'Varn', kind: 'direct' }],
}));
const config = parseRunConfig({
  seed: 3,
  rounds: 1,
  data: { passagesPerRound: 2 },
  selfEdits: { perPassage: 2, maxNewTokens: 12 },
  inner: { evalTimes: 1, maxAnswerTokens: 6, sft: { epochs: 1 } },
  mstep: { sft: { epochs: 1, rank: 4, alpha: 8 } },
});

const edit = (completion: string, tokenCount = 5): SelfEdit => ({
  id: 'x/p0/0', passageId: 'p0', index: 0, promptStyle: 'implications', prompt: 'P', completion, seed: 1, tokenCount, checkpointId: 'x',
});

describe('in-process roles', () => {
  const student = new InProcessStudent({ modelDir, storeDir: join(root, 'student'), runtime });
  const teacher = new InProcessTeacher({ modelDir, storeDir: join(root, 'teacher'), runtime });

  it('student: trains, scores with the trained adapter, and is deterministic per seed', async () => {
    const { baseCheckpoint } = await student.info();
    const job = buildEvaluateJob({ config, runId: 'r', round: 1, baseCheckpoint, context: contexts[0]!, selfEdit: edit('Ann Vo is from Varn.'), subject: 'a' });
    const first = await student.evaluate(job);
    expect(first.adapterSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.evaluatedAdapterSha256).toBe(first.adapterSha256);
    expect(first.baseCheckpointSha256).toBe(baseCheckpoint.sha256);
    expect(Number.isFinite(first.trainLoss)).toBe(true);
    expect(first.perQuestion).toHaveLength(1);
    expect(first.failure).toBeUndefined();
    expect(await student.evaluate(job)).toMatchObject({ adapterSha256: first.adapterSha256, scoreAfter: first.scoreAfter, trainLoss: first.trainLoss });
    const other = await student.evaluate({ ...job, selfEdit: edit('Varn is a city in Ardenia.') });
    expect(other.adapterSha256).not.toBe(first.adapterSha256);
    // concurrent evaluations (capacity > 1) give exactly what they give one at a time
    const both = await Promise.all([student.evaluate(job), student.evaluate({ ...job, selfEdit: edit('Varn is a city in Ardenia.') })]);
    expect(both.map((r) => [r.adapterSha256, r.scoreAfter, r.trainLoss])).toEqual([first, other].map((r) => [r.adapterSha256, r.scoreAfter, r.trainLoss]));
  });

  it('student: a sequence longer than the context is a too_long failure; an unknown base is failed_precondition', async () => {
    const { baseCheckpoint } = await student.info();
    const long = edit('Varn '.repeat(200));
    const job = buildEvaluateJob({ config, runId: 'r', round: 1, baseCheckpoint, context: contexts[0]!, selfEdit: long, subject: 'long' });
    expect((await student.evaluate(job)).failure).toMatchObject({ reason: 'too_long' });
    await expect(student.evaluate({ ...job, baseCheckpoint: { ...baseCheckpoint, id: 'nope' } })).rejects.toMatchObject({ code: 'failed_precondition' });
  });

  it('teacher: same seed same self-edit; update is idempotent and its checkpoint streams to the student, sha256-checked', async () => {
    const { baseCheckpoint } = await teacher.info();
    const request = { checkpoint: baseCheckpoint, contexts: [contexts[0]!], promptStyle: 'implications' as const, count: 2, sampling: { temperature: 1, topP: 0.95, maxNewTokens: 8 }, seed: 9 };
    const collect = async () => {
      const out: SelfEdit[] = [];
      for await (const e of teacher.generateSelfEdits(request)) out.push(e);
      return out;
    };
    const [a, b] = [await collect(), await collect()];
    expect(a.map((e) => e.completion)).toEqual(b.map((e) => e.completion));
    expect(a.map((e) => e.id)).toEqual([`${baseCheckpoint.id}/p0/0`, `${baseCheckpoint.id}/p0/1`]);

    const update = { idempotencyKey: 'u1', baseCheckpoint, pairs: [{ prompt: 'Passage: Ann Vo.\nImplications:\n', completion: 'Ann Vo is from Varn.' }], sft: config.mstep.sft, merge: true, seed: 1 };
    const ref = await teacher.update(update);
    expect(ref.id).toMatch(/^ckpt-[0-9a-f]{12}$/);
    expect(ref.sha256).not.toBe(baseCheckpoint.sha256);
    expect(await teacher.update(update)).toEqual(ref);

    expect(await student.loadCheckpoint(teacher.getCheckpoint(ref.id))).toEqual(ref);
    expect((await student.info()).checkpoints).toContainEqual(ref);
    const lying = (async function* () {
      for await (const chunk of teacher.getCheckpoint(ref.id)) yield { ...chunk, checkpoint: { ...ref, id: 'ckpt-lie', sha256: '0'.repeat(64) } };
    })();
    await expect(student.loadCheckpoint(lying)).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('diamond with real roles: killed in round 2 and resumed on fresh processes (empty stores) equals the straight run', async () => {
    const twoRounds = parseRunConfig({ ...config, rounds: 2, data: { passagesPerRound: 1 } });
    const fresh = (tag: string) => ({
      teacher: new InProcessTeacher({ modelDir, storeDir: join(root, `${tag}-teacher`), runtime }),
      students: [new InProcessStudent({ modelDir, storeDir: join(root, `${tag}-student`), runtime })],
      trainContexts: contexts,
    });
    const straightDir = join(root, 'straight');
    // the straight half uses the CLI's one-call builder (own runtime, one student)
    const built = createInProcessRoles({ modelDir, workDir: join(root, 'straight-roles'), students: 1 });
    try {
      await runSeal({ runDir: straightDir, config: twoRounds, runId: 'real-diamond', teacher: built.teacher, students: built.students, trainContexts: contexts });
    } finally {
      await built.release();
    }
    const straight = Journal.open(straightDir);
    expect(straight.rounds().map((r) => r.status)).toEqual(['done', 'done']);
    expect(straight.evaluations(1)).toHaveLength(2);
    expect(straight.round(2)!.teacherCheckpoint).toMatch(/^ckpt-/); // round 1's M-step really produced a new model
    straight.close();

    const dir = join(root, 'killed');
    const controller = new AbortController();
    let delivered = 0;
    const onEvent = (e: { type: string }) => {
      if (e.type === 'progress' && ++delivered === 3) controller.abort(); // first evaluation of round 2
    };
    await expect(runSeal({ runDir: dir, config: twoRounds, runId: 'real-diamond', ...fresh('first'), signal: controller.signal, onEvent })).rejects.toMatchObject({ code: 'cancelled' });
    // new teacher and student with empty stores: the round-1 checkpoint comes back from the run's archive
    await resumeSeal({ runDir: dir, config: twoRounds, ...fresh('second') });
    const snapshot = (d: string) => {
      const journal = Journal.open(d);
      try {
        return journal.snapshotJson();
      } finally {
        journal.close();
      }
    };
    expect(snapshot(dir)).toBe(snapshot(straightDir));
  });
});
