/** @file `toBeAllClose`: elementwise |a − e| ≤ atol + rtol·|e| with a failure message that says where and by how much. */
import { expect } from 'vitest';
import type { HostTensor } from '../ir/dtype';

export interface CloseOptions {
  rtol?: number;
  atol?: number;
}

type Numbers = HostTensor | ArrayLike<number | bigint> | number;

function flat(x: Numbers): { values: number[]; shape?: number[] } {
  if (typeof x === 'number') return { values: [x] };
  if ('data' in x && 'shape' in x) return { values: Array.from(x.data as ArrayLike<number | bigint>, Number), shape: x.shape };
  return { values: Array.from(x as ArrayLike<number | bigint>, Number) };
}

export interface CloseReport {
  pass: boolean;
  message: string;
  maxAbs: number;
  maxRel: number;
}

/** Compares two tensors (or arrays); NaN matches only NaN, ±Inf only the same infinity. */
export function compareAllClose(actual: Numbers, expected: Numbers, { rtol = 1e-5, atol = 1e-8 }: CloseOptions = {}): CloseReport {
  const a = flat(actual);
  const e = flat(expected);
  if (a.shape && e.shape && a.shape.join(',') !== e.shape.join(',')) {
    return { pass: false, maxAbs: Infinity, maxRel: Infinity, message: `shape [${a.shape}] differs from expected [${e.shape}]` };
  }
  if (a.values.length !== e.values.length) {
    return { pass: false, maxAbs: Infinity, maxRel: Infinity, message: `${a.values.length} values, expected ${e.values.length}` };
  }
  let maxAbs = 0, maxRel = 0, absAt = -1, relAt = -1, bad = 0, firstBad = -1;
  for (let i = 0; i < a.values.length; i++) {
    const x = a.values[i], y = e.values[i];
    if (Number.isNaN(x) || Number.isNaN(y) || !Number.isFinite(x) || !Number.isFinite(y)) {
      if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) {
        bad++;
        if (firstBad < 0) firstBad = i;
        maxAbs = Infinity;
        absAt = i;
      }
      continue;
    }
    const d = Math.abs(x - y);
    const r = d / Math.max(Math.abs(y), Number.MIN_VALUE);
    if (d > maxAbs) [maxAbs, absAt] = [d, i];
    if (r > maxRel && d > 0) [maxRel, relAt] = [r, i];
    if (d > atol + rtol * Math.abs(y)) {
      bad++;
      if (firstBad < 0) firstBad = i;
    }
  }
  const show = (i: number) => (i < 0 ? '-' : `index ${i} (actual ${a.values[i]}, expected ${e.values[i]})`);
  const message =
    `${bad} of ${a.values.length} elements differ beyond atol=${atol} rtol=${rtol}; ` +
    `max abs diff ${maxAbs.toExponential(3)} at ${show(absAt)}; max rel diff ${maxRel.toExponential(3)} at ${show(relAt)}; ` +
    `first failing ${show(firstBad)}`;
  return { pass: bad === 0, message, maxAbs, maxRel };
}

expect.extend({
  toBeAllClose(received: Numbers, expected: Numbers, opts?: CloseOptions) {
    const r = compareAllClose(received, expected, opts);
    return { pass: r.pass, message: () => (r.pass ? `expected values not to be all close: ${r.message}` : r.message) };
  },
});

declare module 'vitest' {
  interface Assertion<T = any> {
    toBeAllClose(expected: Numbers, opts?: CloseOptions): T;
  }
  interface AsymmetricMatchersContaining {
    toBeAllClose(expected: Numbers, opts?: CloseOptions): void;
  }
}
