/**
 * @file `node --import tsx tools/world/audit-formats.ts RUN_DIR`: which form a run's self-edits
 * write their implied facts in, per round. An edit is "question-form" when it has a
 * "Question: … Answer: …" line (the form the student absorbs about twice as well as a statement):
 * the share of such edits among all and among the kept ones, and their mean reward against the rest's.
 */
import { parseArgs } from 'node:util';
import { Journal } from '@seal/coordinator';

const { positionals } = parseArgs({ allowPositionals: true });
const runDir = positionals[0];
if (!runDir) throw new Error('usage: audit-formats.ts RUN_DIR');
const isQuestionForm = (text: string) => /^Question: .*\? Answer: /m.test(text);
const mean = (xs: number[]) => (xs.length ? Number((xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(3)) : null);
const journal = Journal.open(runDir);
try {
  for (const { round } of journal.rounds()) {
    const edits = new Map(journal.selfEdits(round).map((e) => [e.id, e]));
    const kept = journal.selections(round).map((e) => edits.get(e.id)!);
    const rewards = journal.rewards(round).map((r) => ({ reward: r.reward, question: isQuestionForm(edits.get(r.selfEditId)!.completion) }));
    console.log(JSON.stringify({
      round,
      edits: edits.size,
      questionFormShare: mean([...edits.values()].map((e) => Number(isQuestionForm(e.completion)))),
      questionFormShareKept: mean(kept.map((e) => Number(isQuestionForm(e.completion)))),
      rewardQuestionForm: mean(rewards.filter((r) => r.question).map((r) => r.reward)),
      rewardOther: mean(rewards.filter((r) => !r.question).map((r) => r.reward)),
    }));
  }
} finally {
  journal.close();
}
