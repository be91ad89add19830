/** @file `seal generate` as a child process: greedy output equals the PyTorch golden tokens' text; seeded sampling is reproducible. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { generate, LanguageModel } from '@seal/model';
import { runCli } from './run-cli';

const fixtures = join(import.meta.dirname, '..', '..', '..', '..', 'libs', 'model', 'src', 'fixtures');

describe('seal generate', () => {
  it('streams exactly the text the library generates (greedy; the library is checked against PyTorch golden ids)', async () => {
    const dir = join(fixtures, 'llama-fp32');
    const model = LanguageModel.load(dir);
    try {
      const expected = await generate(model, [model.tokenizer!.encode('in the')], { temperature: 0, maxNewTokens: 6 });
      const res = await runCli(['generate', '--model', dir, '--prompt', 'in the', '--max-new-tokens', '6', '--temperature', '0', '--top-p', '1', '--seed', '0']);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toBe(`${expected.texts[0]}\n`);
    } finally {
      await model.release();
    }
  });

  it('the same seed streams the same text; --chat uses the template', async () => {
    const args = ['generate', '--model', join(fixtures, 'qwen2-fp32'), '--prompt', 'in the', '--chat', '--max-new-tokens', '8', '--temperature', '0.9', '--top-p', '0.95', '--seed', '7'];
    const [a, b] = await Promise.all([runCli(args), runCli(args)]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it('exits non-zero on a bad flag value', async () => {
    const res = await runCli(['generate', '--model', join(fixtures, 'qwen2-fp32'), '--prompt', 'x', '--max-new-tokens', 'ten', '--temperature', '0', '--top-p', '1', '--seed', '0']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/--max-new-tokens must be an integer, got "ten"/);
  });
});
