/**
 * @file `node --import tsx tools/world/audit-rewards.ts RUN_DIR [--model DIR]`: how well a tiny-world
 * run's rewards track the truth. Per round: the correlation between each self-edit's reward and its
 * ground-truth implied score (implied facts stated right − wrong), that score for all edits, the kept
 * ones and the best per passage, and how many implied facts two lines state right; then, over every
 * evaluation, how often a question was answered after the inner loop when the edit stated its fact
 * right, wrong, both ways or not at all. The first says whether selection can find the good edits;
 * the second how much a right fact is worth.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Journal } from '@seal/coordinator';
import { readModelWorld, type PersonRelation } from '@seal/tasks';
import { factChecker, type FactStatus } from './fact-check';
import { correlation, mean, standardDeviation } from './stats';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { model: { type: 'string' } } });
const runDir = positionals[0];
if (!runDir) throw new Error('usage: audit-rewards.ts RUN_DIR [--model DIR]');
const modelDir = values.model ?? (JSON.parse(readFileSync(join(runDir, 'main-job.json'), 'utf8')) as { model: string }).model;
const { world } = readModelWorld(modelDir);
const facts = factChecker(world);
const byName = new Map(facts.everyone.map((p) => [p.person.name, p]));
const journal = Journal.open(runDir);

const answered = new Map<string, [number, number]>(); // `${relation}:${status}` → [correct, asked]
try {
  for (const { round } of journal.rounds()) {
    const people = new Map(journal.contexts(round).map((c) => {
      const person = c.kind === 'knowledge' ? byName.get(c.title) : undefined;
      if (!person) throw new Error(`${runDir}: round ${round} passage ${c.id} is not a person of ${modelDir}'s world`);
      return [c.id, person] as const;
    }));
    const edits = new Map(journal.selfEdits(round).map((e) => [e.id, e]));
    const kept = new Set(journal.selections(round).map((e) => e.id));
    const scores: number[] = [], rewards: number[] = [], repeated: number[] = [];
    const keptRepeated: number[] = [];
    const perPassage = new Map<string, number[]>();
    const keptScores: number[] = [];
    for (const r of journal.rewards(round)) {
      const edit = edits.get(r.selfEditId)!;
      const { person } = people.get(r.passageId)!;
      const score = facts.impliedScore(person, edit.completion);
      scores.push(score);
      rewards.push(r.reward);
      const doubled = facts.impliedRepeated(person, edit.completion);
      repeated.push(doubled);
      perPassage.set(r.passageId, [...(perPassage.get(r.passageId) ?? []), score]);
      if (kept.has(r.selfEditId)) {
        keptScores.push(score);
        keptRepeated.push(doubled);
      }
    }
    for (const ev of journal.evaluations(round)) {
      if (ev.kind !== 'self_edit' || !ev.selfEditId) continue;
      const person = people.get(ev.passageId)!;
      const text = edits.get(ev.selfEditId)!.completion;
      ev.perQuestion.forEach((q, j) => {
        const relation = person.record.questions[j]!.relation as PersonRelation;
        const key = `${relation}:${facts.status(person.person, relation, text)}`;
        const cell = answered.get(key) ?? [0, 0];
        cell[0] += q.correctAfter;
        cell[1] += 1;
        answered.set(key, cell);
      });
    }
    console.log(JSON.stringify({
      round,
      edits: scores.length,
      rewardVsImpliedScore: Number(correlation(scores, rewards).toFixed(3)),
      impliedScoreAll: Number(mean(scores).toFixed(2)),
      impliedScoreKept: Number(mean(keptScores).toFixed(2)),
      impliedScoreBestPerPassage: Number(mean([...perPassage.values()].map((s) => Math.max(...s))).toFixed(2)),
      // how far a passage's K edits differ: a policy that collapsed onto one edit leaves selection nothing to find
      impliedScoreSdWithinPassage: Number(mean([...perPassage.values()].map(standardDeviation)).toFixed(2)),
      // implied facts stated right on two or more lines: a style the student absorbs better
      impliedRepeatedAll: Number(mean(repeated).toFixed(2)),
      impliedRepeatedKept: Number(mean(keptRepeated).toFixed(2)),
      rewardVsImpliedRepeated: Number(correlation(repeated, rewards).toFixed(3)),
    }));
  }
} finally {
  journal.close();
}

console.log('answered after the inner loop, by what the edit said about the asked fact:');
const statuses: FactStatus[] = ['right', 'missing', 'wrong', 'both'];
const relations = [...new Set([...answered.keys()].map((k) => k.split(':')[0]!))].sort();
console.log(`  ${'relation'.padEnd(14)}${statuses.map((s) => s.padStart(14)).join('')}`);
for (const relation of relations) {
  const cells = statuses.map((s) => {
    const [c, n] = answered.get(`${relation}:${s}`) ?? [0, 0];
    return (n ? `${(c / n).toFixed(2)} (${n})` : '—').padStart(14);
  });
  console.log(`  ${relation.padEnd(14)}${cells.join('')}`);
}
