/** @file Pretraining on a micro world: the loss falls, checkpoints resume bit-identically, bad settings are refused by name. */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packDocuments, pretrainTinyModel, PretrainError, type PretrainOptions } from './pretrain';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'pretrain-test-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const micro = (out: string, extra: Partial<PretrainOptions> = {}): PretrainOptions => ({
  out,
  worldSeed: 3,
  worldOverrides: { pretrainPeople: 12, rlTrainPassages: 2, valPassages: 2, testPassages: 2 },
  model: { hiddenSize: 16, layers: 1, heads: 2, intermediateSize: 32 },
  steps: 6,
  lr: 1e-2,
  warmup: 0,
  batchSize: 4,
  seqLen: 128,
  seed: 7,
  checkpointEvery: 3,
  intraOpThreads: 1,
  ...extra,
});

describe('packDocuments', () => {
  it('keeps documents whole inside rows, targets stop at each document end, positions restart', () => {
    const { rows, truncated } = packDocuments([[1, 5, 2], [1, 6, 7, 2], [1, 8, 9, 9, 9, 2]], 8, 0);
    expect(truncated).toBe(0);
    expect(rows.map((r) => r.ids)).toEqual([
      [1, 5, 2, 1, 6, 7, 2, 0],
      [1, 8, 9, 9, 9, 2, 0, 0],
    ]);
    expect(rows[0].targets).toEqual([5, 2, -100, 6, 7, 2, -100, -100]);
    expect(rows[0].positions).toEqual([0, 1, 2, 0, 1, 2, 3, 0]);
  });

  it('cuts a document longer than a row and counts it', () => {
    expect(packDocuments([[1, 2, 3, 4, 5]], 3, 0).truncated).toBe(1);
  });
});

describe('pretrainTinyModel', () => {
  it('lowers the loss, and a run killed after a checkpoint resumes to bit-identical weights', async () => {
    const straight = tmp();
    const full = await pretrainTinyModel(micro(straight));
    expect(full.stepsRun).toBe(6);
    const first = full.losses[0].loss;
    const last = full.losses.at(-1)!.loss;
    expect(last).toBeLessThan(first - 0.3);

    const killed = tmp();
    const part = await pretrainTinyModel(micro(killed, { stopAfter: 3 }));
    expect(part.stepsRun).toBe(3);
    await expect(pretrainTinyModel(micro(killed))).rejects.toThrow(/already holds a checkpoint: pass --resume/);
    await expect(pretrainTinyModel(micro(killed, { resume: true, lr: 2e-2 }))).rejects.toThrow(PretrainError);
    const resumed = await pretrainTinyModel(micro(killed, { resume: true }));
    expect(resumed.resumedFrom).toBe(3);
    expect(resumed.stepsRun).toBe(3);
    expect(resumed.losses.map((l) => l.loss)).toEqual(full.losses.map((l) => l.loss));
    const weights = (dir: string) => readFileSync(path.join(dir, 'model', 'model.safetensors'));
    expect(weights(killed).equals(weights(straight))).toBe(true);
  }, 120_000);

  it('--init continues from a model folder: its weights, shape and token ids, on a changed corpus', async () => {
    const first = tmp();
    const base = await pretrainTinyModel(micro(first));
    const continued = tmp();
    const changedCorpus = { ...micro(continued).worldOverrides, demoOnlyPeople: 20, selfEditDemoRate: 0, walkThroughDemoRate: 1, impliedQuestionRate: 0.5 };
    // Flags for another shape are ignored: the init's shape is the model.
    const options = micro(continued, { init: base.modelDir, worldOverrides: changedCorpus, model: { hiddenSize: 32, layers: 2, heads: 2, intermediateSize: 64 }, steps: 2 });
    const run = await pretrainTinyModel(options);
    expect(run.params).toBe(base.params);
    // A random init starts near ln(vocab); a continued one near where the first run ended.
    expect(run.losses[0]!.loss).toBeLessThan(base.losses[0]!.loss - 0.3);
    for (const f of ['tokenizer.json', 'config.json']) {
      expect(readFileSync(path.join(run.modelDir, f), 'utf8')).toBe(readFileSync(path.join(base.modelDir, f), 'utf8'));
    }
    // The world's own tokenizer numbers this corpus's words differently; the init's ids are kept.
    expect(readFileSync(path.join(continued, 'world', 'tokenizer.json'), 'utf8')).not.toBe(readFileSync(path.join(base.modelDir, 'tokenizer.json'), 'utf8'));
    // Only the demonstrations: fewer tokens per epoch, still from the init.
    const demosOnly = await pretrainTinyModel({ ...options, out: tmp(), kinds: ['self-edit'] });
    expect(demosOnly.tokensPerEpoch).toBeGreaterThan(0);
    expect(demosOnly.tokensPerEpoch).toBeLessThan(run.tokensPerEpoch / 2);
    await expect(pretrainTinyModel({ ...options, out: tmp(), kinds: ['demo' as never] })).rejects.toThrow(/unknown corpus kind 'demo'/);
    await expect(pretrainTinyModel(micro(tmp(), { init: base.modelDir, steps: 2, kinds: ['self-edit'], worldOverrides: { ...changedCorpus, demoOnlyPeople: 0 } }))).rejects.toThrow(/no documents of kinds self-edit/);
    await expect(pretrainTinyModel(micro(tmp(), { init: continued }))).rejects.toThrow(/--init: .* holds no model\.safetensors/);
    const broken = tmp();
    for (const f of ['model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(base.modelDir, f), path.join(broken, f));
    await expect(pretrainTinyModel(micro(tmp(), { init: broken }))).rejects.toThrow(/--init: .*config\.json not found/);
    writeFileSync(path.join(broken, 'config.json'), '{ "vocab_size": ');
    await expect(pretrainTinyModel(micro(tmp(), { init: broken }))).rejects.toThrow(/--init: .*config\.json is not valid JSON/);
  }, 120_000);

  it('refuses --resume without a checkpoint, naming the file', async () => {
    await expect(pretrainTinyModel(micro(tmp(), { resume: true }))).rejects.toThrow(/trainer_state\.json not found/);
  });
});
