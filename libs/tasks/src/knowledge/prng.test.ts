/** @file Tests for the seeded PRNG: determinism, ranges and rough uniformity. */
import { describe, expect, it } from 'vitest';
import { Prng } from './prng';

describe('Prng', () => {
  it('gives the same stream for the same seed and a different one for another seed', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it('pins the first outputs so a silent change of algorithm is caught', () => {
    const r = new Prng(1);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([1828152527, 3394835397, 2967886022]);
  });

  it('int stays in range and is roughly uniform', () => {
    const r = new Prng(7);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20000; i++) counts[r.int(10)]!++;
    for (const n of counts) {
      expect(n).toBeGreaterThan(1800);
      expect(n).toBeLessThan(2200);
    }
  });

  it('shuffle is a permutation and sample gives distinct items', () => {
    const r = new Prng(3);
    const xs = Array.from({ length: 50 }, (_, i) => i);
    expect(r.shuffle(xs).slice().sort((a, b) => a - b)).toEqual(xs);
    expect(new Set(r.sample(xs, 20)).size).toBe(20);
    expect(() => r.sample(xs, 51)).toThrow(/51 of 50/);
  });

  it('rejects bad arguments with a clear error', () => {
    expect(() => new Prng(1.5)).toThrow(/integer/);
    expect(() => new Prng(1).int(0)).toThrow(/positive integer/);
    expect(() => new Prng(1).pick([])).toThrow(/empty/);
  });
});
