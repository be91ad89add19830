/** @file SFT data parsing, validation and batching. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchForStep, collate, readSftData, validateExamples } from './sft-data';
import { loadTokenizer } from './tokenizer';

const tmp = mkdtempSync(join(tmpdir(), 'seal-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const tokenizer = loadTokenizer(join(import.meta.dirname, 'fixtures', 'llama-fp32'));
const file = (name: string, text: string) => {
  writeFileSync(join(tmp, name), text);
  return join(tmp, name);
};

describe('sft data', () => {
  it('reads the token batch JSON', () => {
    const ex = readSftData(file('a.json', JSON.stringify({ input_ids: [[1, 2, 3]], labels: [[-100, 2, 3]] })), null);
    expect(ex).toEqual([{ inputIds: [1, 2, 3], labels: [-100, 2, 3] }]);
  });
  it('reads JSONL text and prompt/completion records with the tokenizer (prompt ignored)', () => {
    const ex = readSftData(file('b.jsonl', '{"text":"in the"}\n\n{"prompt":"in","completion":" the"}\n'), tokenizer);
    expect(ex[0]).toEqual({ inputIds: [262, 259, 258], labels: [262, 259, 258] });
    expect(ex[1]).toEqual({ inputIds: [262, 259, 258], labels: [-100, -100, 258] });
  });
  it.each([
    ['c.json', '{"input_ids":[[1,2]],"labels":[[1]]}', /c.json: row 0: "labels" has 1 entries but "input_ids" has 2/],
    ['d.json', '{"input_ids":[[1,999]],"labels":[[1,2]]}', /d.json: row 0: "input_ids"\[1\] = 999 is out of range \[0, 272\)/],
    ['e.json', '{"input_ids":[[1,2]],"labels":[[1,-5]]}', /e.json: row 0: "labels"\[1\] = -5/],
    ['f.jsonl', '{"text":"a"}\n{oops', /f.jsonl: line 2: invalid JSON/],
    ['g.jsonl', '{"question":"a"}', /g.jsonl: line 1: expected \{"text"\}/],
    ['h.json', '{"input_ids":[[1,2]],"labels":[[1,2],[3,4]]}', /h.json: field "labels" has 2 rows/],
  ])('rejects %s with the file, row and field named', (name, text, message) => {
    expect(() => validateExamples(readSftData(file(name, text), tokenizer), 272, name)).toThrow(message);
  });
  it('names a missing file', () => {
    expect(() => readSftData(join(tmp, 'none.json'), null)).toThrow(/none.json: file not found/);
  });
  it('right-pads with ignored labels and cycles batches in order', () => {
    const ex = [
      { inputIds: [5, 6, 7], labels: [5, 6, 7] },
      { inputIds: [8], labels: [8] },
      { inputIds: [9, 9], labels: [-100, 9] },
    ];
    const batch = collate(ex, 0);
    expect([...batch.inputIds]).toEqual([5, 6, 7, 8, 0, 0, 9, 9, 0]);
    expect([...batch.labels]).toEqual([5, 6, 7, 8, -100, -100, -100, 9, -100]);
    expect(batchForStep(ex, 1, 2)).toEqual([ex[2], ex[0]]);
    expect(batchForStep(ex, 5)).toEqual(ex);
  });
});
