/**
 * @file `node --import tsx tools/world/probe-implied-knowledge.ts MODEL_DIR [--split test] [--passages 60]`:
 * does the model know each implied fact when it writes one? Per test passage and implied relation,
 * the self-edit prompt is followed by the source fact's line (as a walk-through writes it) and the
 * implied line up to its value; the greedy continuation must start with the true value. High rates
 * say an edit's missing facts are left out by choice (a style RL can change), not unknown.
 */
import { parseArgs } from 'node:util';
import { generate } from '@seal/model';
import { IMPLIED_FROM, IMPLIED_RELATIONS, PERSON_STATEMENTS, loadPretrained, readModelWorld, selfEditPrompt, statement, type PassageSplit, type SelfEditStyle } from '@seal/tasks';
import { escapeRegExp } from './fact-check';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { split: { type: 'string', default: 'test' }, passages: { type: 'string', default: '60' }, style: { type: 'string', default: 'implications-long' } },
});
const modelDir = positionals[0];
if (!modelDir) throw new Error('usage: probe-implied-knowledge.ts MODEL_DIR [--split test] [--passages 60]');
const { world } = readModelWorld(modelDir);
const lm = loadPretrained(modelDir, 2);
const tokenizer = lm.tokenizer!;
const known = Object.fromEntries(IMPLIED_RELATIONS.map((r) => [r, 0]));
const passages = world.splits[values.split as PassageSplit].slice(0, Number(values.passages));
for (const p of passages) {
  for (const relation of IMPLIED_RELATIONS) {
    const from = IMPLIED_FROM[relation].from;
    const sourceLine = statement(p.person, from, PERSON_STATEMENTS[from][p.phrasing[from]]!);
    const impliedLine = statement(p.person, relation, PERSON_STATEMENTS[relation][0]!);
    const prefix = impliedLine.slice(0, impliedLine.indexOf(p.person.facts[relation])).trimEnd();
    const ids = tokenizer.encode(`${selfEditPrompt(p.record, values.style as SelfEditStyle)}${sourceLine}\n${prefix}`);
    const out = await generate(lm, [ids], { temperature: 0, maxNewTokens: 6, seed: 0 });
    if (new RegExp(`^\\s*(the )?${escapeRegExp(p.person.facts[relation])}\\b`).test(out.texts[0]!)) known[relation]!++;
  }
}
await lm.release();
console.log(JSON.stringify({ model: modelDir, split: values.split, passages: passages.length, knownRate: Object.fromEntries(Object.entries(known).map(([r, n]) => [r, Number((n / passages.length).toFixed(2))])) }));
