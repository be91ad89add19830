/** @file `seal eval knowledge`: argument errors name the flag, and the committed model scores a passage end to end. */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR, evalKnowledge, register } from './eval';

function parse(args: string[]): Promise<unknown> {
  const program = new Command('seal').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  register(program);
  return program.parseAsync(['node', 'seal', 'eval', 'knowledge', ...args]);
}

describe('seal eval knowledge', () => {
  it('names an unknown condition, a bad split, a bad limit and a missing model folder', async () => {
    await expect(parse(['--condition', 'base,magic'])).rejects.toThrow('--condition: unknown condition "magic" (expected base, passage, self-edit, oracle)');
    await expect(parse(['--condition', 'base', '--split', 'train'])).rejects.toThrow('--split: unknown split "train" (expected val or test)');
    await expect(parse(['--condition', 'base', '--limit', '0'])).rejects.toThrow('--limit must be a positive integer, got "0"');
    await expect(parse(['--condition', 'base', '--model', '/nonexistent/model'])).rejects.toThrow('--model: /nonexistent/model does not exist');
    await expect(parse([])).rejects.toThrow(/--condition: give at least one/);
  });

  it.runIf(existsSync(DEFAULT_MODEL_DIR))('scores one test passage on the committed model (base and passage rows)', async () => {
    const rows = await evalKnowledge({ model: DEFAULT_MODEL_DIR, conditions: ['base', 'passage'], split: 'test', limit: 1, samples: 1, students: 1, capacity: 1, seed: 0, progress: false });
    expect(rows.map((r) => r.condition)).toEqual(['base', 'passage']);
    for (const r of rows) {
      expect(r.n_passages).toBe(1);
      expect(r.n_questions).toBeGreaterThanOrEqual(4);
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
      expect(r.failures).toBe(0);
    }
  }, 60_000);
});
