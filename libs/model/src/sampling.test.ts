/** @file RNG golden values, logits processors against HF's semantics, seeded sampling. */
import { describe, expect, it } from 'vitest';
import { createRng } from './random';
import { argmax, categorical, processorsFor, samplerFor, softmax, temperature, topK, topP } from './sampling';

const logitsOf = (probs: number[]) => Float32Array.from(probs.map(Math.log));
const kept = (row: Float32Array) => [...row.keys()].filter((i) => row[i] !== -Infinity);

describe('random', () => {
  it('matches an independent Python xoshiro128** + splitmix32 (golden values)', () => {
    const rng = createRng(42);
    expect(Array.from({ length: 5 }, () => rng.nextUint32())).toEqual([2837322924, 544945897, 479756282, 3500138142, 339756180]);
    const zero = createRng(0);
    expect(Array.from({ length: 3 }, () => zero.nextUint32())).toEqual([3809008728, 1133695204, 53579671]);
  });
  it('floats are uniform in [0, 1)', () => {
    const rng = createRng(7);
    const xs = Array.from({ length: 20000 }, () => rng.nextFloat());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(Math.abs(xs.reduce((a, b) => a + b) / xs.length - 0.5)).toBeLessThan(0.01);
  });
});

describe('logits processors', () => {
  it('temperature divides', () => {
    expect([...temperature(2)(Float32Array.from([2, -4]))]).toEqual([1, -2]);
    expect(() => temperature(0)).toThrow(/temperature/);
  });
  it('top-k keeps the k largest (ties at the k-th kept)', () => {
    expect(kept(topK(2)(Float32Array.from([1, 5, 3, 5])))).toEqual([1, 3]);
    expect(kept(topK(2)(Float32Array.from([1, 5, 3, 3])))).toEqual([1, 2, 3]);
  });
  it('top-p keeps the smallest set reaching p, HF-style', () => {
    const probs = [0.05, 0.5, 0.15, 0.3];
    expect(kept(topP(0.7)(logitsOf(probs)))).toEqual([1, 3]);
    expect(kept(topP(0.9)(logitsOf(probs)))).toEqual([1, 2, 3]);
    expect(kept(topP(0.01)(logitsOf(probs)))).toEqual([1]); // always keeps the most likely
    expect(kept(topP(1)(logitsOf(probs)))).toEqual([0, 1, 2, 3]);
  });
  it('chain order is temperature → top-k → top-p', () => {
    // After T=0.5 the probs sharpen to ≈[0.01, 0.66, 0.06, 0.24]; top-k 3 drops id 0; top-p 0.8 keeps 1 and 3.
    expect(kept(processorsFor({ temperature: 0.5, topK: 3, topP: 0.8 })(logitsOf([0.05, 0.5, 0.15, 0.3])))).toEqual([1, 3]);
  });
});

describe('samplers', () => {
  it('temperature 0 is argmax (first max on ties)', () => {
    expect(samplerFor({ temperature: 0 }, createRng(1))(Float32Array.from([1, 9, 9, 2]))).toBe(1);
    expect(argmax(Float32Array.from([-1, -1]))).toBe(0);
  });
  it('categorical draws follow the distribution and never pick masked tokens', () => {
    const draw = categorical(createRng(3));
    const probs = [0.1, 0.6, 0.3];
    const counts = [0, 0, 0, 0];
    const row = Float32Array.from([...probs.map(Math.log), -Infinity]);
    for (let i = 0; i < 20000; i++) counts[draw(row)]++;
    probs.forEach((p, i) => expect(Math.abs(counts[i] / 20000 - p)).toBeLessThan(0.015));
    expect(counts[3]).toBe(0);
  });
  it('same seed, same tokens; different seed, different tokens; input row untouched', () => {
    const row = Float32Array.from(softmax(Float32Array.from([0, 1, 2, 3, 2, 1, 0])).map(Math.log));
    const copy = Float32Array.from(row);
    const run = (seed: number) => {
      const sample = samplerFor({ temperature: 1.3, topP: 0.95, topK: 6 }, createRng(seed));
      return Array.from({ length: 32 }, () => sample(row));
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
    expect(row).toEqual(copy);
  });
});
