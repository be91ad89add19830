/** @file Forward parity with the independent PyTorch reference (fp32 + bf16, Llama + Qwen2, with and without LoRA), padding and KV cache. */
import '@seal/engine/testing';
import { createRuntime } from '@seal/engine';
import { afterAll, describe, expect, it } from 'vitest';
import { LanguageModel } from './language-model';
import { Llama } from './llama';
import { loadPeftAdapter } from './peft';
import { fixtureNames, loadReference } from './reference';

const runtime = createRuntime({ intraOpThreads: 1 });
afterAll(() => runtime.release());

describe.each(fixtureNames)('%s', (name) => {
  const ref = loadReference(name);
  const model = LanguageModel.load(ref.checkpoint, { runtime });
  const { vocabSize: v } = model.config;

  it('logits match PyTorch', async () => {
    const logits = await model.logits(ref.json.input_ids);
    expect(logits.shape).toEqual([2, 7, v]);
    expect(logits.data).toBeAllClose(ref.tensor('logits'), { atol: 1e-4, rtol: 1e-4 });
  });

  it('logits with the PEFT adapter match PyTorch', async () => {
    const adapter = loadPeftAdapter(ref.adapter, model.config);
    const logits = await model.logits(ref.json.input_ids, adapter);
    expect(logits.data).toBeAllClose(ref.tensor('lora_logits'), { atol: 1e-4, rtol: 1e-4 });
  });

  it('a left-padded batch matches PyTorch at every real position', async () => {
    const { input_ids: ids, attention_mask: mask } = ref.json.padded;
    const expected = ref.tensor('padded_logits');
    // Prefill the whole padded batch through the cache graph, one position at a time for the last
    // token and all at once before it: both must agree with the reference.
    const prefix = await model.step(ids.map((r) => r.slice(0, 6)), mask.map((r) => r.slice(0, 6)), model.emptyCache(2));
    const last = await model.step(ids.map((r) => r.slice(6)), mask.map((r) => r.slice(6)), prefix.cache);
    for (let b = 0; b < 2; b++) {
      const row = (t: number) => expected.subarray((b * 7 + t) * v, (b * 7 + t + 1) * v);
      expect(prefix.logits.data.subarray(b * v, (b + 1) * v)).toBeAllClose(row(5), { atol: 1e-4, rtol: 1e-4 });
      expect(last.logits.data.subarray(b * v, (b + 1) * v)).toBeAllClose(row(6), { atol: 1e-4, rtol: 1e-4 });
    }
  });

  it('rejects out-of-range ids and over-long inputs with the field named', async () => {
    await expect(model.logits([[1, v]])).rejects.toThrow(`input_ids[0][1] = ${v} is out of range [0, ${v})`);
    await expect(model.logits([new Array(65).fill(1)])).rejects.toThrow(/65 tokens exceed the model's context \(max_position_embeddings = 64\)/);
  });
});

describe('many adapters on one base', () => {
  it('swapping adapters of one shape reuses the compiled graph and changes only the LoRA feeds', async () => {
    const ref = loadReference('llama-fp32');
    const model = LanguageModel.load(ref.checkpoint, { runtime });
    const adapter = loadPeftAdapter(ref.adapter, model.config);
    // A second adapter of the same shape: B scaled, so its logits differ.
    const other = { ...adapter, pairs: new Map([...adapter.pairs].map(([k, p]) => [k, { a: p.a, b: { shape: p.b.shape, data: p.b.data.map((x) => -x) } }])) };
    const ids = ref.json.input_ids;
    const first = await model.logits(ids, adapter);
    const graphs = model.compiledGraphs;
    const second = await model.logits(ids, other);
    const again = await model.logits(ids, adapter);
    expect(model.compiledGraphs).toBe(graphs);
    expect(second.data).not.toEqual(first.data);
    expect(again.data).toEqual(first.data);
    await model.release();
  });
});

describe('forward graph after ORT optimization', () => {
  it('runs every RMSNorm as one fused SimplifiedLayerNormalization kernel', async () => {
    const config = loadReference(fixtureNames[0]).checkpoint;
    const model = LanguageModel.load(config, { runtime });
    const llama = new Llama(model.config, null);
    const ops = await runtime.optimizedOpTypes({ logits: llama.sequenceLogits() });
    // Two norms per layer plus the final one; none left as a ReduceMean chain.
    expect(ops.filter((o) => o.endsWith('SimplifiedLayerNormalization'))).toHaveLength(2 * model.config.numLayers + 1);
    expect(ops).not.toContain('ReduceMean');
  });
});
