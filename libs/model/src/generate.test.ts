/** @file Generation: golden greedy tokens from the PyTorch reference (batch 1 and padded batch), KV cache = recompute, seeded sampling, stops. */
import '@seal/engine/testing';
import { createRuntime } from '@seal/engine';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from './generate';
import { LanguageModel } from './language-model';
import { loadPeftAdapter } from './peft';
import { loadReference } from './reference';

const runtime = createRuntime({ intraOpThreads: 1 });
afterAll(() => runtime.release());

describe.each(['llama-fp32', 'qwen2-bf16'] as const)('%s', (name) => {
  const ref = loadReference(name);
  const model = LanguageModel.load(ref.checkpoint, { runtime });
  const golden = ref.json.greedy;
  const greedy = { temperature: 0, maxNewTokens: golden.max_new_tokens, eosTokenIds: [] };

  it('greedy tokens of a padded batch equal the PyTorch golden ids', async () => {
    const out = await generate(model, golden.prompts, greedy);
    expect(out.tokens).toEqual(golden.tokens);
    expect(out.stopReasons).toEqual(['max_new_tokens', 'max_new_tokens']);
  });

  it('each prompt alone (batch 1) gives the same golden ids', async () => {
    for (let i = 0; i < golden.prompts.length; i++) {
      expect((await generate(model, [golden.prompts[i]], greedy)).tokens).toEqual([golden.tokens[i]]);
    }
  });

  it('KV-cache decode equals a full recompute of the sequence', async () => {
    const prompt = golden.prompts[0];
    const first = await model.step([prompt], [prompt.map(() => 1)], model.emptyCache(1));
    const second = await model.step([[42]], [[1]], first.cache);
    const full = await model.logits([[...prompt, 42]]);
    const v = model.config.vocabSize;
    expect(second.logits.data).toBeAllClose(full.data.subarray(prompt.length * v), { atol: 1e-5, rtol: 1e-5 });
  });

  it('the worker-resident decoder equals a full recompute: padded prefill, then steps, base packed or fed, with an adapter', async () => {
    const fed = LanguageModel.load(ref.checkpoint, { runtime, packDecodeWeights: false });
    expect(model.packDecodeWeights).toBe(true);
    const adapter = loadPeftAdapter(ref.adapter, model.config);
    const v = model.config.vocabSize;
    const [long, short] = golden.prompts;
    const padded = [long, [...new Array<number>(long.length - short.length).fill(0), ...short]];
    const mask = [long.map(() => 1), padded[1].map((_, i) => (i < long.length - short.length ? 0 : 1))];
    for (const lm of [model, fed]) {
      for (const a of [null, adapter]) {
        // growBy 1: the cache is allocated for the prompt + 1 and grows once before the last step.
        const decoder = await lm.openDecoder(2, long.length + 2, a, { growBy: 1 });
        try {
          await decoder.step(padded, mask);
          expect(decoder.slots).toBe(long.length + 1);
          await decoder.step([[42], [7]], [[1], [1]]);
          const last = await decoder.step([[5], [9]], [[1], [1]]);
          expect(decoder.slots).toBe(long.length + 2);
          const full = [await lm.logits([[...long, 42, 5]], a), await lm.logits([[...short, 7, 9]], a)];
          full.forEach((f, b) => {
            const t = f.shape[1];
            expect(last.data.subarray(b * v, (b + 1) * v)).toBeAllClose(f.data.subarray((t - 1) * v, t * v), { atol: 1e-5, rtol: 1e-5 });
          });
          expect(decoder.length).toBe(long.length + 2);
          await expect(decoder.step([[1], [1]], [[1], [1]])).rejects.toThrow(`exceed the cache capacity of ${long.length + 2}`);
        } finally {
          await decoder.close();
        }
      }
    }
    await fed.release();
  });

  it('a multi-token step after one-token steps (the prefill graph again, fed base) continues the same sequence', async () => {
    const [prompt] = golden.prompts;
    const v = model.config.vocabSize;
    const decoder = await model.openDecoder(1, prompt.length + 3);
    try {
      await decoder.step([prompt], [prompt.map(() => 1)]);
      await decoder.step([[42]], [[1]]);
      const last = await decoder.step([[5, 9]], [[1, 1]]);
      const full = await model.logits([[...prompt, 42, 5, 9]]);
      expect(last.data).toBeAllClose(full.data.subarray((prompt.length + 2) * v), { atol: 1e-5, rtol: 1e-5 });
    } finally {
      await decoder.close();
    }
  });

  it("the worker's decode loop samples what the step-by-step path samples: padded batch, seeded top-p, rows stopping at EOS at different steps", async () => {
    const stepByStep = { onText: () => undefined }; // streaming needs the text each step, so it keeps the step path
    for (const sampling of [{ temperature: 0 }, { temperature: 1, topP: 0.9, topK: 50, seed: 3 }]) {
      const free = await generate(model, golden.prompts, { ...sampling, maxNewTokens: 8, eosTokenIds: [] });
      // Row 0's third token ends row 0 where it first appears; row 1 stops wherever it shows up in it, if at all.
      const eos = free.tokens[0][2];
      const opts = { ...sampling, maxNewTokens: 8, eosTokenIds: [eos] };
      const loop = await generate(model, golden.prompts, opts);
      expect(loop.tokens[0]).toEqual(free.tokens[0].slice(0, free.tokens[0].indexOf(eos) + 1));
      expect(loop.stopReasons[0]).toBe('eos');
      const steps = await generate(model, golden.prompts, { ...opts, ...stepByStep });
      expect(steps.tokens).toEqual(loop.tokens);
      expect(steps.stopReasons).toEqual(loop.stopReasons);
    }
  });

  it('a decoder steps on after its worker loop: the cache, its length and the mask history come back in step', async () => {
    const [prompt] = golden.prompts;
    const v = model.config.vocabSize;
    const decoder = await model.openDecoder(1, prompt.length + 6, null, { growBy: 1 }); // grows in the worker, in place
    try {
      const out = await decoder.sample({ ids: [prompt], mask: [prompt.map(() => 1)] }, { temperature: 0, seed: 0, eosTokenIds: [], maxNewTokens: 4, padId: 0 });
      expect(out.tokens[0]).toEqual(golden.tokens[0].slice(0, 4));
      expect(decoder.length).toBe(prompt.length + 3); // the last sampled token is not fed
      expect(decoder.slots).toBe(prompt.length + 3);
      const last = await decoder.step([[out.tokens[0][3]]], [[1]]);
      const full = await model.logits([[...prompt, ...out.tokens[0]]]);
      expect(last.data).toBeAllClose(full.data.subarray((prompt.length + 3) * v), { atol: 1e-5, rtol: 1e-5 });
    } finally {
      await decoder.close();
    }
    // A loop that fails midway (here at the cache's capacity) closes its decoder.
    const short = await model.openDecoder(1, prompt.length + 2);
    await expect(short.sample({ ids: [prompt], mask: [prompt.map(() => 1)] }, { temperature: 0, seed: 0, eosTokenIds: [], maxNewTokens: 8, padId: 0 })).rejects.toThrow(`exceed the cache capacity of ${prompt.length + 2}`);
    await expect(short.step([[1]], [[1]])).rejects.toThrow('step after close()');
  });

  it('sampling is reproducible per seed and changes with the seed or the adapter', async () => {
    const opts = { temperature: 1, topP: 0.9, topK: 50, maxNewTokens: 8, eosTokenIds: [], seed: 3 };
    const a = await generate(model, golden.prompts, opts);
    expect((await generate(model, golden.prompts, opts)).tokens).toEqual(a.tokens);
    expect((await generate(model, golden.prompts, { ...opts, seed: 4 })).tokens).not.toEqual(a.tokens);
    const adapter = loadPeftAdapter(ref.adapter, model.config);
    expect((await generate(model, golden.prompts, { ...opts, adapter })).tokens).not.toEqual(a.tokens);
  });
});

describe('models sharing a runtime', () => {
  it('releasing one model drops only its own references: the other still scores and generates the same', async () => {
    const ref = loadReference('llama-fp32');
    const [a, b] = [LanguageModel.load(ref.checkpoint, { runtime }), LanguageModel.load(ref.checkpoint, { runtime })];
    const greedy = { temperature: 0, maxNewTokens: 4, eosTokenIds: [] };
    const prompts = ref.json.greedy.prompts;
    const expected = (await generate(a, prompts, greedy)).tokens;
    const logits = await a.logits([prompts[0]]);
    expect((await generate(b, prompts, greedy)).tokens).toEqual(expected);
    await a.release();
    expect((await generate(b, prompts, greedy)).tokens).toEqual(expected);
    expect((await b.logits([prompts[0]])).data).toEqual(logits.data);
    await b.release();
  });
});

describe('stopping and streaming', () => {
  const ref = loadReference('llama-fp32');
  const model = LanguageModel.load(ref.checkpoint, { runtime });
  const prompt = ref.json.greedy.prompts[1];
  const expected = ref.json.greedy.tokens[1];

  it('stops at an EOS id and keeps it as the last token', async () => {
    const out = await generate(model, [prompt], { temperature: 0, maxNewTokens: 6, eosTokenIds: [expected[2]] });
    expect(out.tokens).toEqual([expected.slice(0, 3)]);
    expect(out.stopReasons).toEqual(['eos']);
  });

  it('stops at a stop string, cuts the text there, and streams exactly the final text', async () => {
    const full = await generate(model, [prompt], { temperature: 0, maxNewTokens: 6, eosTokenIds: [] });
    const text = full.texts[0];
    expect(text.length).toBeGreaterThan(3);
    expect(text).toBe(model.tokenizer!.decode(full.tokens[0], { skipSpecialTokens: true })); // decoded once at the end
    const stop = text.slice(2, 4);
    let streamed = '';
    const out = await generate(model, [prompt], { temperature: 0, maxNewTokens: 6, eosTokenIds: [], stopStrings: [stop], onText: (_row, t) => (streamed += t) });
    expect(out.stopReasons).toEqual(['stop_string']);
    expect(out.texts[0]).toBe(text.slice(0, text.indexOf(stop)));
    expect(streamed).toBe(out.texts[0]);
  });

  it('rejects a prompt longer than the context', async () => {
    await expect(generate(model, [new Array(60).fill(1)], { temperature: 0, maxNewTokens: 10 })).rejects.toThrow(/exceed the model's context/);
  });

  it('a generation that runs past the context fails with the context error from the worker loop too, and the runtime goes on', async () => {
    const room = model.config.maxPositionEmbeddings - prompt.length;
    const opts = { temperature: 0, maxNewTokens: room + 3, eosTokenIds: [] };
    await expect(generate(model, [prompt], opts)).rejects.toThrow(`${model.config.maxPositionEmbeddings + 1} tokens exceed the model's context`);
    await expect(generate(model, [prompt], { ...opts, onText: () => undefined })).rejects.toThrow(`${model.config.maxPositionEmbeddings + 1} tokens exceed the model's context`);
    expect((await generate(model, [prompt], { temperature: 0, maxNewTokens: 3, eosTokenIds: [] })).tokens).toEqual([expected.slice(0, 3)]);
  });
});
