/** @file boundedMap: the concurrency limit holds, results come in completion order, every input is answered once. */
import { describe, expect, it } from 'vitest';
import { boundedMap } from './bounded-map';

describe('boundedMap', () => {
  it('runs at most `limit` at once and yields in completion order', async () => {
    let active = 0;
    let peak = 0;
    const delays = [40, 5, 25, 5, 5];
    async function* inputs() {
      yield* delays.keys();
    }
    const out: number[] = [];
    for await (const i of boundedMap(inputs(), 2, async (i) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, delays[i]));
      active--;
      return i;
    })) out.push(i);
    expect(peak).toBe(2);
    expect([...out].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(out.indexOf(1)).toBeLessThan(out.indexOf(0));
  });

  it('ends at once on an empty stream', async () => {
    const out: number[] = [];
    for await (const x of boundedMap((async function* (): AsyncGenerator<number> {})(), 3, async (x) => x)) out.push(x);
    expect(out).toEqual([]);
  });
});
