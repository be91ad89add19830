/** @file Deterministic seed derivation, so a resumed run samples exactly what a straight run would. */
import { createHash } from 'node:crypto';

/** A 32-bit seed from a run seed and a path of labels (FNV would do; sha256 is already at hand and stable). */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  const digest = createHash('sha256').update(`${seed}\u0000${labels.join('\u0000')}`).digest();
  return digest.readUInt32LE(0);
}

/**
 * The version of how seeds are derived, journaled with each run: a run resumed under another scheme
 * would draw its remaining work differently and no longer equal a straight run. 1: an inner-loop
 * seed per self-edit; 2: per (round, passage), `evaluationSeed` below.
 */
export const SEED_SCHEME = 2;

/** The request seed the coordinator sends to the teacher for `round`'s generation. */
export const generationSeed = (seed: number, round: number) => deriveSeed(seed, 'generate', round);

/** The seed a teacher uses for self-edit `index` of `passageId` within one generation request. */
export const selfEditSeed = (requestSeed: number, passageId: string, index: number) =>
  deriveSeed(requestSeed, 'self-edit', passageId, index);

/**
 * The seed of the inner-loop updates of `passageId` in `round`: every edit of one passage (and its
 * passage-only baseline) starts from the same adapter draw. Common random numbers: best-of-K compares
 * edits of one passage, and with a seed per edit most of what separated them was the adapter draw
 * (BENCHMARKS.md, "the reward mostly measures the inner loop's luck"). The table's rows share it too.
 */
export const evaluationSeed = (seed: number, round: number, passageId: string) =>
  deriveSeed(seed, 'evaluate', round, passageId);

/** The seed of round `round`'s M-step. */
export const updateSeed = (seed: number, round: number) => deriveSeed(seed, 'update', round);

/** sha256 hex of bytes or a string. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
