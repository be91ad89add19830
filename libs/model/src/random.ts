/** @file The sampler's and PEFT init's seeded RNG: the engine's xoshiro128** (splitmix32-seeded) behind a small interface with float helpers. */
import { Rng as EngineRng } from '@seal/engine';

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform in [0, 1) with 24 bits of resolution (exactly representable in float32). */
  nextFloat(): number;
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number;
}

export function createRng(seed: number): Rng {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  // The engine's generator: the same xoshiro128** stream, seeded by splitmix32.
  const rng = new EngineRng(seed);
  const nextUint32 = (): number => rng.nextUint32();
  const nextFloat = (): number => (nextUint32() >>> 8) / 16777216;
  return { nextUint32, nextFloat, uniform: (low, high) => low + (high - low) * nextFloat() };
}
