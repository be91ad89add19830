/** @file Tokenizer and chat template on the fixture checkpoints (byte-level BPE, Llama- and Qwen-style templates). */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { renderChat } from './chat-template';
import { loadTokenizer } from './tokenizer';

const fixtures = join(import.meta.dirname, 'fixtures');
const llama = loadTokenizer(join(fixtures, 'llama-fp32'));
const qwen = loadTokenizer(join(fixtures, 'qwen2-fp32'));

describe('tokenizer', () => {
  it('encodes with merges and the BOS post-processor, and decodes back', () => {
    const ids = llama.encode('in the');
    // <|begin_of_text|>=262, "in"=259 (merge), "Ġthe"=258 (two merges)
    expect(ids).toEqual([262, 259, 258]);
    expect(llama.decode(ids, { skipSpecialTokens: true })).toBe('in the');
    expect(llama.decode(ids)).toBe('<|begin_of_text|>in the');
    expect(llama.encode('in the', { addSpecialTokens: false })).toEqual([259, 258]);
  });
  it('reads special tokens from tokenizer_config.json', () => {
    expect(llama).toMatchObject({ bosToken: '<|begin_of_text|>', bosId: 262, eosToken: '<|eot_id|>', eosId: 264, size: 267 });
    expect(qwen).toMatchObject({ bosToken: null, bosId: null, eosId: 264 });
    expect(qwen.encode('hi')).toEqual([104, 105]); // no BOS for Qwen
  });
  it('round-trips arbitrary UTF-8 through byte-level BPE', () => {
    const text = 'Zürich — 東京 🙂 a\nb';
    expect(qwen.decode(qwen.encode(text))).toBe(text);
  });
  it('names a missing tokenizer.json', () => {
    expect(() => loadTokenizer('/nonexistent')).toThrow(/\/nonexistent\/tokenizer.json: file not found/);
  });
});

describe('chat template', () => {
  const messages = [{ role: 'user', content: 'hi ' }];
  it('renders the Llama-style template with BOS and a generation prompt', () => {
    expect(renderChat(llama, messages)).toBe(
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });
  it('renders the Qwen-style template, and tokenizes its special tokens atomically', () => {
    const text = renderChat(qwen, messages, { addGenerationPrompt: false });
    expect(text).toBe('<|im_start|>user\nhi <|im_end|>\n');
    expect(qwen.encode(text)[0]).toBe(263);
  });
});
