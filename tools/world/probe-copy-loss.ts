/**
 * @file `node --import tsx tools/world/probe-copy-loss.ts MODEL_DIR [--world FILE] [--split val|test|rl-train|demo]
 * [--people 20] [--show 2]`: the loss of every token of an ideal walk-through self-edit (the form
 * the demonstrations teach) under a tiny-world model. Prints the first `--show` completions with
 * each token whose loss exceeds 0.5 nats marked `[token|loss]`, then the mean completion loss. A
 * value the model copies from the passage costs < 0.5; a value it guesses costs about ln(number of
 * entities of that kind). This is how the shared-cue-word failure in libs/tasks/README.md was found.
 */
import { parseArgs } from 'node:util';
import { loadPretrained, readModelWorld, Prng, selfEditPrompt, walkThroughCompletion, type PassageSplit, type WorldPerson } from '@seal/tasks';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    world: { type: 'string' },
    split: { type: 'string', default: 'val' },
    people: { type: 'string', default: '20' },
    show: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
  },
});
const modelDir = positionals[0];
if (!modelDir) throw new Error('usage: probe-copy-loss.ts MODEL_DIR [--world world.json] [--split val|test|rl-train|demo] [--people N] [--show N]');
const { world } = readModelWorld(modelDir, values.world);
const count = Number(values.people);
// 'demo': people the corpus showed only inside one demonstration (the training side of the skill).
const people: WorldPerson[] = values.split === 'demo' ? world.demoOnly.slice(0, count) : world.splits[values.split as PassageSplit].slice(0, count);
const lm = loadPretrained(modelDir, Number(values.threads));
const tokenizer = lm.tokenizer!;
const rng = new Prng(7);

let lossSum = 0;
let tokens = 0;
for (const [i, { person, phrasing, record }] of people.entries()) {
  const prompt = selfEditPrompt(record, 'implications');
  const completion = walkThroughCompletion(rng, person, record.context, phrasing, world.config.impliedInDemoRate);
  const promptLength = tokenizer.encode(prompt).length;
  const ids = tokenizer.encode(prompt + completion);
  const logits = await lm.logits([ids]);
  const vocab = logits.shape[2]!;
  const data = logits.data as Float32Array;
  const marked: string[] = [];
  for (let t = promptLength; t < ids.length; t++) {
    // logits at t − 1 predict token t (causal shift); log-softmax by hand for one row
    const row = data.subarray((t - 1) * vocab, t * vocab);
    const max = row.reduce((m, x) => Math.max(m, x), -Infinity);
    const logSum = Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    const loss = -(row[ids[t]!]! - max - logSum);
    lossSum += loss;
    tokens++;
    const piece = tokenizer.decode([ids[t]!]);
    marked.push(loss > 0.5 ? `[${piece}|${loss.toFixed(1)}]` : piece);
  }
  if (i < Number(values.show)) console.log(`--- ${person.name}\n${marked.join(' ')}\n`);
}
console.log(JSON.stringify({ model: modelDir, split: values.split, people: people.length, tokens, meanCompletionLoss: (lossSum / tokens).toFixed(4) }));
await lm.release();
