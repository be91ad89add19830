/** @file Seeded randomness for initialisation and tests (xoshiro128** + Box–Muller): same seed, same numbers, everywhere. */
import { hostTensor, numel, type DType, type HostTensor } from './ir/dtype';

export class Rng {
  private s: Uint32Array;

  constructor(seed: number) {
    // splitmix32 expands the seed into the four words of state.
    this.s = new Uint32Array(4);
    let z = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
      this.s[i] = (t ^ (t >>> 16)) >>> 0;
    }
  }

  /** Uniform in [0, 1), 32 bits of randomness. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** The next raw 32-bit output, unsigned. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Standard normal (Box–Muller, one value per call). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  normalArray(n: number, std = 1): number[] {
    return Array.from({ length: n }, () => this.normal() * std);
  }

  normalTensor(shape: number[], std = 1, dtype: DType = 'float32'): HostTensor {
    return hostTensor(dtype, shape, this.normalArray(numel(shape), std));
  }

  uniformTensor(shape: number[], lo: number, hi: number, dtype: DType = 'float32'): HostTensor {
    return hostTensor(dtype, shape, Array.from({ length: numel(shape) }, () => lo + (hi - lo) * this.uniform()));
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
