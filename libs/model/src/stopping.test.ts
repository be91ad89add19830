/** @file Stop criteria and the stop-string helpers used by streaming. */
import { describe, expect, it } from 'vitest';
import { anyCriterion, eosCriterion, maxNewTokensCriterion, safePrefixLength, stopStringCriterion, truncateAtStop } from './stopping';

describe('stopping', () => {
  const stop = anyCriterion(eosCriterion([2, 7]), stopStringCriterion(['\n\n', 'END']), maxNewTokensCriterion(4));
  it.each([
    [[5], 'a', null],
    [[5, 7], 'ab', 'eos'],
    [[5, 6], 'a\n\nb', 'stop_string'],
    [[5, 6, 8], 'xEND', 'stop_string'],
    [[5, 6, 8, 9], 'abcd', 'max_new_tokens'],
  ] as const)('%j / %j → %s', (tokens, text, reason) => {
    expect(stop({ tokens, text })).toBe(reason);
  });
  it('truncates at the earliest stop string', () => {
    expect(truncateAtStop('abc END d\n\n', ['\n\n', 'END'])).toBe('abc ');
    expect(truncateAtStop('abc', ['x', ''])).toBe('abc');
  });
  it('holds back a tail that could become a stop string', () => {
    expect(safePrefixLength('hello EN', ['END'])).toBe(6);
    expect(safePrefixLength('hello E', ['END', 'Eve'])).toBe(6);
    expect(safePrefixLength('hello', ['END'])).toBe(5);
  });
  it('rejects a non-positive token budget', () => {
    expect(() => maxNewTokensCriterion(0)).toThrow(/max new tokens/);
  });
});
