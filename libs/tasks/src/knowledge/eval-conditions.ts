/**
 * @file The pieces of `seal eval knowledge` that are pure data: the conditions and splits it
 * accepts (checked with errors naming the flag), the world a model was pretrained on (its
 * `world.json`), the held-out passages as scoring contexts, and the printed table.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generateWorld, type PassageSplit, type World, type WorldConfig, type WorldPassage } from './world';

export const EVAL_CONDITIONS = ['base', 'passage', 'self-edit', 'oracle'] as const;
export type EvalCondition = (typeof EVAL_CONDITIONS)[number];
export const EVAL_SPLITS = ['val', 'test'] as const;
export type EvalSplit = (typeof EVAL_SPLITS)[number];

export class EvalInputError extends Error {
  override name = 'EvalInputError';
}

/** `--condition` values, repeated and/or comma lists, deduplicated in first-seen order. */
export function parseEvalConditions(values: readonly string[]): EvalCondition[] {
  const out: EvalCondition[] = [];
  for (const raw of values.flatMap((v) => v.split(','))) {
    const name = raw.trim();
    if (!(EVAL_CONDITIONS as readonly string[]).includes(name)) {
      throw new EvalInputError(`--condition: unknown condition "${name}" (expected ${EVAL_CONDITIONS.join(', ')})`);
    }
    if (!out.includes(name as EvalCondition)) out.push(name as EvalCondition);
  }
  if (out.length === 0) throw new EvalInputError(`--condition: give at least one of ${EVAL_CONDITIONS.join(', ')}`);
  return out;
}

export function parseEvalSplit(value: string): EvalSplit {
  if (!(EVAL_SPLITS as readonly string[]).includes(value)) throw new EvalInputError(`--split: unknown split "${value}" (expected val or test)`);
  return value as EvalSplit;
}

/**
 * The world recorded beside a model (`world.json` = {seed, config}), regenerated deterministically.
 * `worldFile` names it elsewhere, for a `seal pretrain` checkpoint folder, which has none.
 */
export function readModelWorld(modelDir: string, worldFile?: string): { seed: number; config: Partial<WorldConfig>; world: World } {
  if (!existsSync(modelDir)) throw new EvalInputError(`--model: ${modelDir} does not exist`);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) {
    if (!existsSync(path.join(modelDir, f))) throw new EvalInputError(`--model: ${modelDir} has no ${f} (not a model folder)`);
  }
  const file = worldFile ?? path.join(modelDir, 'world.json');
  if (!existsSync(file)) throw new EvalInputError(`${worldFile ? '--world' : '--model'}: ${file} not found (the world the model was pretrained on; seal pretrain writes it)`);
  const { seed, config } = readWorldFile(file);
  return { seed, config, world: generateWorld(seed, config) };
}

/** The seed and config of a `world.json` (seal pretrain and `pnpm world` write one), from which generateWorld rebuilds the world. */
export function readWorldFile(file: string): { seed: number; config: Partial<WorldConfig> } {
  let parsed: { seed?: unknown; config?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
  } catch (e) {
    throw new EvalInputError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed.seed !== 'number' || typeof parsed.config !== 'object' || parsed.config === null) {
    throw new EvalInputError(`${file}: expected {"seed": number, "config": {...}} as seal pretrain and pnpm world write it`);
  }
  return { seed: parsed.seed, config: parsed.config as Partial<WorldConfig> };
}

/** A held-out passage as the coordinator scores it (structurally its KnowledgeContext). */
export interface EvalContext {
  kind: 'knowledge';
  id: string;
  title: string;
  context: string;
  questions: { id: string; question: string; answer: string; kind?: 'direct' | 'implied' }[];
}

/** Passages as contexts with ids `<prefix>-0000`, `<prefix>-0001`, … and questions `<id>-q<j>` (seal run: `train-…`, `test-…`). */
export function passageContexts(passages: readonly WorldPassage[], idPrefix: string): EvalContext[] {
  return passages.map((p, i) => {
    const id = `${idPrefix}-${String(i).padStart(4, '0')}`;
    const { title, context, questions } = p.record;
    return { kind: 'knowledge', id, title, context, questions: questions.map((q, j) => ({ id: `${id}-q${j}`, question: q.question, answer: q.answer, ...(q.kind ? { kind: q.kind } : {}) })) };
  });
}

/** The split's first `limit` passages, ids `<split>-0000…` (the same ids `seal run` gives test passages), and their oracle self-edits. */
export function evalContexts(world: World, split: EvalSplit, limit?: number): { contexts: EvalContext[]; oracle: Record<string, string> } {
  const passages = world.splits[split satisfies PassageSplit];
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new EvalInputError(`--limit must be a positive integer, got ${limit}`);
  const chosen = passages.slice(0, limit ?? passages.length);
  const contexts = passageContexts(chosen, split);
  return { contexts, oracle: Object.fromEntries(chosen.map((p, i) => [contexts[i].id, p.oracle])) };
}

export interface EvalRow {
  condition: EvalCondition;
  accuracy: number;
  n_passages: number;
  n_questions: number;
  /** Edits that could not be trained on (their questions count as wrong). */
  failures?: number;
  /** self-edit: the accuracy of each of the K samples, whose mean is `accuracy`. */
  samples?: number[];
  seconds?: number;
}

export function formatEvalTable(rows: readonly EvalRow[]): string {
  const head = ['condition', 'accuracy', 'passages', 'questions', 'failures', 'seconds'];
  const body = rows.map((r) => [r.condition, `${(100 * r.accuracy).toFixed(1)}%${r.samples ? ` (K=${r.samples.length})` : ''}`, `${r.n_passages}`, `${r.n_questions}`, `${r.failures ?? 0}`, r.seconds === undefined ? '' : r.seconds.toFixed(0)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
