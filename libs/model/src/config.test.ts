/** @file Config parsing: Llama/Qwen2 fields, llama3 RoPE scaling against the PyTorch reference, clear errors. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadConfig, parseConfig, ropeInverseFrequencies } from './config';
import { SafetensorsFile } from './safetensors';

const fixtures = join(import.meta.dirname, 'fixtures');

describe('config', () => {
  it('parses the tiny Llama: GQA, explicit head_dim, llama3 rope scaling, untied head, eos list', () => {
    const c = loadConfig(join(fixtures, 'llama-fp32'));
    expect(c).toMatchObject({ architecture: 'llama', numHeads: 4, numKvHeads: 2, headDim: 8, qkvBias: false, tieWordEmbeddings: false });
    expect(c.eosTokenIds).toEqual([263, 264]);
    expect(c.ropeScaling).toEqual({ ropeType: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses the tiny Qwen2: q/k/v biases, tied embeddings, head_dim defaulting to hidden/heads', () => {
    const c = loadConfig(join(fixtures, 'qwen2-fp32'));
    expect(c).toMatchObject({ architecture: 'qwen2', qkvBias: true, oBias: false, tieWordEmbeddings: true, headDim: 8, numKvHeads: 1 });
    expect(c.ropeScaling).toBeNull();
  });

  it.each(['llama-fp32', 'qwen2-fp32'])('RoPE inverse frequencies of %s match PyTorch (all llama3 branches)', (name) => {
    const expected = SafetensorsFile.open(join(fixtures, `${name}-reference.safetensors`)).read('inv_freq');
    const got = ropeInverseFrequencies(loadConfig(join(fixtures, name)));
    expect(got.length).toBe(expected.length);
    got.forEach((v, i) => expect(Math.abs(v - expected[i]) / expected[i]).toBeLessThan(1e-6));
  });

  const base = { architectures: ['LlamaForCausalLM'], vocab_size: 10, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2 };

  it('defaults: kv heads = heads, theta 10000, no scaling', () => {
    const c = parseConfig(base);
    expect(c).toMatchObject({ numKvHeads: 2, headDim: 4, ropeTheta: 10000, ropeScaling: null, mlpBias: false });
  });

  it.each([
    [{ ...base, architectures: ['GPT2LMHeadModel'] }, /architectures.*GPT2LMHeadModel/],
    [{ ...base, architectures: undefined, model_type: 'mistral' }, /model_type.*mistral/],
    [{ ...base, hidden_size: undefined }, /missing required field "hidden_size"/],
    [{ ...base, num_key_value_heads: 3 }, /num_key_value_heads/],
    [{ ...base, rope_scaling: { rope_type: 'yarn', factor: 2 } }, /rope_scaling.rope_type.*yarn/],
    [{ ...base, rope_scaling: { rope_type: 'llama3', factor: 8 } }, /low_freq_factor/],
    [{ ...base, hidden_act: 'gelu' }, /hidden_act/],
    [{ ...base, vocab_size: -1 }, /vocab_size/],
  ])('rejects bad config %#', (raw, message) => {
    expect(() => parseConfig(raw, 'x/config.json')).toThrow(message);
  });

  it('names the file when config.json is missing', () => {
    expect(() => loadConfig('/nonexistent-dir')).toThrow(/\/nonexistent-dir\/config.json/);
  });
});
