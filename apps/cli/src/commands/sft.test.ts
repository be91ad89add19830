/** @file `seal sft` as a child process: per-step JSON losses match PyTorch, the PEFT adapter lands in --out, bad input leaves --out untouched. */
import '@seal/engine/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadPeftAdapter } from '@seal/model';
import { runCli } from './run-cli';

const fixtures = join(import.meta.dirname, '..', '..', '..', '..', 'libs', 'model', 'src', 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'seal-cli-sft-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const ref = JSON.parse(readFileSync(join(fixtures, 'llama-fp32-reference.json'), 'utf8'));
const data = join(tmp, 'data.json');
writeFileSync(data, JSON.stringify({ input_ids: ref.input_ids, labels: ref.labels }));

describe('seal sft', () => {
  it('prints {"step","loss"} lines equal to PyTorch AdamW steps and writes a loadable PEFT adapter', async () => {
    const out = join(tmp, 'adapter');
    const { lr, weight_decay: wd, steps, losses } = ref.lora_sft;
    const res = await runCli(['sft', '--model', join(fixtures, 'llama-fp32'), '--adapter-init', join(fixtures, 'llama-fp32-adapter'), '--data', data,
      '--steps', String(steps), '--lr', String(lr), '--weight-decay', String(wd), '--out', out]);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3]);
    expect(lines.map((l) => l.loss)).toBeAllClose(losses, { atol: 1e-4, rtol: 1e-4 });
    const adapter = loadPeftAdapter(out, loadConfig(join(fixtures, 'llama-fp32')));
    expect([...adapter.pairs.keys()]).toHaveLength(4);
  });

  it('trains a fresh adapter from JSONL text with a schedule and batch size', async () => {
    const jsonl = join(tmp, 'text.jsonl');
    writeFileSync(jsonl, '{"text":"in the"}\n{"prompt":"the","completion":" in the"}\n');
    const out = join(tmp, 'fresh');
    const res = await runCli(['sft', '--model', join(fixtures, 'qwen2-fp32'), '--rank', '2', '--alpha', '4', '--targets', 'q_proj,v_proj,down_proj',
      '--data', jsonl, '--steps', '3', '--lr', '0.01', '--batch-size', '1', '--schedule', 'cosine', '--warmup', '1', '--out', out]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim().split('\n')).toHaveLength(3);
    expect(JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'))).toMatchObject({ r: 2, lora_alpha: 4, target_modules: ['q_proj', 'v_proj', 'down_proj'] });
  });

  it.each([
    ['an adapter of another shape', ['--adapter-init', join(fixtures, 'qwen2-fp32-adapter')], /adapter does not match the base model/],
    ['a label past the vocabulary', ['--rank', '2', '--alpha', '4', '--data-override'], /"labels"\[0\] = 999 is out of range/],
    ['neither an init nor a rank', [], /give --adapter-init DIR, or --rank R and --alpha A/],
  ])('exits non-zero on %s and writes nothing to --out', async (label, extra, message) => {
    const out = join(tmp, `bad-${label.replace(/\W/g, '')}`);
    let file = data;
    if (extra.includes('--data-override')) {
      file = join(tmp, 'bad-labels.json');
      writeFileSync(file, JSON.stringify({ input_ids: [[1, 2]], labels: [[999, 2]] }));
    }
    const args = extra.filter((a) => a !== '--data-override');
    const res = await runCli(['sft', '--model', join(fixtures, 'llama-fp32'), ...args, '--data', file, '--steps', '2', '--lr', '0.01', '--out', out]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
});
