/** @file Where tests find the real SEAL data files (`../shared/data` beside the repository root). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file holding pnpm-workspace.yaml. */
function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'pnpm-workspace.yaml'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (no pnpm-workspace.yaml above libs/tasks)');
    dir = parent;
  }
  return dir;
}

export const repoRoot = findRepoRoot();

/** Absolute path of a file under the shared data folder, e.g. `squad/squad_val.json`. */
export function sharedDataPath(relative: string): string {
  const full = path.resolve(repoRoot, '../shared/data', relative);
  if (!existsSync(full)) throw new Error(`shared data file missing: ${full} (CI provides ../shared/data beside the repo)`);
  return full;
}
