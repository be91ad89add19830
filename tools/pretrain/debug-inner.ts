/** @file Debug aid: one passage's inner loop on a model folder, printing losses and answers per question. */
import { generate, initLoraAdapter, LanguageModel, trainLora } from '@seal/model';
import { buildTrainSequences, evalContexts, questionPrompt, readModelWorld } from '@seal/tasks';

const [dir, lrS, epochsS, targetsS, which, idxS] = process.argv.slice(2);
const { world } = readModelWorld(dir);
const { contexts, oracle } = evalContexts(world, 'val', 8);
const lm = LanguageModel.load(dir, { intraOpThreads: 1 });
const tok = lm.tokenizer!;
for (const c of contexts.slice(Number(idxS ?? 0), Number(idxS ?? 0) + 2)) {
  const texts = buildTrainSequences(c, which === 'oracle' ? oracle[c.id] : '', { splitNewlines: true });
  const examples = texts.map((t) => { const ids = [...tok.encode(t), tok.eosId!]; return { inputIds: ids, labels: ids }; });
  const adapter = initLoraAdapter(lm.config, { r: 8, alpha: 16, targetModules: targetsS.split(',') }, 1);
  const epochs = Number(epochsS);
  const { trained, losses } = await trainLora(lm, adapter, examples, { steps: epochs * Math.ceil(examples.length / 8), lr: Number(lrS), batchSize: 8 });
  console.log(c.title, 'seqs', texts.length, 'loss', losses[0].toFixed(3), '→', losses.at(-1)!.toFixed(3));
  for (const a of [null, trained]) {
    const prompts = c.questions.map((q) => tok.encode(questionPrompt(c.title, q.question)));
    const out = await generate(lm, prompts, { maxNewTokens: 8, temperature: 0, adapter: a, stopStrings: ['\n'] });
    console.log(a ? ' after:' : ' before:', c.questions.map((q, i) => `${q.answer}=>${out.texts[i].trim()}`).join(' | '));
  }
}
await lm.release();
