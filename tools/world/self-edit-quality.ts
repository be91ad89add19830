/**
 * @file `node --import tsx tools/world/self-edit-quality.ts MODEL_DIR [--world FILE] [--split val]
 * [--passages 20] [--samples 2] [--temperature 1] [--style implications] [--checkpoint FILE]`: how good a tiny-world model's own implications-style
 * self-edits are, measured against the world's ground truth instead of through a whole evaluation.
 * The self-edit row of the table can only beat passage-only when these edits name the passage's
 * person and state implied facts correctly; this says which of the two fails, in seconds.
 * MODEL_DIR may be an exported model or a `seal pretrain` checkpoint folder (then pass --world).
 * `--checkpoint RUN_DIR/checkpoints/ID.ckpt` reads a run's policy instead: the archived checkpoint,
 * sha256-checked against the run's journal, received by a ModelStore on MODEL_DIR (its config and
 * tokenizer) as an in-process teacher would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { CheckpointArchive, Journal, type CheckpointRef } from '@seal/coordinator';
import { ModelStore } from '@seal/coordinator/in-process';
import { generate } from '@seal/model';
import { DIRECT_RELATIONS, IMPLIED_RELATIONS, loadPretrained, readModelWorld, selfEditPrompt, type ImpliedRelation, type PassageSplit, type SelfEditStyle } from '@seal/tasks';
import { factChecker } from './fact-check';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    world: { type: 'string' },
    split: { type: 'string', default: 'val' },
    passages: { type: 'string', default: '20' },
    samples: { type: 'string', default: '2' },
    temperature: { type: 'string', default: '1' },
    style: { type: 'string', default: 'implications' },
    threads: { type: 'string', default: '2' },
    show: { type: 'string', default: '2' },
    checkpoint: { type: 'string' },
  },
});
const modelDir = positionals[0];
if (!modelDir) throw new Error('usage: self-edit-quality.ts MODEL_DIR [--world world.json] [--split val] [--passages N] [--samples K] [--checkpoint RUN_DIR/checkpoints/ID.ckpt]');
const { world } = readModelWorld(modelDir, values.world);
const passages = world.splits[values.split as PassageSplit].slice(0, Number(values.passages));
const lm = loadPretrained(values.checkpoint ? await receiveCheckpoint(modelDir, values.checkpoint) : modelDir, Number(values.threads));
const tokenizer = lm.tokenizer!;

const facts = factChecker(world);
/** Any other person's full name: a line about someone else teaches the wrong facts. */
const otherPeople = new RegExp(facts.everyone.map((p) => `\\b${p.person.name}\\b`).join('|'));

const totals = { edits: 0, lines: 0, titleLines: 0, otherNameLines: 0, impliedWrong: 0, impliedRepeated: 0, directRight: 0, directWrong: 0 };
/** Per implied relation, edits stating its true value; and how many edits state 0..5 of them right. */
const rightByRelation = Object.fromEntries(IMPLIED_RELATIONS.map((r) => [r, 0])) as Record<ImpliedRelation, number>;
const rightHistogram = IMPLIED_RELATIONS.map(() => 0).concat(0);
let shown = 0;
const started = Date.now();
for (const [i, p] of passages.entries()) {
  const ids = tokenizer.encode(selfEditPrompt(p.record, values.style as SelfEditStyle));
  for (let k = 0; k < Number(values.samples); k++) {
    const out = await generate(lm, [ids], { temperature: Number(values.temperature), topP: 0.95, maxNewTokens: 160, seed: 1000 * i + k });
    const text = out.texts[0]!.trim();
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    totals.edits++;
    totals.lines += lines.length;
    totals.titleLines += lines.filter((l) => l.includes(p.person.name)).length;
    totals.otherNameLines += lines.filter((l) => !l.includes(p.person.name) && otherPeople.test(l)).length;
    const impliedRight = IMPLIED_RELATIONS.filter((r) => facts.statesTruth(p.person, r, text));
    for (const r of impliedRight) rightByRelation[r]++;
    rightHistogram[impliedRight.length]!++;
    for (const relation of IMPLIED_RELATIONS) totals.impliedWrong += facts.wrongValues(p.person, relation, text);
    for (const relation of DIRECT_RELATIONS) {
      if (facts.statesTruth(p.person, relation, text)) totals.directRight++;
      totals.directWrong += facts.wrongValues(p.person, relation, text);
    }
    totals.impliedRepeated += facts.impliedRepeated(p.person, text);
    if (shown < Number(values.show)) {
      shown++;
      console.log(`--- ${p.person.name}: ${p.record.context}\n${text}\n`);
    }
  }
}
await lm.release();
const per = (n: number) => (n / totals.edits).toFixed(2);
console.log(
  JSON.stringify({
    model: modelDir, ...(values.checkpoint ? { checkpoint: values.checkpoint } : {}),
    split: values.split,
    edits: totals.edits,
    seconds: Math.round((Date.now() - started) / 1000),
    linesPerEdit: per(totals.lines),
    titleLineRate: (totals.titleLines / Math.max(1, totals.lines)).toFixed(2),
    otherNameLineRate: (totals.otherNameLines / Math.max(1, totals.lines)).toFixed(2),
    impliedRightPerEdit: per(Object.values(rightByRelation).reduce((a, b) => a + b, 0)),
    impliedWrongPerEdit: per(totals.impliedWrong),
    impliedRepeatedPerEdit: per(totals.impliedRepeated),
    // the gap to a perfect edit is mostly facts left out, not wrong ones: a whole-edit spread gives best-of-K more to find
    impliedRightRateByRelation: Object.fromEntries(Object.entries(rightByRelation).map(([r, n]) => [r, Number((n / totals.edits).toFixed(2))])),
    impliedRightHistogram: rightHistogram,
    directRightPerEdit: per(totals.directRight),
    directWrongPerEdit: per(totals.directWrong),
  }),
);

/** A temporary model folder for an archived checkpoint of a run, through the roles' own ModelStore. */
async function receiveCheckpoint(dir: string, file: string): Promise<string> {
  const runDir = dirname(dirname(file));
  const journal = Journal.open(runDir);
  let ref: CheckpointRef;
  try {
    ref = journal.requireCheckpoint(basename(file, '.ckpt'));
  } finally {
    journal.close();
  }
  const root = mkdtempSync(join(tmpdir(), 'seal-checkpoint-'));
  process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  const store = new ModelStore(dir, root);
  await store.receive(new CheckpointArchive(runDir).read(ref, 1 << 20));
  return store.dirOf(ref);
}
