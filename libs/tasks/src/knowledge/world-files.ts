/**
 * @file Writes a generated world to a folder: passages per split (SEAL's JSON), oracle self-edits
 * (SEAL's synthetic format), the pretraining corpus (JSONL), tokenizer files, and a manifest with
 * the seed, config, counts and sha256 of every file — so a world is reproducible and checkable.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pretrainingCorpus, type PretrainDocument, type PretrainKind } from './pretraining-corpus';
import { buildTokenizer, loadTokenizer } from './tokenizer-builder';
import { oracleRecords, PASSAGE_SPLITS, splitPassages, type PassageSplit, type World, type WorldConfig } from './world';

/** File name of a split's passages; SEAL-style underscores (`rl_train.json`). */
export const splitFileName = (split: PassageSplit) => `${split.replace('-', '_')}.json`;
export const oracleFileName = (split: PassageSplit) => `oracle_${split.replace('-', '_')}.json`;

export interface WorldManifest {
  generator: string;
  seed: number;
  config: WorldConfig;
  splits: Record<PassageSplit, { passages: number; questions: number; impliedQuestions: number }>;
  pretraining: { documents: number; tokens: number; byKind: Record<string, { documents: number; tokens: number }> };
  tokenizer: { vocabSize: number };
  files: Record<string, { bytes: number; sha256: string }>;
}

/** The corpus as `pretrain.jsonl` holds it, one document per line; its sha256 is a model's `corpusSha256`. */
export function corpusJsonl(corpus: PretrainDocument[]): string {
  return corpus.map((doc) => JSON.stringify(doc)).join('\n') + '\n';
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 1)}\n`;
}

/** Write everything; returns the manifest (also written as manifest.json). */
export function writeWorldFiles(world: World, dir: string, generator = 'tools/world/make-world.ts'): WorldManifest {
  mkdirSync(dir, { recursive: true });
  const contents = new Map<string, string>();

  const splits = {} as WorldManifest['splits'];
  for (const split of PASSAGE_SPLITS) {
    const passages = splitPassages(world, split);
    const questions = passages.flatMap((p) => p.questions);
    splits[split] = { passages: passages.length, questions: questions.length, impliedQuestions: questions.filter((q) => q.kind === 'implied').length };
    contents.set(splitFileName(split), json(passages));
    contents.set(oracleFileName(split), json(oracleRecords(world, split)));
  }

  const corpus = pretrainingCorpus(world);
  contents.set('pretrain.jsonl', corpusJsonl(corpus));

  // The vocabulary covers everything the model will read or write, held-out passages included:
  // they use the world's closed vocabulary (new name pairs, known words), so nothing leaks.
  const heldOut = PASSAGE_SPLITS.flatMap((s) => splitPassages(world, s));
  const oracles = PASSAGE_SPLITS.flatMap((s) => world.splits[s].map((p) => p.oracle));
  const tokenizerFiles = buildTokenizer([
    ...corpus.map((d) => d.text),
    ...heldOut.flatMap((p) => [p.title, p.context, ...p.questions.flatMap((q) => [q.question, q.answer])]),
    ...oracles,
  ]);
  contents.set('tokenizer.json', json(tokenizerFiles.tokenizer));
  contents.set('tokenizer_config.json', json(tokenizerFiles.config));
  contents.set('world.json', json({ seed: world.seed, config: world.config, entities: world.entities }));

  const tokenizer = loadTokenizer(tokenizerFiles);
  const byKind: Record<string, { documents: number; tokens: number }> = {};
  let tokens = 0;
  for (const doc of corpus) {
    // +1 for the EOS a trainer appends (the tokenizer already adds BOS).
    const n = tokenizer.encode(doc.text).ids.length + 1;
    const entry = (byKind[doc.kind satisfies PretrainKind] ??= { documents: 0, tokens: 0 });
    entry.documents++;
    entry.tokens += n;
    tokens += n;
  }

  const files: WorldManifest['files'] = {};
  for (const [name, text] of contents) {
    writeFileSync(path.join(dir, name), text);
    files[name] = { bytes: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
  }
  const manifest: WorldManifest = {
    generator,
    seed: world.seed,
    config: world.config,
    splits,
    pretraining: { documents: corpus.length, tokens, byKind },
    tokenizer: { vocabSize: Object.keys((tokenizerFiles.tokenizer.model as { vocab: object }).vocab).length },
    files,
  };
  writeFileSync(path.join(dir, 'manifest.json'), json(manifest));
  return manifest;
}

/** Re-hash a written world against its manifest; returns the names of files that differ. */
export function verifyWorldFiles(dir: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as WorldManifest;
  return Object.entries(manifest.files)
    .filter(([name, { sha256 }]) => {
      try {
        return createHash('sha256').update(readFileSync(path.join(dir, name))).digest('hex') !== sha256;
      } catch {
        return true;
      }
    })
    .map(([name]) => name);
}
