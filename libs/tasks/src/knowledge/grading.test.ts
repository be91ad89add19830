/** @file Tests for normalised exact-match / containment grading. */
import { describe, expect, it } from 'vitest';
import { accuracy, answerMatches, createMatchGrader, normalizeAnswer } from './grading';

describe('answer grading', () => {
  it('normalises case, punctuation, articles and spaces', () => {
    expect(normalizeAnswer('  The  Velora-College. ')).toBe('velora college');
    expect(normalizeAnswer('1980s!')).toBe('1980s');
  });

  it('exact mode needs the whole answer and nothing else', () => {
    expect(answerMatches('Kelland.', 'Kelland', 'exact')).toBe(true);
    expect(answerMatches('in Kelland', 'Kelland', 'exact')).toBe(false);
  });

  it('contains mode accepts a whole-word run on the first line only', () => {
    expect(answerMatches('born in the 1980s', '1980s')).toBe(true);
    expect(answerMatches('198', '1980s')).toBe(false);
    expect(answerMatches('Kellandia', 'Kelland')).toBe(false);
    expect(answerMatches('\nVelora College\nQuestion: Kelland', 'Kelland')).toBe(false);
    expect(answerMatches('Velora College', 'velora college')).toBe(true);
  });

  it('an empty prediction or gold is wrong', () => {
    expect(answerMatches('', 'Kelland')).toBe(false);
    expect(answerMatches(' ... ', 'Kelland')).toBe(false);
    expect(answerMatches('Kelland', '  ')).toBe(false);
  });

  it('the match grader grades a batch in order; accuracy refuses zero questions', async () => {
    const grader = createMatchGrader();
    const verdicts = await grader.grade([
      { question: 'q', gold: 'mining', prediction: 'mining' },
      { question: 'q', gold: 'mining', prediction: 'shipping' },
    ]);
    expect(verdicts).toEqual([true, false]);
    expect(accuracy(verdicts)).toBe(0.5);
    expect(() => accuracy([])).toThrow(/zero questions/);
  });
});
