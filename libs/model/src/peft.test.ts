/** @file PEFT adapters: fixture load, byte-level round trip, PEFT init statistics, mismatch errors, atomic writes. */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config';
import { initLoraAdapter, loadPeftAdapter, resolveTargets, savePeftAdapter } from './peft';
import { readAll, SafetensorsFile, writeSafetensors } from './safetensors';

const fixtures = join(import.meta.dirname, 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'seal-peft-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const llama = loadConfig(join(fixtures, 'llama-fp32'));
const qwen = loadConfig(join(fixtures, 'qwen2-fp32'));

describe('peft', () => {
  it('loads the fixture adapters: q,v on Llama (r 4, α 8), every linear on Qwen2', () => {
    const a = loadPeftAdapter(join(fixtures, 'llama-fp32-adapter'), llama);
    expect([...a.pairs.keys()]).toEqual(['layers.0.attn.q', 'layers.0.attn.v', 'layers.1.attn.q', 'layers.1.attn.v']);
    expect(a.scale).toBe(2);
    expect(a.pairs.get('layers.0.attn.v')!.a.shape).toEqual([32, 4]);
    expect(a.pairs.get('layers.0.attn.v')!.b.shape).toEqual([4, 16]);
    expect(loadPeftAdapter(join(fixtures, 'qwen2-fp32-adapter'), qwen).pairs.size).toBe(14);
  });

  it('round-trips to the same PEFT tensors and config', () => {
    const src = join(fixtures, 'qwen2-fp32-adapter');
    const out = join(tmp, 'rt');
    savePeftAdapter(out, qwen, loadPeftAdapter(src, qwen), { baseModel: 'tiny-qwen2' });
    const before = readAll(SafetensorsFile.open(join(src, 'adapter_model.safetensors')));
    const after = readAll(SafetensorsFile.open(join(out, 'adapter_model.safetensors')));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [k, t] of before) expect(after.get(k)).toEqual(t);
    const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, base_model_name_or_path: 'tiny-qwen2', bias: 'none' });
    expect(config.target_modules).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
  });

  it('initialises like PEFT: B = 0, A ~ U(±1/√in), reproducible per seed', () => {
    const a = initLoraAdapter(llama, { r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj'] }, 11);
    const pair = a.pairs.get('layers.1.attn.q')!;
    expect(pair.b.data.every((x) => x === 0)).toBe(true);
    const bound = 1 / Math.sqrt(32);
    const xs = [...a.pairs.values()].flatMap((p) => [...p.a.data]);
    expect(Math.max(...xs.map(Math.abs))).toBeLessThanOrEqual(bound);
    const variance = xs.reduce((s, x) => s + x * x, 0) / xs.length;
    expect(Math.abs(variance / (bound * bound / 3) - 1)).toBeLessThan(0.1);
    expect(initLoraAdapter(llama, a.config, 11).pairs.get('layers.1.attn.q')!.a.data).toEqual(pair.a.data);
    expect(initLoraAdapter(llama, a.config, 12).pairs.get('layers.1.attn.q')!.a.data).not.toEqual(pair.a.data);
  });

  it('resolves PEFT target_modules: names, full paths, regex; unknown names are errors', () => {
    expect(resolveTargets(llama, ['v_proj']).map((l) => l.name)).toEqual(['layers.0.attn.v', 'layers.1.attn.v']);
    expect(resolveTargets(llama, '.*layers\\.1\\..*(up|down)_proj').map((l) => l.name)).toEqual(['layers.1.mlp.up', 'layers.1.mlp.down']);
    expect(() => resolveTargets(llama, ['qq_proj'])).toThrow(/target_modules: unknown module\(s\) qq_proj/);
  });

  it('rejects an adapter whose shapes do not match the base, naming every bad key', () => {
    // Llama's v_proj is (16 ← 32) but Qwen2's is (8 ← 32): every v_proj B is the wrong shape.
    expect(() => loadPeftAdapter(join(fixtures, 'llama-fp32-adapter'), qwen)).toThrow(
      /model.layers.0.self_attn.v_proj.lora_B.weight: expected \[8,4\].*got \[16,4\][\s\S]*layers.1.self_attn.v_proj.lora_B/,
    );
  });

  it('rejects a rank that disagrees with adapter_config.json, and missing halves', () => {
    const dir = join(tmp, 'bad-rank');
    cpSync(join(fixtures, 'llama-fp32-adapter'), dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, r: 8 }));
    expect(() => loadPeftAdapter(dir, llama)).toThrow(/lora_A.weight: expected \[8,32\] \(r=8\), got \[4,32\]/);
    const tensors = readAll(SafetensorsFile.open(join(fixtures, 'llama-fp32-adapter', 'adapter_model.safetensors')));
    tensors.delete('base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight');
    tensors.set('base_model.model.model.layers.0.self_attn.x_proj.lora_A.weight', { shape: [1], data: new Float32Array(1) });
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(config));
    writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors);
    expect(() => loadPeftAdapter(dir, llama)).toThrow(/unexpected keys \(1\): .*x_proj[\s\S]*missing keys \(1\): .*layers.1.self_attn.q_proj.lora_B/);
  });

  it.each([
    [{ use_dora: true }, /unsupported field\(s\) set: use_dora/],
    [{ r: 0 }, /field "r" must be a positive integer/],
    [{ peft_type: 'IA3' }, /peft_type/],
  ])('rejects adapter_config %j', (patch, message) => {
    const dir = join(tmp, `cfg-${JSON.stringify(patch).replace(/\W/g, '')}`);
    cpSync(join(fixtures, 'llama-fp32-adapter'), dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, ...patch }));
    expect(() => loadPeftAdapter(dir, llama)).toThrow(message);
  });

  it('writes atomically: replaces a previous adapter, refuses foreign directories, leaves no temp dirs', () => {
    const adapter = initLoraAdapter(llama, { r: 2, alpha: 4, targetModules: ['q_proj'] }, 1);
    const parent = join(tmp, 'atomic');
    const out = join(parent, 'out');
    savePeftAdapter(out, llama, adapter);
    savePeftAdapter(out, llama, adapter); // replacing a previous adapter is fine
    expect(loadPeftAdapter(out, llama).pairs.size).toBe(2);
    const foreign = join(parent, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'keep me');
    expect(() => savePeftAdapter(foreign, llama, adapter)).toThrow(/foreign: refusing to replace.*notes.txt/);
    expect(readdirSync(parent).sort()).toEqual(['foreign', 'out']);
    expect(readdirSync(foreign)).toEqual(['notes.txt']);
  });
});
