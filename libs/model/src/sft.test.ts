/** @file Training parity with PyTorch: LoRA gradients, three AdamW LoRA steps (losses + final adapter), full fine-tuning with a schedule. */
import '@seal/engine/testing';
import { createRuntime, crossEntropy, grad, hostTensor, input } from '@seal/engine';
import { afterAll, describe, expect, it } from 'vitest';
import { attentionMaskFeed, positionIds, ropeRowFeeds } from './feeds';
import { linearSpecs, transpose2d } from './hf-names';
import { LanguageModel } from './language-model';
import { Llama, loraInputName } from './llama';
import { loadPeftAdapter } from './peft';
import { fixtureNames, loadReference } from './reference';
import { trainFull, trainLora } from './sft';

const runtime = createRuntime({ intraOpThreads: 1 });
afterAll(() => runtime.release());

describe.each(fixtureNames)('%s', (name) => {
  const ref = loadReference(name);
  const lm = LanguageModel.load(ref.checkpoint, { runtime });
  const adapter = loadPeftAdapter(ref.adapter, lm.config);
  const examples = ref.json.input_ids.map((ids, i) => ({ inputIds: ids, labels: ref.json.labels[i] }));
  const peftA = (module: string) => `base_model.model.${module}.lora_A.weight`;
  const peftB = (module: string) => `base_model.model.${module}.lora_B.weight`;
  const targets = linearSpecs(lm.config).filter((l) => adapter.pairs.has(l.name));

  it('LoRA gradients match PyTorch', async () => {
    const model = new Llama(lm.config, { r: adapter.config.r, targets: new Set(adapter.pairs.keys()) });
    const loss = crossEntropy(model.sequenceLogits(), input('targets', ['B', 'T'], 'int64'));
    const wrt = targets.flatMap((l) => [model.loraInputs.get(loraInputName(l.name, 'A'))!, model.loraInputs.get(loraInputName(l.name, 'B'))!]);
    const grads = grad(loss, wrt);
    const graph = await runtime.compile({ loss, ...Object.fromEntries(grads.map((g, i) => [`g${i}`, g])) });
    const full = [new Array(7).fill(1), new Array(7).fill(1)];
    const targetsData = ref.json.labels.flatMap((row) => [...row.slice(1), -100]);
    const out = await graph.run({
      ...(await lm.frozenFeeds()),
      ...lm.adapterFeeds(adapter),
      ids: hostTensor('int64', [2, 7], ref.json.input_ids.flat()),
      targets: hostTensor('int64', [2, 7], targetsData),
      ...ropeRowFeeds(lm.config, positionIds(full, 7)),
      mask: attentionMaskFeed(full, 7),
    });
    expect(out.loss.data[0]).toBeCloseTo(ref.json.lora_loss, 4);
    const r = adapter.config.r;
    targets.forEach((l, i) => {
      // Ours are (in, r) and (r, out); PyTorch's are the transposes.
      expect(out[`g${2 * i}`].data).toBeAllClose(transpose2d(ref.tensor(`grad.${peftA(l.module)}`), r, l.inFeatures), { atol: 1e-5, rtol: 1e-3 });
      expect(out[`g${2 * i + 1}`].data).toBeAllClose(transpose2d(ref.tensor(`grad.${peftB(l.module)}`), l.outFeatures, r), { atol: 1e-5, rtol: 1e-3 });
    });
  });

  it('three AdamW LoRA steps match PyTorch: losses before each update and the final adapter', async () => {
    const { lr, weight_decay: weightDecay, steps, losses } = ref.json.lora_sft;
    const result = await trainLora(lm, adapter, examples, { steps, lr, weightDecay });
    expect(result.losses).toBeAllClose(losses, { atol: 1e-4, rtol: 1e-4 });
    const r = adapter.config.r;
    for (const l of targets) {
      const pair = result.trained.pairs.get(l.name)!;
      expect(pair.a.data).toBeAllClose(transpose2d(ref.tensor(`sft.${peftA(l.module)}`), r, l.inFeatures), { atol: 1e-5, rtol: 1e-4 });
      expect(pair.b.data).toBeAllClose(transpose2d(ref.tensor(`sft.${peftB(l.module)}`), l.outFeatures, r), { atol: 1e-5, rtol: 1e-4 });
    }
    // The input adapter is not modified.
    expect(adapter.pairs.get(targets[0].name)!.b.data).toEqual(loadPeftAdapter(ref.adapter, lm.config).pairs.get(targets[0].name)!.b.data);
  });

  it('full fine-tuning with linear warmup/decay matches PyTorch losses', async () => {
    const { lr, weight_decay: weightDecay, steps, warmup, losses } = ref.json.full_sft;
    const result = await trainFull(lm, examples, { steps, lr, weightDecay, warmup, schedule: 'linear' });
    expect(result.losses).toBeAllClose(losses, { atol: 1e-4, rtol: 1e-4 });
    expect(result.losses[0]).toBeCloseTo(ref.json.loss, 4);
  });
});

describe('training input checks', () => {
  it('rejects a row longer than the context before any step runs', async () => {
    const ref = loadReference('qwen2-fp32');
    const lm = LanguageModel.load(ref.checkpoint, { runtime });
    const adapter = loadPeftAdapter(ref.adapter, lm.config);
    const steps: number[] = [];
    const long = { inputIds: new Array(65).fill(3), labels: new Array(65).fill(3) };
    await expect(trainLora(lm, adapter, [{ inputIds: [1, 2], labels: [1, 2] }, long], { steps: 2, lr: 0.1, onStep: ({ step }) => steps.push(step) }))
      .rejects.toThrow(/row 1 has 65 tokens, more than max_position_embeddings = 64/);
    expect(steps).toEqual([]);
    await expect(trainLora(lm, adapter, [{ inputIds: [1, 2], labels: [1, 2] }], { steps: 0, lr: 0.1 })).rejects.toThrow(/steps must be a positive integer/);
  });
});
