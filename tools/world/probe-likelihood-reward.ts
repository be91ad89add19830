/**
 * @file `node --import tsx tools/world/probe-likelihood-reward.ts MODEL_DIR [--passages 24] [--k 4]
 * [--sft JSON] [--common-seed]`: does the reward find self-edits that are good, or inner loops that were lucky?
 * K self-edits per RL-train passage are sampled as a run's E-step samples them. Each goes through
 * the student's inner loop (the model folder's `inner_loop.json`, `--sft` over it) twice, from two
 * adapter seeds. After the first, the student answers the passage's own questions (the accuracy
 * reward) and the gold answers' probabilities are read by teacher forcing (a likelihood reward), and
 * it answers all 15 implied question templates (`all`). After the second (`fresh`), it answers all of
 * them again. Correlations are within a passage (each passage's mean removed), since selection only
 * compares edits of one passage; `kept*` are the means over the edit each reward would keep.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRuntime } from '@seal/engine';
import type { SelfEdit } from '@seal/coordinator';
import { InProcessTeacher } from '@seal/coordinator/in-process';
import { generate, initLoraAdapter, LanguageModel, trainLora, type LoraAdapter } from '@seal/model';
import { buildTrainSequences, createMatchGrader, questionPrompt } from '@seal/tasks';
import { impliedTemplateQuestions } from './implied-questions';
import { rlTrainProbe } from './rl-train-probe';
import { correlation, mean } from './stats';

type Q = { question: string; answer: string };

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { passages: { type: 'string', default: '24' }, k: { type: 'string', default: '4' }, sft: { type: 'string', default: '{}' }, 'common-seed': { type: 'boolean', default: false } },
});
const modelDir = positionals[0];
if (!modelDir) throw new Error('usage: probe-likelihood-reward.ts MODEL_DIR [--passages N] [--k K] [--sft JSON] [--common-seed]');
const { facts, config, passages, own } = rlTrainProbe(modelDir, values.sft!, Number(values.passages));

// Sample the edits as a run's E-step does: the teacher role, its prompts and per-edit seeds.
const storeDir = mkdtempSync(join(tmpdir(), 'likelihood-'));
const teacher = new InProcessTeacher({ modelDir, storeDir });
const edits: SelfEdit[] = [];
try {
  const checkpoint = (await teacher.info()).baseCheckpoint;
  for await (const e of teacher.generateSelfEdits({
    checkpoint, contexts: own, promptStyle: config.selfEdits.promptStyle, count: Number(values.k),
    sampling: { temperature: config.selfEdits.temperature, topP: config.selfEdits.topP, maxNewTokens: config.selfEdits.maxNewTokens }, seed: 77,
  })) edits.push(e);
} finally {
  await teacher.release();
  rmSync(storeDir, { recursive: true, force: true });
}

const runtime = createRuntime({ intraOpThreads: 1, workers: 2 });
const lm = LanguageModel.load(modelDir, { runtime });
const tok = lm.tokenizer!;
const sft = config.inner.sft;
const grader = createMatchGrader('contains');

async function greedyCorrect(title: string, questions: readonly Q[], adapter: LoraAdapter | null): Promise<number[]> {
  const prompts = questions.map((q) => tok.encode(questionPrompt(title, q.question)));
  const out = await generate(lm, prompts, { temperature: 0, maxNewTokens: config.inner.maxAnswerTokens, adapter, stopStrings: ['\n\n'] });
  // graded as the student grades (its default 'contains' matcher)
  const verdicts = await grader.grade(questions.map((q, i) => ({ question: q.question, gold: q.answer, prediction: out.texts[i]!.trim() })));
  return verdicts.map((ok) => (ok ? 1 : 0));
}

/** Probability of the gold answer's tokens after the prompt (teacher forcing), per question. */
async function goldProbability(title: string, questions: readonly Q[], adapter: LoraAdapter | null): Promise<number[]> {
  return Promise.all(questions.map(async (q) => {
    const prompt = tok.encode(questionPrompt(title, q.question));
    const ids = tok.encode(questionPrompt(title, q.question) + q.answer);
    if (ids.slice(0, prompt.length).some((t, i) => t !== prompt[i])) throw new Error(`prompt tokens are not a prefix of '${q.question}' + its answer`);
    const logits = await lm.logits([ids], adapter);
    const v = lm.config.vocabSize;
    const data = logits.data as Float32Array;
    let logp = 0;
    for (let t = prompt.length; t < ids.length; t++) {
      const row = data.subarray((t - 1) * v, t * v);
      let max = -Infinity;
      for (const x of row) max = Math.max(max, x);
      let z = 0;
      for (const x of row) z += Math.exp(x - max);
      logp += row[ids[t]!]! - max - Math.log(z);
    }
    return Math.exp(logp);
  }));
}

const templates = (i: number): Q[] => impliedTemplateQuestions(passages[i]!.person, own[i]!.id);

const started = Date.now();
const before = await Promise.all(own.map(async (c, i) => ({
  acc: mean(await greedyCorrect(c.title, c.questions, null)),
  prob: mean(await goldProbability(c.title, c.questions, null)),
  all: mean(await greedyCorrect(c.title, templates(i), null)),
})));
const rows: { passage: number; score: number; acc: number; prob: number; all: number; fresh: number }[] = [];
let next = 0;
async function worker(): Promise<void> {
  while (next < edits.length) {
    const n = next++;
    const edit = edits[n]!;
    const i = own.findIndex((c) => c.id === edit.passageId);
    const c = own[i]!;
    const examples = buildTrainSequences(c, edit.completion, { splitNewlines: config.inner.splitNewlines }).map((text) => {
      const ids = [...tok.encode(text), tok.eosId!];
      return { inputIds: ids, labels: ids };
    });
    const train = async (seed: number) => (await trainLora(lm, initLoraAdapter(lm.config, { r: sft.rank, alpha: sft.alpha, targetModules: sft.targets }, seed), examples, {
      steps: sft.epochs * Math.ceil(examples.length / sft.batchSize), lr: sft.lr, schedule: sft.schedule, warmup: sft.warmup, batchSize: sft.batchSize,
    })).trained;
    // --common-seed: every edit of a passage starts from the same adapter (common random numbers).
    const seed = values['common-seed'] ? i : n;
    const trained = await train(seed);
    // A second inner loop from another adapter seed: what the edit teaches, without the first run's luck.
    const again = await train(seed + 100_000);
    rows.push({
      passage: i,
      score: facts.impliedScore(passages[i]!.person, edit.completion),
      acc: mean(await greedyCorrect(c.title, c.questions, trained)) - before[i]!.acc,
      prob: mean(await goldProbability(c.title, c.questions, trained)) - before[i]!.prob,
      all: mean(await greedyCorrect(c.title, templates(i), trained)) - before[i]!.all,
      fresh: mean(await greedyCorrect(c.title, [...c.questions, ...templates(i)], again)) - (before[i]!.acc * c.questions.length + before[i]!.all * 15) / (c.questions.length + 15),
    });
    if (rows.length % 8 === 0) console.error(`${rows.length}/${edits.length} edits, ${((Date.now() - started) / 60000).toFixed(1)} min`);
  }
}
await Promise.all([worker(), worker()]);
await lm.release();
await runtime.release();

// Within-passage correlation (each passage's mean removed): selection only compares edits of one passage.
const centred = (key: 'score' | 'acc' | 'prob' | 'all' | 'fresh') => rows.map((r) => {
  const same = rows.filter((s) => s.passage === r.passage);
  return r[key] - mean(same.map((s) => s[key]));
});
const keptBy = (key: 'acc' | 'prob') => own.map((_, i) => rows.filter((r) => r.passage === i).reduce((a, b) => (b[key] > a[key] ? b : a)));
const summary = (key: 'acc' | 'prob') => ({
  withAll: Number(correlation(centred(key), centred('all')).toFixed(3)),
  withScore: Number(correlation(centred(key), centred('score')).toFixed(3)),
  keptAll: Number(mean(keptBy(key).map((r) => r.all)).toFixed(3)),
  withFresh: Number(correlation(centred(key), centred('fresh')).toFixed(3)),
  keptFresh: Number(mean(keptBy(key).map((r) => r.fresh)).toFixed(3)),
  keptScore: Number(mean(keptBy(key).map((r) => r.score)).toFixed(2)),
});
console.log(JSON.stringify({
  model: modelDir, edits: rows.length, minutes: Number(((Date.now() - started) / 60000).toFixed(1)),
  all: { gainFresh: Number(mean(rows.map((r) => r.fresh)).toFixed(3)), allVsFresh: Number(correlation(centred('all'), centred('fresh')).toFixed(3)), gainAll: Number(mean(rows.map((r) => r.all)).toFixed(3)), score: Number(mean(rows.map((r) => r.score)).toFixed(2)) },
  bestPossible: { keptFresh: Number(mean(own.map((_, i) => Math.max(...rows.filter((r) => r.passage === i).map((r) => r.fresh)))).toFixed(3)), keptAll: Number(mean(own.map((_, i) => Math.max(...rows.filter((r) => r.passage === i).map((r) => r.all)))).toFixed(3)) },
  accuracyReward: summary('acc'),
  likelihoodReward: summary('prob'),
}));
