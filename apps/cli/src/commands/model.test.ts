/** @file `seal model logits` as a child process: stdout is exactly the logits JSON (PyTorch parity), bad input exits non-zero naming the field. */
import '@seal/engine/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile } from '@seal/model';
import { runCli } from './run-cli';

const fixtures = join(import.meta.dirname, '..', '..', '..', '..', 'libs', 'model', 'src', 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'seal-cli-model-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const reference = (name: string) => SafetensorsFile.open(join(fixtures, `${name}-reference.safetensors`));
const inputIds = (name: string): number[][] => JSON.parse(readFileSync(join(fixtures, `${name}-reference.json`), 'utf8')).input_ids;

describe('seal model logits', () => {
  it('prints only {"logits": number[B][T][V]} matching PyTorch, with and without an adapter', async () => {
    const input = join(tmp, 'in.json');
    writeFileSync(input, JSON.stringify({ input_ids: inputIds('qwen2-bf16') }));
    const base = await runCli(['model', 'logits', '--model', join(fixtures, 'qwen2-bf16'), '--input', input]);
    expect(base.code, base.stderr).toBe(0);
    const { logits } = JSON.parse(base.stdout);
    expect([logits.length, logits[0].length, logits[0][0].length]).toEqual([2, 7, 272]);
    expect(Float32Array.from(logits.flat(2))).toBeAllClose(reference('qwen2-bf16').read('logits'), { atol: 1e-4, rtol: 1e-4 });
    const adapted = await runCli(['model', 'logits', '--model', join(fixtures, 'qwen2-bf16'), '--adapter', join(fixtures, 'qwen2-bf16-adapter'), '--input', input]);
    expect(adapted.code, adapted.stderr).toBe(0);
    expect(Float32Array.from(JSON.parse(adapted.stdout).logits.flat(2))).toBeAllClose(reference('qwen2-bf16').read('lora_logits'), { atol: 1e-4, rtol: 1e-4 });
  });

  it.each([
    ['ragged rows', { input_ids: [[1, 2], [3]] }, /in-ragged.json: field "input_ids" must be rectangular/],
    ['an id past the vocabulary', { input_ids: [[1, 272]] }, /input_ids\[0\]\[1\] = 272 is out of range/],
  ])('exits non-zero on %s, naming the field', async (_label, body, message) => {
    const input = join(tmp, `in-${_label.split(' ')[0] === 'ragged' ? 'ragged' : _label.length}.json`);
    writeFileSync(input, JSON.stringify(body));
    const out = await runCli(['model', 'logits', '--model', join(fixtures, 'llama-fp32'), '--input', input]);
    expect(out.code).not.toBe(0);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(message);
  });

  it('exits non-zero on an adapter whose shapes do not match the base', async () => {
    const input = join(tmp, 'in-ok.json');
    writeFileSync(input, JSON.stringify({ input_ids: [[1, 2]] }));
    const out = await runCli(['model', 'logits', '--model', join(fixtures, 'llama-fp32'), '--adapter', join(fixtures, 'qwen2-fp32-adapter'), '--input', input]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/adapter does not match the base model[\s\S]*v_proj.lora_B.weight: expected \[16,4\]/);
  });
});

describe('seal model merge', () => {
  it('writes a checkpoint whose logits equal base + adapter', async () => {
    const out = join(tmp, 'merged');
    const merged = await runCli(['model', 'merge', '--model', join(fixtures, 'llama-fp32'), '--adapter', join(fixtures, 'llama-fp32-adapter'), '--out', out]);
    expect(merged.code, merged.stderr).toBe(0);
    const input = join(tmp, 'in-merge.json');
    writeFileSync(input, JSON.stringify({ input_ids: inputIds('llama-fp32') }));
    const res = await runCli(['model', 'logits', '--model', out, '--input', input]);
    expect(res.code, res.stderr).toBe(0);
    expect(Float32Array.from(JSON.parse(res.stdout).logits.flat(2))).toBeAllClose(reference('llama-fp32').read('lora_logits'), { atol: 1e-4, rtol: 1e-4 });
  });
});
