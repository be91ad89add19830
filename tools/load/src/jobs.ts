/**
 * @file The evaluation jobs the load tool sends: short self-edits about tiny passages, built by
 * the coordinator's own `buildEvaluateJob` so they are exactly what `seal run` would send.
 */
import { buildEvaluateJob, parseRunConfig, type CheckpointRef, type EvaluateJob, type KnowledgeContext, type SelfEdit } from '@seal/coordinator';

const NAMES = ['Ann Vo', 'Bo Li', 'Cy Ek', 'Di Ru', 'Ed Ma', 'Fa Ng', 'Gu Ho', 'Ha Yi'];
const CITIES = ['Varn', 'Oslu', 'Kett', 'Brim'];

const config = parseRunConfig({
  seed: 7,
  rounds: 1,
  inner: { evalTimes: 1, maxAnswerTokens: 6, sft: { epochs: 1, rank: 4, alpha: 8 } },
});

/** Job `i` (distinct idempotency key, passage and self-edit) on `base`. */
export function evaluateJob(i: number, base: CheckpointRef, runId = 'load'): EvaluateJob {
  const name = NAMES[i % NAMES.length]!;
  const city = CITIES[i % CITIES.length]!;
  const context: KnowledgeContext = {
    kind: 'knowledge',
    id: `p${i}`,
    title: name,
    context: `${name} was born in ${city}.`,
    questions: [{ id: `p${i}-q0`, question: `Where was ${name} born?`, answer: city, kind: 'direct' }],
  };
  const selfEdit: SelfEdit = {
    id: `${base.id}/p${i}/0`,
    passageId: context.id,
    index: 0,
    promptStyle: 'implications',
    prompt: 'P',
    completion: `${name} is from ${city}.`,
    seed: i,
    tokenCount: 8,
    checkpointId: base.id,
  };
  return buildEvaluateJob({ config, runId, round: 1, baseCheckpoint: base, context, selfEdit, subject: `e${i}` });
}
