/**
 * @file `node --import tsx tools/world/gold-reward-round.ts MODEL_DIR OUT_DIR [--passages 48] [--k 4]
 * [--select gold|first] [--lr 3e-3] [--epochs 3] [--rank 16] [--style implications-long]`: one
 * ReST-EM round with a perfect reward, to ask what the M-step can do when selection is not the
 * problem. K self-edits per RL-train passage are sampled by the teacher role as a run's E-step does, each scored by
 * the world's ground truth (implied facts right − wrong) instead of an inner-loop evaluation; the best
 * per passage (`first`: the first, i.e. no selection) trains the teacher with the M-step's LoRA SFT,
 * merged. Prints the scores and the new checkpoint's folder (world.json and inner_loop.json copied
 * in, so `self-edit-quality.ts` can read it).
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InProcessTeacher } from '@seal/coordinator/in-process';
import type { KnowledgeContext } from '@seal/coordinator';
import { PROJECTION_MODULES } from '@seal/model';
import { isSelfEditStyle, passageContexts, readModelWorld } from '@seal/tasks';
import { factChecker } from './fact-check';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    passages: { type: 'string', default: '48' },
    k: { type: 'string', default: '4' },
    select: { type: 'string', default: 'gold' },
    lr: { type: 'string', default: '3e-3' },
    epochs: { type: 'string', default: '3' },
    rank: { type: 'string', default: '16' },
    style: { type: 'string', default: 'implications-long' },
  },
});
const [modelDir, outDir] = positionals;
const style = values.style!;
if (!modelDir || !outDir || !['gold', 'first'].includes(values.select!) || !isSelfEditStyle(style)) {
  throw new Error('usage: gold-reward-round.ts MODEL_DIR OUT_DIR [--passages N] [--k K] [--select gold|first] [--lr X] [--epochs N] [--rank R] [--style S]');
}
const { world } = readModelWorld(modelDir);
const facts = factChecker(world);
const passages = world.splits['rl-train'].slice(0, Number(values.passages));
const contexts: KnowledgeContext[] = passageContexts(passages, 'train'); // the ids (so the seeds) seal run gives them
const personOf = new Map(contexts.map((c, i) => [c.id, passages[i]!.person]));

const teacher = new InProcessTeacher({ modelDir, storeDir: outDir });
try {
  // Sampled exactly as the run's E-step samples them: the teacher role, its prompts and per-edit seeds.
  const candidates = new Map<string, { prompt: string; completion: string; score: number }[]>();
  const checkpoint = (await teacher.info()).baseCheckpoint;
  const sampling = { temperature: 1, topP: 0.95, maxNewTokens: 160 };
  for await (const edit of teacher.generateSelfEdits({ checkpoint, contexts, promptStyle: style, count: Number(values.k), sampling, seed: 77 })) {
    const list = candidates.get(edit.passageId) ?? [];
    list[edit.index] = { prompt: edit.prompt, completion: edit.completion, score: facts.impliedScore(personOf.get(edit.passageId)!, edit.completion) };
    candidates.set(edit.passageId, list);
  }
  const pairs: { prompt: string; completion: string }[] = [];
  const all: number[] = [], kept: number[] = [];
  for (const c of contexts) {
    const list = candidates.get(c.id)!;
    const pick = values.select === 'gold' ? list.reduce((a, b) => (b.score > a.score ? b : a)) : list[0]!;
    all.push(...list.map((x) => x.score));
    kept.push(pick.score);
    pairs.push({ prompt: pick.prompt, completion: pick.completion });
  }
  const rank = Number(values.rank);
  const ref = await teacher.update({
    // Every setting is in the key: the teacher answers a repeated key with its first result.
    idempotencyKey: `gold-reward-${[values.select, values.passages, values.k, values.lr, values.epochs, values.rank, style].join('-')}`,
    baseCheckpoint: checkpoint,
    pairs,
    sft: { rank, alpha: 2 * rank, dropout: 0, targets: [...PROJECTION_MODULES], lr: Number(values.lr), epochs: Number(values.epochs), batchSize: 2, schedule: 'linear', warmup: 0, lossMask: 'completion' },
    merge: true,
    seed: 0,
  });
  const dir = teacher.store.dirOf(ref);
  for (const file of ['world.json', 'inner_loop.json']) copyFileSync(join(modelDir, file), join(dir, file));
  const mean = (xs: number[]) => Number((xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2));
  console.log(JSON.stringify({ pairs: pairs.length, impliedScoreAll: mean(all), impliedScoreKept: mean(kept), checkpoint: dir }));
} finally {
  await teacher.release();
}
