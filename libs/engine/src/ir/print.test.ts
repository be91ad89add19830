/** @file printGraph: one line per node with op, sources, params and type. */
import { describe, expect, it } from 'vitest';
import { input } from '../frontend/tensor';
import { printGraph } from './print';

describe('printGraph', () => {
  it('prints nodes in order with inputs by name', () => {
    const x = input('x', ['B', 3]);
    const y = x.mul(2).sum([1]);
    expect(printGraph({ y })).toBe([
      'v0 = Constant() [2] : float32[]',
      'v1 = Mul(x, v0) : float32[B, 3]',
      'v2 = ReduceSum(v1) {"axes":[1],"keepdims":false} : float32[B]',
      'y <- v2',
    ].join('\n'));
  });
});
