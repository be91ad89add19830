/** @file `seal eval knowledge` inputs: conditions, splits, the model's world, the contexts and the table. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evalContexts, formatEvalTable, parseEvalConditions, parseEvalSplit, readModelWorld } from './eval-conditions';
import { generateWorld } from './world';

describe('eval inputs', () => {
  it('accepts repeated and comma-listed conditions, once each, in order', () => {
    expect(parseEvalConditions(['oracle,base', 'self-edit', 'base'])).toEqual(['oracle', 'base', 'self-edit']);
  });

  it('names the unknown condition and split', () => {
    expect(() => parseEvalConditions(['base,selfedit'])).toThrow('--condition: unknown condition "selfedit" (expected base, passage, self-edit, oracle)');
    expect(() => parseEvalConditions([])).toThrow(/at least one/);
    expect(() => parseEvalSplit('train')).toThrow('--split: unknown split "train" (expected val or test)');
  });

  it('names what is missing from a model folder', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'eval-model-'));
    try {
      expect(() => readModelWorld(path.join(dir, 'nope'))).toThrow(/--model: .*nope does not exist/);
      expect(() => readModelWorld(dir)).toThrow(/has no config\.json/);
      for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) writeFileSync(path.join(dir, f), '{}');
      expect(() => readModelWorld(dir)).toThrow(/world\.json not found/);
      writeFileSync(path.join(dir, 'world.json'), '{"seed":"x"}');
      expect(() => readModelWorld(dir)).toThrow(/expected \{"seed": number/);
      writeFileSync(path.join(dir, 'world.json'), '{"seed": 1,');
      expect(() => readModelWorld(dir)).toThrow(/world\.json: not valid JSON/);
      // A checkpoint folder has no world.json: the world file is named separately.
      const elsewhere = path.join(dir, 'elsewhere.json');
      expect(() => readModelWorld(dir, elsewhere)).toThrow(/--world: .*elsewhere\.json not found/);
      writeFileSync(elsewhere, JSON.stringify({ seed: 2, config: { pretrainPeople: 5, rlTrainPassages: 1, valPassages: 2, testPassages: 2 } }));
      const { seed, world } = readModelWorld(dir, elsewhere);
      expect(seed).toBe(2);
      expect(world.splits.val).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds contexts with stable ids and the oracle of each passage', () => {
    const world = generateWorld(2, { pretrainPeople: 5, rlTrainPassages: 1, valPassages: 3, testPassages: 4 });
    const { contexts, oracle } = evalContexts(world, 'test', 2);
    expect(contexts.map((c) => c.id)).toEqual(['test-0000', 'test-0001']);
    expect(contexts[0].questions[0].id).toBe('test-0000-q0');
    expect(contexts[1].title).toBe(world.splits.test[1].record.title);
    expect(oracle['test-0001']).toBe(world.splits.test[1].oracle);
    expect(() => evalContexts(world, 'val', 0)).toThrow(/--limit/);
  });

  it('prints one line per row', () => {
    const table = formatEvalTable([{ condition: 'self-edit', accuracy: 0.25, n_passages: 2, n_questions: 8, samples: [0.2, 0.3] }]);
    expect(table.split('\n')).toHaveLength(3);
    expect(table).toMatch(/self-edit\s+25\.0% \(K=2\)\s+2\s+8/);
  });
});
