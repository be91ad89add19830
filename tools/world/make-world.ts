/**
 * @file `pnpm world [--seed N] [--out DIR] [--set key=value …]`: generate the tiny world and write
 * it (passages per split, oracle self-edits, pretraining corpus, tokenizer, manifest) to a folder.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_WORLD_CONFIG, generateWorld, writeWorldFiles, type WorldConfig } from '@seal/tasks';

const USAGE = `usage: pnpm world [--seed N] [--out DIR] [--set key=value ...]
  --seed  world seed (default 1)
  --out   output folder (default runs/world-<seed>)
  --set   override a world config field, e.g. --set pretrainPeople=3000 --set directQuestionRate=0.3
config fields: ${Object.keys(DEFAULT_WORLD_CONFIG).join(', ')}`;

function parseOverrides(pairs: string[]): Partial<WorldConfig> {
  const overrides: Record<string, number> = {};
  for (const pair of pairs) {
    const match = /^(\w+)=(.+)$/.exec(pair);
    if (!match) throw new Error(`--set expects key=value, got "${pair}"`);
    const [, key, raw] = match as unknown as [string, string, string];
    if (!(key in DEFAULT_WORLD_CONFIG)) throw new Error(`--set: unknown config field "${key}"\n${USAGE}`);
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`--set ${key}: "${raw}" is not a number`);
    overrides[key] = value;
  }
  return overrides as Partial<WorldConfig>;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got "${values.seed}"`);
  const out = path.resolve(values.out ?? `runs/world-${seed}`);
  const started = Date.now();
  const manifest = writeWorldFiles(generateWorld(seed, parseOverrides(values.set)), out);
  const { splits, pretraining, tokenizer } = manifest;
  console.log(`world seed ${seed} → ${out} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  for (const [split, s] of Object.entries(splits)) {
    console.log(`  ${split.padEnd(8)} ${s.passages} passages, ${s.questions} questions (${s.impliedQuestions} implied)`);
  }
  console.log(`  pretraining ${pretraining.documents} documents, ${pretraining.tokens} tokens; vocab ${tokenizer.vocabSize}`);
}

try {
  main();
} catch (error) {
  console.error(`make-world: ${(error as Error).message}`);
  process.exitCode = 1;
}
