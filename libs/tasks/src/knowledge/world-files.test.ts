/** @file Tests that a written world reads back through the SEAL loaders and is byte-identical across runs. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readKnowledgeFile, readSelfEditFile } from './squad';
import { loadTokenizer } from './tokenizer-builder';
import { generateWorld } from './world';
import { verifyWorldFiles, writeWorldFiles } from './world-files';

const scratch = mkdtempSync(path.join(tmpdir(), 'seal-world-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const sizes = { pretrainPeople: 150, rlTrainPassages: 10, valPassages: 10, testPassages: 12 };

describe('writeWorldFiles', () => {
  const a = writeWorldFiles(generateWorld(5, sizes), path.join(scratch, 'a'));

  it('writes files the SEAL loaders and the tokenizer library read back', () => {
    const dir = path.join(scratch, 'a');
    expect(readKnowledgeFile(path.join(dir, 'test.json'))).toHaveLength(12);
    expect(readKnowledgeFile(path.join(dir, 'rl_train.json'))).toHaveLength(10);
    expect(readSelfEditFile(path.join(dir, 'oracle_val.json'))[0]!.completions).toHaveLength(1);
    const lines = readFileSync(path.join(dir, 'pretrain.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(a.pretraining.documents);
    expect(JSON.parse(lines[0]!)).toHaveProperty('text');
    const tokenizer = loadTokenizer({
      tokenizer: JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')),
      config: JSON.parse(readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')),
    });
    expect(tokenizer.decode(tokenizer.encode('Hello\nworld').ids, { skip_special_tokens: true })).toBe('Hello\nworld');
    expect(a.splits.test.questions).toBeGreaterThanOrEqual(48);
    expect(a.pretraining.tokens).toBeGreaterThan(a.pretraining.documents * 10);
  });

  it('is byte-identical for the same seed, and verification catches an edited file', () => {
    const b = writeWorldFiles(generateWorld(5, sizes), path.join(scratch, 'b'));
    expect(b.files).toEqual(a.files);
    expect(verifyWorldFiles(path.join(scratch, 'b'))).toEqual([]);
    writeFileSync(path.join(scratch, 'b', 'val.json'), '[]\n');
    expect(verifyWorldFiles(path.join(scratch, 'b'))).toEqual(['val.json']);
  });
});
