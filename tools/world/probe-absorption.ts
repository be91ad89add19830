/**
 * @file `node --import tsx tools/world/probe-absorption.ts MODEL_DIR [--format one] [--passages 30]
 * [--sft JSON]`: how much of a right self-edit the inner loop turns into right answers. Each test
 * passage gets a self-edit written from the world's ground truth in one format, goes through the
 * student's real inner loop (the model's inner_loop.json, `--sft` overriding fields), and the
 * implied questions are asked. Formats: `oracle` (the world's gold edit: each implied fact in two
 * phrasings plus the direct facts), `one` / `two` (each implied fact in one / two statement
 * phrasings), `qa` (each implied fact as "Question k: … Answer: …", one question phrasing),
 * `qa-inline` (one "Question: … Answer: …" line each, the form `impliedQuestionRate`
 * demonstrates), `qa-line` (the question then the value on one line, no "Answer:"), `none`
 * (passage only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createInProcessRoles } from '@seal/coordinator/in-process';
import { evalContexts, fillTemplate, IMPLIED_RELATIONS, PERSON_QUESTIONS, PERSON_STATEMENTS, readModelWorld, statement, type Person } from '@seal/tasks';
import { modelRunConfig } from './model-settings';

const FORMATS = ['oracle', 'one', 'two', 'qa', 'qa-line', 'qa-inline', 'none'] as const;
type Format = (typeof FORMATS)[number];
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { format: { type: 'string', default: 'one' }, passages: { type: 'string', default: '30' }, sft: { type: 'string', default: '{}' } },
});
const modelDir = positionals[0];
const format = values.format as Format;
if (!modelDir || !FORMATS.includes(format)) throw new Error(`usage: probe-absorption.ts MODEL_DIR [--format ${FORMATS.join('|')}] [--passages N] [--sft JSON]`);
const { world } = readModelWorld(modelDir);
const { contexts, oracle } = evalContexts(world, 'test', Number(values.passages));
const { config, sftOverrides } = modelRunConfig(modelDir, values.sft!);

function edit(person: Person, id: string): string {
  switch (format) {
    case 'oracle': return oracle[id]!;
    case 'none': return '';
    case 'one': return IMPLIED_RELATIONS.map((r) => statement(person, r, PERSON_STATEMENTS[r][0]!)).join('\n');
    case 'two': return IMPLIED_RELATIONS.flatMap((r) => [0, 1].map((k) => statement(person, r, PERSON_STATEMENTS[r][k]!))).join('\n');
    case 'qa-line': return IMPLIED_RELATIONS.map((r) => `${fillTemplate(PERSON_QUESTIONS[r][0]!, { n: person.name })} ${person.facts[r]}.`).join('\n');
    case 'qa-inline': return IMPLIED_RELATIONS.map((r) => `Question: ${fillTemplate(PERSON_QUESTIONS[r][0]!, { n: person.name })} Answer: ${person.facts[r]}`).join('\n');
    case 'qa': return IMPLIED_RELATIONS.map((r, k) => `Question ${k + 1}: ${fillTemplate(PERSON_QUESTIONS[r][0]!, { n: person.name })}\nAnswer: ${person.facts[r]}`).join('\n');
  }
}

const workDir = mkdtempSync(join(tmpdir(), 'absorption-'));
const roles = createInProcessRoles({ modelDir, workDir, students: 1, capacity: 2, runtime: { intraOpThreads: 1, workers: 2 } });
try {
  const base = (await roles.teacher.info()).baseCheckpoint;
  let correct = 0, asked = 0;
  await Promise.all(contexts.map(async (ctx, i) => {
    const passage = world.splits.test[i]!;
    const res = await roles.students[0]!.evaluate({
      idempotencyKey: `absorption-${ctx.id}`, baseCheckpoint: base,
      selfEdit: { id: `gold-${ctx.id}`, passageId: ctx.id, index: 0, promptStyle: 'implications', prompt: '', completion: edit(passage.person, ctx.id), seed: 0, tokenCount: 0, checkpointId: base.id },
      sft: config.inner.sft, eval: { context: ctx, splitNewlines: true, appendPassage: true, maxAnswerTokens: 24 }, repeats: 1, seed: 0,
    });
    res.perQuestion.forEach((q, j) => {
      if (passage.record.questions[j]!.kind !== 'implied') return;
      correct += q.correctAfter;
      asked++;
    });
  }));
  console.log(JSON.stringify({ model: modelDir, format, passages: contexts.length, impliedQuestions: asked, impliedAccuracy: Number((correct / asked).toFixed(3)), sft: sftOverrides }));
} finally {
  await roles.release();
  rmSync(workDir, { recursive: true, force: true });
}
