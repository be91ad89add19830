/** @file The CLI's small pure parts: integer option parsing and one-line failure messages. */
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { integerIn } from './commands/serve';
import { describeFailure } from './failure';

describe('cli helpers', () => {
  it('parses integer options within bounds and rejects the rest', () => {
    const port = integerIn(0, 65535);
    expect(port('0')).toBe(0);
    expect(port('50052')).toBe(50052);
    for (const bad of ['-1', '65536', '1.5', 'abc', '', '1e3']) expect(() => port(bad), bad).toThrow(InvalidArgumentError);
  });

  it('keeps only the first line of a failure', () => {
    expect(describeFailure(new Error('cannot listen on 127.0.0.1:1: address already in use\n    at stack'))).toBe('cannot listen on 127.0.0.1:1: address already in use');
    expect(describeFailure('plain')).toBe('plain');
  });
});
