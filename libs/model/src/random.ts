/** @file A small seeded RNG (xoshiro128**, seeded by splitmix32): same seed, same stream, on every platform. */

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform in [0, 1) with 24 bits of resolution (exactly representable in float32). */
  nextFloat(): number;
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number;
}

/** splitmix32 spreads a small integer seed over the 128-bit state so seeds 0, 1, 2… are uncorrelated. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export function createRng(seed: number): Rng {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const init = splitmix32(seed);
  const s = new Uint32Array([init(), init(), init(), init()]);
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
  const nextFloat = (): number => (nextUint32() >>> 8) / 16777216;
  return { nextUint32, nextFloat, uniform: (low, high) => low + (high - low) * nextFloat() };
}
