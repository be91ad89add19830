/** @file Checkpoint load/save round trip, merge arithmetic, and vocab checks. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '@seal/engine';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { LanguageModel } from './language-model';
import { mergeAdapter } from './lora';
import { loadPeftAdapter } from './peft';
import { loadReference } from './reference';
import { openCheckpoint, readAll, SafetensorsFile } from './safetensors';

const fixtures = join(import.meta.dirname, 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'seal-ckpt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('checkpoint', () => {
  it('saves a loadable HF checkpoint with the same tensors and the tokenizer copied', () => {
    const ck = loadCheckpoint(join(fixtures, 'llama-bf16'));
    const out = join(tmp, 'saved');
    saveCheckpoint(out, ck.config, ck.params, { tokenizerFrom: ck.dir });
    expect(readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const again = loadCheckpoint(out);
    expect(again.config.ropeScaling).toEqual(ck.config.ropeScaling);
    for (const [k, t] of ck.params) expect(again.params.get(k)!.data).toEqual(t.data);
    expect(again.tokenizer!.encode('the')).toEqual(ck.tokenizer!.encode('the'));
  });

  it('merges W + (α/r)·A·B, matching the PEFT formula on HF layouts', () => {
    const ck = loadCheckpoint(join(fixtures, 'llama-fp32'));
    const adapter = loadPeftAdapter(join(fixtures, 'llama-fp32-adapter'), ck.config);
    const merged = mergeAdapter(ck.config, ck.params, adapter);
    const out = join(tmp, 'merged');
    saveCheckpoint(out, ck.config, merged);
    // Check one element in HF layout: W'[o][i] = W[o][i] + scale · Σ_k B[o][k]·A[k][i].
    const hf = readAll(openCheckpoint(out)).get('model.layers.1.self_attn.v_proj.weight')!;
    const base = readAll(openCheckpoint(ck.dir)).get('model.layers.1.self_attn.v_proj.weight')!;
    const st = readAll(SafetensorsFile.open(join(fixtures, 'llama-fp32-adapter', 'adapter_model.safetensors')));
    const A = st.get('base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight')!.data; // (4, 32)
    const B = st.get('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight')!.data; // (16, 4)
    const [o, i] = [5, 17];
    let delta = 0;
    for (let k = 0; k < 4; k++) delta += B[o * 4 + k] * A[k * 32 + i];
    expect(hf.data[o * 32 + i]).toBeCloseTo(base.data[o * 32 + i] + 2 * delta, 6);
    // Untargeted weights are untouched and the base map is not mutated.
    expect(merged.get('layers.0.attn.k.weight')).toBe(ck.params.get('layers.0.attn.k.weight'));
    expect(ck.params.get('layers.1.attn.v.weight')!.data).not.toEqual(merged.get('layers.1.attn.v.weight')!.data);
  });
});

describe('merged checkpoint', () => {
  it('a saved merge scores like base + adapter (Qwen2, every linear adapted)', async () => {
    const ref = loadReference('qwen2-fp32');
    const ck = loadCheckpoint(ref.checkpoint);
    const adapter = loadPeftAdapter(ref.adapter, ck.config);
    const out = join(tmp, 'merged-qwen');
    saveCheckpoint(out, ck.config, mergeAdapter(ck.config, ck.params, adapter), { tokenizerFrom: ck.dir });
    const runtime = createRuntime({ intraOpThreads: 1 });
    try {
      const merged = await LanguageModel.load(out, { runtime }).logits(ref.json.input_ids);
      const expected = ref.tensor('lora_logits');
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs((merged.data as Float32Array)[i] - expected[i]));
      expect(worst).toBeLessThan(1e-4);
    } finally {
      await runtime.release();
    }
  });
});
