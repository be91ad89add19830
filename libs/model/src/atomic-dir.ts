/** @file Writes an output directory all-or-nothing: fill a sibling temp dir, then rename it into place. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export class OutputDirError extends Error {
  override name = 'OutputDirError';
}

/** Throws unless `out` is absent, empty, or holds only `replaceable` files; call it before long work. */
export function checkOutputDir(out: string, replaceable: readonly string[]): void {
  const target = resolve(out);
  if (!existsSync(target)) return;
  if (!statSync(target).isDirectory()) throw new OutputDirError(`${out}: exists and is not a directory`);
  const foreign = readdirSync(target).filter((f) => !replaceable.includes(f));
  if (foreign.length) throw new OutputDirError(`${out}: refusing to replace a directory holding other files (${foreign.slice(0, 5).join(', ')})`);
}

/**
 * Calls `fill(tmpDir)`, then moves tmpDir to `out`. If `fill` throws, nothing is left behind. An
 * existing `out` is replaced only when it is empty or holds nothing but files named in `replaceable`
 * (a previous result of the same kind), so a typo in `--out` never deletes unrelated work.
 */
export function writeDirAtomically(out: string, replaceable: readonly string[], fill: (tmpDir: string) => void): void {
  checkOutputDir(out, replaceable);
  const target = resolve(out);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const tmp = mkdtempSync(join(parent, `.${basename(target)}.tmp-`));
  try {
    fill(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (!existsSync(target)) {
    renameSync(tmp, target);
    return;
  }
  // Swap: the old directory moves aside first, so `out` is never a mix of old and new files.
  const trash = `${tmp}.old`;
  renameSync(target, trash);
  renameSync(tmp, target);
  rmSync(trash, { recursive: true, force: true });
}
