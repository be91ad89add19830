/** @file Tests for the SQuAD readers and writers, on the real SEAL files and on broken input. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedDataPath } from '../testing/shared-data';
import {
  KnowledgeDataError,
  parseSealPassages,
  parseSquadV1,
  readKnowledgeFile,
  readSelfEditFile,
  toSquadV1,
  writeSealFile,
  writeSquadV1File,
} from './squad';

const scratch = mkdtempSync(path.join(tmpdir(), 'seal-squad-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('real SEAL files', () => {
  const passages = readKnowledgeFile(sharedDataPath('squad/squad_val.json'));

  it('reads squad_val.json: 2067 passages, 10 570 questions', () => {
    expect(passages).toHaveLength(2067);
    expect(passages.reduce((n, p) => n + p.questions.length, 0)).toBe(10570);
    expect(passages[0]!.title).toBe('Super Bowl 50');
    expect(passages[0]!.questions[0]).toEqual({
      question: 'Which NFL team represented the AFC at Super Bowl 50?',
      answer: 'Denver Broncos',
    });
  });

  it('reads the three self-edit files: 200 passages × 5 completions, starting with Genghis Khan', () => {
    for (const name of ['base_val.json', 'iter2_val.json', 'gpt4_1_val.json']) {
      const records = readSelfEditFile(sharedDataPath(`squad/${name}`));
      expect(records, name).toHaveLength(200);
      expect(records[0]!.title).toBe('Genghis Khan');
      expect(records.every((r) => r.completions.length === 5)).toBe(true);
      expect(records.reduce((n, r) => n + r.questions.length, 0), name).toBe(974);
    }
  });

  it('round-trips through SQuAD v1.1 and SEAL files unchanged', () => {
    const sample = passages.slice(0, 60);
    const squadPath = path.join(scratch, 'v11.json');
    writeSquadV1File(squadPath, sample);
    expect(readKnowledgeFile(squadPath)).toEqual(sample);
    const sealPath = path.join(scratch, 'seal.json');
    writeSealFile(sealPath, sample);
    expect(readKnowledgeFile(sealPath)).toEqual(sample);
    const v11 = toSquadV1(sample) as { data: { title: string; paragraphs: unknown[] }[] };
    expect(v11.data[0]!.title).toBe('Super Bowl 50');
    expect(v11.data[0]!.paragraphs.length).toBe(sample.filter((p) => p.title === 'Super Bowl 50').length);
  });
});

describe('bad input names the record', () => {
  const good = { title: 'Ada Lovel', context: 'Ada Lovel was born in Taviro.', questions: [{ question: 'Q?', answer: 'A' }] };

  it('missing field', () => {
    expect(() => parseSealPassages([good, { title: 'Bo Ka', questions: [] }], 'x.json')).toThrow(
      /x\.json: record 1 \(title "Bo Ka"\): context: missing/,
    );
  });

  it('empty passage', () => {
    expect(() => parseSealPassages([{ ...good, context: '  ' }], 'x.json')).toThrow(
      /record 0 \(title "Ada Lovel"\): context: passage \(context\) is empty/,
    );
  });

  it('question with no answer', () => {
    const bad = { ...good, questions: [{ question: 'Where?', answer: '' }, { question: 'When?' }] };
    expect(() => parseSealPassages([good, good, bad], 'x.json')).toThrow(
      /record 2 \(title "Ada Lovel"\): questions\[0\]\.answer: answer is empty; questions\[1\]\.answer: missing/,
    );
  });

  it('SQuAD v1.1 question without answers, and a non-array SEAL file', () => {
    const v11 = { data: [{ title: 'T', paragraphs: [{ context: 'c', qas: [{ question: 'q', answers: [] }] }] }] };
    expect(() => parseSquadV1(v11, 'dev.json')).toThrow(
      /dev\.json: SQuAD v1\.1 article 0 \(title "T"\), paragraph 0: .*question has no answer/,
    );
    expect(() => parseSealPassages({ nope: 1 }, 'y.json')).toThrow(KnowledgeDataError);
  });

  it('unreadable and non-JSON files', () => {
    const broken = path.join(scratch, 'broken.json');
    writeFileSync(broken, '[{"title": ');
    expect(() => readKnowledgeFile(broken)).toThrow(/broken\.json: not valid JSON/);
    expect(() => readKnowledgeFile(path.join(scratch, 'absent.json'))).toThrow(/absent\.json: cannot read/);
  });
});
