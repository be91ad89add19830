/**
 * @file Tests for SEAL's self-edit → training-sequence rules, on hand-made edge cases and on the
 * 3 × 1000 real completions (counts cross-checked with an independent Python port of the rule).
 */
import { describe, expect, it } from 'vitest';
import { sharedDataPath } from '../testing/shared-data';
import { readSelfEditFile } from './squad';
import { buildTrainSequences, selfEditExamples } from './train-sequences';

const passage = { title: 'Ada Lovel', context: '  Ada Lovel was born in Taviro.  ' };

describe('buildTrainSequences rules', () => {
  it('an empty completion is the passage-only baseline', () => {
    expect(buildTrainSequences(passage, '')).toEqual(['Ada Lovel\nAda Lovel was born in Taviro.']);
    expect(buildTrainSequences(passage, ' \n ')).toHaveLength(1);
  });

  it('one line per example, title prefixed, passage last', () => {
    expect(buildTrainSequences(passage, 'She is from Kelland.\n\n  She works in mining. \n')).toEqual([
      'Ada Lovel\nShe is from Kelland.',
      'Ada Lovel\nShe works in mining.',
      'Ada Lovel\nAda Lovel was born in Taviro.',
    ]);
  });

  it('drops a preamble before a numbered list, and only then', () => {
    expect(selfEditExamples('Sure, here are some implications:\n1. A\n2. B')).toEqual(['1. A', '2. B']);
    expect(selfEditExamples('Intro line\nA\n1. B')).toEqual(['Intro line', 'A', '1. B']);
  });

  it('splits on --- first, and keeps segments whole without newline splitting (CPT)', () => {
    const completion = 'one\ntwo\n---\nthree\n---\n\n---';
    expect(selfEditExamples(completion)).toEqual(['one', 'two', 'three']);
    expect(selfEditExamples(completion, { splitNewlines: false })).toEqual(['one\ntwo', 'three']);
    // SEAL's fallback: nothing left after splitting → the whole completion, trimmed.
    expect(selfEditExamples(' --- ')).toEqual(['---']);
  });

  it('self-QA completions keep question and answer together and get "Question 1:" back', () => {
    const completion = 'Where was Ada born?\nAnswer: Taviro\nQuestion 2: Which country?\nAnswer: Kelland';
    expect(selfEditExamples(completion)).toEqual([
      'Question 1: Where was Ada born?\nAnswer: Taviro',
      'Question 2: Which country?\nAnswer: Kelland',
    ]);
  });
});

describe('on the real SEAL self-edits', () => {
  // Totals over 200 passages × 5 completions, from an independent Python port of utils.build_train_sequences.
  const expected: Record<string, { lines: number; cpt: number }> = {
    'base_val.json': { lines: 8418, cpt: 2000 },
    'iter2_val.json': { lines: 7740, cpt: 2000 },
    'gpt4_1_val.json': { lines: 15023, cpt: 2082 },
  };
  for (const [file, counts] of Object.entries(expected)) {
    it(`${file}: ${counts.lines} sequences split on lines, ${counts.cpt} for CPT`, () => {
      const records = readSelfEditFile(sharedDataPath(`squad/${file}`));
      let lines = 0;
      let cpt = 0;
      for (const record of records) {
        for (const completion of record.completions) {
          const sequences = buildTrainSequences(record, completion);
          expect(sequences.at(-1)).toBe(`${record.title}\n${record.context.trim()}`);
          lines += sequences.length;
          cpt += buildTrainSequences(record, completion, { splitNewlines: false }).length;
        }
      }
      expect(lines).toBe(counts.lines);
      expect(cpt).toBe(counts.cpt);
    });
  }

  it('GPT-4.1 edits: the "**Implications:**" preamble goes, --- segments split (record 1)', () => {
    const records = readSelfEditFile(sharedDataPath('squad/gpt4_1_val.json'));
    const first = buildTrainSequences(records[0]!, records[0]!.completions[0]!);
    expect(first).toHaveLength(15);
    expect(first[0]).toBe('Genghis Khan\n1. The Shah’s army suffered from internal divisions and feuding, weakening their overall effectiveness.');
    const withSeparators = records[1]!.completions[0]!;
    expect(withSeparators).toContain('---');
    expect(buildTrainSequences(records[1]!, withSeparators)).toHaveLength(24);
    expect(buildTrainSequences(records[1]!, withSeparators, { splitNewlines: false })).toHaveLength(4);
  });
});
