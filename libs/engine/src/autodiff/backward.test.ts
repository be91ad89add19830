/** @file The walker's accumulation: slices of one tensor get their gradients joined by Concat (not padded and added), checked numerically. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toposort } from '../ir/graph';
import { input, type Tensor } from '../frontend/tensor';
import { Rng } from '../random';
import { createRuntime, type Runtime } from '../runtime/runtime';
import { gradCheck } from '../testing/grad-check';
import { grad } from './backward';

const rng = new Rng(99);
const opsOf = (ts: Tensor[]) => toposort(ts).map((t) => t.op);

describe('gradient accumulation over slices', () => {
  let rt: Runtime;
  beforeAll(() => (rt = createRuntime({ intraOpThreads: 1 })));
  afterAll(() => rt.release());

  // q/k/v-style split: three adjacent slices used by different functions.
  const splitThree = (x: Tensor) => {
    const [a, b, c] = x.split([2, 3, 1], 1);
    return a.mul(3).concatWith(b.exp(), c.mul(-2));
  };

  it('joins adjacent slice gradients with one Concat and no Pad or Add', () => {
    const x = input('x', [4, 6], 'float64');
    const [g] = grad(splitThree(x).sum(), [x]);
    const ops = opsOf([g]);
    expect(ops).toContain('Concat');
    expect(ops).not.toContain('Pad');
    expect(ops.filter((o) => o === 'Add')).toHaveLength(0);
  });

  it('pads a partial cover once and adds what is not a slice', () => {
    const x = input('x', [4, 6], 'float64');
    const [, b, c] = x.split([2, 3, 1], 1);
    const [g] = grad(c.mul(b.sum([1], true)).sum().add(x.exp().sum()), [x]);
    const ops = opsOf([g]);
    expect(ops.filter((o) => o === 'Pad')).toHaveLength(1); // slices 1 and 2 joined, then padded once
    expect(ops.filter((o) => o === 'Add')).toHaveLength(1); // plus the exp(x) term
  });

  it('matches finite differences for split, gaps and out-of-order slices', async () => {
    const gaps = (x: Tensor) => {
      const right = x.slice([4], [6], [1]); // used first: arrives before the left slice
      const left = x.slice([0], [2], [1]); // columns 2..3 get no gradient
      return right.square().concatWith(left.mul(left), x.slice([1], [5], [1]).sigmoid());
    };
    for (const build of [splitThree, gaps]) {
      const r = await gradCheck(rt, build, [rng.normalTensor([3, 6], 1, 'float64')]);
      expect(r.maxError, r.worst).toBeLessThan(1e-6);
    }
  });
});
