/** @file Tests that the prompts are SEAL's, character for character. */
import { describe, expect, it } from 'vitest';
import { sharedDataPath } from '../testing/shared-data';
import { gradingPrompt, isSelfEditStyle, questionPrompt, SELF_EDIT_STYLES, selfEditPrompt } from './prompts';
import { readSelfEditFile } from './squad';

const passage = { title: 'Ada Lovel', context: 'Ada Lovel was born in Taviro. $& stays literal.' };

describe('self-edit prompts', () => {
  it('reproduces the exact prompt stored with the real base-model self-edits', () => {
    for (const record of readSelfEditFile(sharedDataPath('squad/base_val.json')).slice(0, 20)) {
      expect(selfEditPrompt(record, 'implications')).toBe(record.prompt);
    }
  });

  it('has the five styles, each with the passage in place', () => {
    expect(SELF_EDIT_STYLES).toHaveLength(5);
    for (const style of SELF_EDIT_STYLES) {
      expect(selfEditPrompt(passage, style)).toContain('\n\nPassage:\nAda Lovel\nAda Lovel was born in Taviro. $& stays literal.\n\n');
    }
    expect(selfEditPrompt(passage, 'implications-long')).toMatch(/^Let's read the following passage and produce a long list of implications/);
    expect(selfEditPrompt(passage, 'implications-very-long')).toMatch(/produce a very long list of implications/);
    expect(selfEditPrompt(passage, 'rewrite')).toMatch(/each one separated by a newline\.\n\n.*\n\nRewritten passages:\n$/s);
    expect(selfEditPrompt(passage, 'self-qa')).toMatch(/question-answer format\.\n\n.*\n\nQuestion 1: $/s);
  });

  it('rejects an unknown style by name', () => {
    expect(isSelfEditStyle('rewrite')).toBe(true);
    expect(isSelfEditStyle('summary')).toBe(false);
    expect(() => selfEditPrompt(passage, 'summary' as never)).toThrow(/unknown self-edit style "summary"/);
  });
});

describe('question and grading prompts', () => {
  it('closed-book question with the topic line', () => {
    expect(questionPrompt('Ada Lovel', 'In which country was Ada Lovel born?')).toBe(
      "Let's answer a question directly and concisely.\nQuestion: Topic: Ada Lovel\nIn which country was Ada Lovel born?\nAnswer:\n",
    );
  });

  it('grading prompt ends with the yes/no instruction and trims the prediction', () => {
    const prompt = gradingPrompt('Q?', 'Kelland', '  Kelland \n');
    expect(prompt).toMatch(/^You are a grading assistant\./);
    expect(prompt).toContain('\n\nQuestion: Q?\nGold answer: Kelland\nStudent answer: Kelland\n');
    expect(prompt).toMatch(/Respond 'yes' or 'no'\.$/);
  });
});
