/** @file Tests that the world tokenizer loads through @huggingface/tokenizers, stays small, and round-trips. */
import { describe, expect, it } from 'vitest';
import { pretrainingCorpus } from './pretraining-corpus';
import { questionPrompt, selfEditPrompt } from './prompts';
import { buildTokenizer, loadTokenizer, preTokenize, SPECIAL_TOKENS } from './tokenizer-builder';
import { generateWorld, PASSAGE_SPLITS, splitPassages } from './world';

const world = generateWorld(3, { pretrainPeople: 300, rlTrainPassages: 20, valPassages: 20, testPassages: 30 });
const corpus = pretrainingCorpus(world).map((d) => d.text);
const heldOut = PASSAGE_SPLITS.flatMap((s) => splitPassages(world, s));
const texts = [...corpus, ...heldOut.flatMap((p) => [p.title, p.context, ...p.questions.flatMap((q) => [q.question, q.answer])])];
const files = buildTokenizer(texts);
const tokenizer = loadTokenizer(files);

describe('world tokenizer', () => {
  it('fits in 2048 tokens with special tokens first', () => {
    const vocab = (files.tokenizer.model as { vocab: Record<string, number> }).vocab;
    expect(Object.keys(vocab).length).toBeLessThanOrEqual(2048);
    expect(files.droppedWords).toBe(0);
    expect([SPECIAL_TOKENS.pad, SPECIAL_TOKENS.bos, SPECIAL_TOKENS.eos, SPECIAL_TOKENS.unk].map((t) => tokenizer.token_to_id(t))).toEqual([0, 1, 2, 3]);
  });

  it('round-trips world text exactly, prompts included', () => {
    const samples = [
      ...corpus.slice(0, 200),
      selfEditPrompt(heldOut[0]!) + 'A line.\nAnother line.',
      questionPrompt(heldOut[0]!.title, heldOut[0]!.questions[0]!.question) + heldOut[0]!.questions[0]!.answer,
    ];
    for (const text of samples) {
      const ids = tokenizer.encode(text).ids;
      expect(ids[0]).toBe(tokenizer.token_to_id(SPECIAL_TOKENS.bos));
      expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe(text);
    }
  });

  it('makes every world word one token, and the answer after "Answer:\\n" the same token as in training', () => {
    const passage = heldOut[0]!;
    const answer = passage.questions[0]!.answer;
    const prompt = questionPrompt(passage.title, passage.questions[0]!.question);
    const promptIds = tokenizer.encode(prompt).ids;
    const fullIds = tokenizer.encode(prompt + answer).ids;
    expect(fullIds.slice(0, promptIds.length)).toEqual(promptIds); // prompt tokens are a prefix: no boundary artefact
    const answerTokens = fullIds.slice(promptIds.length).map((id) => tokenizer.id_to_token(id));
    expect(answerTokens).toEqual(preTokenize(answer));
    for (const name of [passage.title, ...world.entities.countries, ...world.entities.companies.map((c) => c.name)]) {
      expect(tokenizer.encode(`x ${name}`, { add_special_tokens: false }).tokens).toEqual([' x', ...preTokenize(name)]);
    }
    expect(tokenizer.encode('born in 1987', { add_special_tokens: false }).tokens).toEqual([' born', ' in', ' 1987']);
    expect(tokenizer.encode('a  b', { add_special_tokens: false }).tokens).toEqual([' a', ' ', ' b']);
  });

  it('drops trailing spaces so the self-qa prompt is a token prefix of prompt + completion', () => {
    const prompt = selfEditPrompt(heldOut[0]!, 'self-qa');
    expect(prompt.endsWith('Question 1: ')).toBe(true);
    const promptIds = tokenizer.encode(prompt).ids;
    const fullIds = tokenizer.encode(`${prompt}Where was ${heldOut[0]!.title} born?\nAnswer: Taviro`).ids;
    expect(fullIds.slice(0, promptIds.length)).toEqual(promptIds);
    expect(tokenizer.decode(promptIds, { skip_special_tokens: true })).toBe(prompt.trimEnd());
    expect(tokenizer.decode(tokenizer.encode('a \nb').ids, { skip_special_tokens: true })).toBe('a \nb');
  });

  it('falls back to characters for unseen words and to <unk> only outside ASCII', () => {
    const unseen = tokenizer.encode('Qwxz 31337', { add_special_tokens: false });
    expect(unseen.tokens.join('')).toBe(' Qwxz 31337');
    expect(unseen.tokens).not.toContain(SPECIAL_TOKENS.unk);
    expect(tokenizer.encode('naïve', { add_special_tokens: false }).tokens).toEqual([' n', 'a', SPECIAL_TOKENS.unk, 'v', 'e']);
  });

  it('is deterministic and rejects an impossible vocabulary size', () => {
    expect(JSON.stringify(buildTokenizer(texts).tokenizer)).toBe(JSON.stringify(files.tokenizer));
    expect(() => buildTokenizer(texts, { maxVocab: 100 })).toThrow(/maxVocab 100/);
    expect(buildTokenizer(texts, { maxVocab: 400 }).droppedWords).toBeGreaterThan(0);
  });
});
