/** @file The HF name table: fixture checkpoints load, transposes round-trip, and every mismatch is reported at once. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadConfig } from './config';
import { linearSpecs, loadParams, paramSpecs, toHfTensors } from './hf-names';
import { openCheckpoint, readAll, type HostTensor, type TensorSource } from './safetensors';

const fixtures = join(import.meta.dirname, 'fixtures');

/** An in-memory TensorSource, for forging checkpoints that are wrong in known ways. */
function memorySource(tensors: Map<string, HostTensor>): TensorSource {
  return {
    names: () => [...tensors.keys()],
    info: (n) => ({ dtype: 'F32', shape: tensors.get(n)!.shape, begin: 0, end: 0, file: 'memory' }),
    read: (n) => tensors.get(n)!.data,
  };
}

describe('hf-names', () => {
  it.each([
    ['llama-fp32', 2 * 9 + 3, false],
    ['qwen2-fp32', 2 * 12 + 2, true],
  ])('%s loads every tensor through the table (%i params)', (name, count, tied) => {
    const config = loadConfig(join(fixtures, name));
    const params = loadParams(config, openCheckpoint(join(fixtures, name)), name);
    expect(params.size).toBe(count);
    expect(params.has('lmHead.weight')).toBe(!tied);
    expect(linearSpecs(config)).toHaveLength(7 * config.numLayers);
  });

  it('stores linears as (in, out): our q[i][o] is HF q_proj[o][i]', () => {
    const config = loadConfig(join(fixtures, 'llama-fp32'));
    const source = openCheckpoint(join(fixtures, 'llama-fp32'));
    const ours = loadParams(config, source, 'llama').get('layers.1.attn.k.weight')!;
    const hf = source.read('model.layers.1.self_attn.k_proj.weight');
    expect(ours.shape).toEqual([32, 16]);
    expect(ours.data[3 * 16 + 5]).toBe(hf[5 * 32 + 3]);
  });

  it('toHfTensors inverts loadParams exactly', () => {
    const dir = join(fixtures, 'qwen2-fp32');
    const config = loadConfig(dir);
    const original = readAll(openCheckpoint(dir));
    const back = new Map(toHfTensors(config, loadParams(config, openCheckpoint(dir), dir)));
    expect([...back.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [k, t] of original) {
      expect(back.get(k)!.shape).toEqual(t.shape);
      expect(back.get(k)!.data).toEqual(t.data);
    }
  });

  it('reports all missing, unexpected and mis-shaped keys in one error', () => {
    const dir = join(fixtures, 'llama-fp32');
    const config = loadConfig(dir);
    const tensors = readAll(openCheckpoint(dir));
    tensors.delete('model.norm.weight');
    tensors.delete('model.layers.1.mlp.up_proj.weight');
    tensors.set('model.layers.9.self_attn.q_proj.weight', { shape: [1], data: new Float32Array(1) });
    tensors.set('model.layers.0.self_attn.rotary_emb.inv_freq', { shape: [4], data: new Float32Array(4) }); // ignorable
    tensors.set('model.layers.0.mlp.down_proj.weight', { shape: [64, 32], data: new Float32Array(64 * 32) });
    let message = '';
    try {
      loadParams(config, memorySource(tensors), 'ckpt');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/missing keys \(2\): .*model.layers.1.mlp.up_proj.weight.*model.norm.weight/);
    expect(message).toMatch(/unexpected keys \(1\): model.layers.9.self_attn.q_proj.weight/);
    expect(message).toMatch(/wrong shapes \(1\): model.layers.0.mlp.down_proj.weight: expected \[32,64\], got \[64,32\]/);
  });

  it('lists q/k/v biases only for Qwen2', () => {
    const names = (n: string) => paramSpecs(loadConfig(join(fixtures, n))).map((s) => s.hfName);
    expect(names('qwen2-fp32')).toContain('model.layers.0.self_attn.k_proj.bias');
    expect(names('llama-fp32').some((n) => n.endsWith('.bias'))).toBe(false);
  });
});
