/**
 * @file `node --import tsx tools/world/probe-reward-noise.ts MODEL_DIR [--passages 24] [--k 4]
 * [--sft JSON]`: would more questions per RL-train passage make the reward find the good self-edits?
 * K self-edits per RL-train passage are sampled as a run's E-step samples them and each goes through
 * the student's real inner loop once; the student is then asked the passage's own questions and
 * every implied relation in every question template (15). Prints, for each question set, the
 * correlation of the reward with the edit's ground-truth implied score (right − wrong), and the
 * ground-truth score of the edits that reward would keep (best per passage).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { KnowledgeContext } from '@seal/coordinator';
import { createInProcessRoles } from '@seal/coordinator/in-process';
import { impliedTemplateQuestions } from './implied-questions';
import { rlTrainProbe } from './rl-train-probe';
import { correlation, mean } from './stats';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { passages: { type: 'string', default: '24' }, k: { type: 'string', default: '4' }, sft: { type: 'string', default: '{}' } },
});
const modelDir = positionals[0];
if (!modelDir) throw new Error('usage: probe-reward-noise.ts MODEL_DIR [--passages N] [--k K] [--sft JSON]');
const { facts, config, passages, own } = rlTrainProbe(modelDir, values.sft!, Number(values.passages));
// The passage's own questions first, then every implied relation × template.
const contexts: KnowledgeContext[] = own.map((c, i) => {
  return { ...c, questions: [...c.questions, ...impliedTemplateQuestions(passages[i]!.person, c.id)] };
});

const workDir = mkdtempSync(join(tmpdir(), 'reward-noise-'));
const roles = createInProcessRoles({ modelDir, workDir, students: 2, capacity: 1, runtime: { intraOpThreads: 1, workers: 2 } });
try {
  const base = (await roles.teacher.info()).baseCheckpoint;
  const edits = [];
  for await (const e of roles.teacher.generateSelfEdits({
    checkpoint: base, contexts: own, promptStyle: config.selfEdits.promptStyle, count: Number(values.k),
    sampling: { temperature: config.selfEdits.temperature, topP: config.selfEdits.topP, maxNewTokens: config.selfEdits.maxNewTokens }, seed: 77,
  })) edits.push(e);
  const started = Date.now();
  const rows = await Promise.all(edits.map(async (edit, n) => {
    const i = own.findIndex((c) => c.id === edit.passageId);
    const student = roles.students[n % roles.students.length]!;
    const res = await student.evaluate({
      idempotencyKey: `noise-${edit.id}`, baseCheckpoint: base, selfEdit: edit, sft: config.inner.sft,
      eval: { context: contexts[i]!, splitNewlines: config.inner.splitNewlines, appendPassage: config.inner.appendPassage, maxAnswerTokens: config.inner.maxAnswerTokens },
      repeats: 1, seed: n,
    });
    const gain = res.perQuestion.map((q) => q.correctAfter - Number(q.correctBefore));
    const nOwn = own[i]!.questions.length;
    return { passage: i, score: facts.impliedScore(passages[i]!.person, edit.completion), own: mean(gain.slice(0, nOwn)), all: mean(gain.slice(nOwn)) };
  }));
  const report = (key: 'own' | 'all') => {
    const kept = own.map((_, i) => rows.filter((r) => r.passage === i).reduce((a, b) => (b[key] > a[key] ? b : a)).score);
    return { rewardVsScore: Number(correlation(rows.map((r) => r.score), rows.map((r) => r[key])).toFixed(3)), keptScore: Number(mean(kept).toFixed(2)) };
  };
  const best = own.map((_, i) => Math.max(...rows.filter((r) => r.passage === i).map((r) => r.score)));
  console.log(JSON.stringify({
    model: modelDir, edits: rows.length, minutes: Number(((Date.now() - started) / 60000).toFixed(1)),
    scoreAll: Number(mean(rows.map((r) => r.score)).toFixed(2)), scoreBest: Number(mean(best).toFixed(2)),
    ownQuestions: report('own'), allImpliedTemplates: report('all'), sft: values.sft,
  }));
} finally {
  await roles.release();
  rmSync(workDir, { recursive: true, force: true });
}
