/**
 * @file `seal eval knowledge`: the paper's baseline table on held-out tiny-world passages. Per
 * passage a fresh LoRA is trained on the condition's sequences and the passage's questions are
 * answered closed-book — through the coordinator's `evaluateTable` and in-process roles, the same
 * scorer `seal run` uses, so the two never disagree about what a row means.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { evaluateTable, loadRunConfig, StudentPool, type RunConfig, type RunConfigInput, type TableCondition } from '@seal/coordinator';
import { createInProcessRoles } from '@seal/coordinator/in-process';
import { evalContexts, EvalInputError, formatEvalTable, parseEvalConditions, parseEvalSplit, readModelWorld, type EvalCondition, type EvalRow } from '@seal/tasks';
import { EMBEDDED_MODEL_DIR } from '../embedded-model';

/** The committed tiny-world model (models/tiny-world at the repository root). */
export const DEFAULT_MODEL_DIR = EMBEDDED_MODEL_DIR;
/** Inner-loop settings scaled to the tiny model, kept beside it (recorded in its MODEL_CARD.md). */
export const INNER_LOOP_FILE = 'inner_loop.json';

export interface EvalKnowledgeOptions {
  model: string;
  conditions: EvalCondition[];
  split: 'val' | 'test';
  limit?: number;
  /** self-edit samples per passage (K); the row is their mean. */
  samples: number;
  /** a run config (YAML/JSON) whose inner-loop settings replace the model's inner_loop.json. */
  config?: string;
  students: number;
  capacity: number;
  seed: number;
  progress: boolean;
}

/** The run config the table is scored with: the model's inner-loop file, then --config, then the seed. */
export function evalRunConfig(modelDir: string, configFile: string | undefined, seed: number): RunConfig {
  const innerFile = path.join(modelDir, INNER_LOOP_FILE);
  const modelDefaults: RunConfigInput = existsSync(innerFile) ? (JSON.parse(readFileSync(innerFile, 'utf8')) as RunConfigInput) : {};
  const base = configFile ? loadRunConfig(configFile) : loadRunConfig(undefined, modelDefaults);
  return loadRunConfig(undefined, { ...(base as RunConfigInput), seed });
}

export async function evalKnowledge(o: EvalKnowledgeOptions): Promise<EvalRow[]> {
  const { world } = readModelWorld(o.model);
  const { contexts, oracle } = evalContexts(world, o.split, o.limit);
  const config = evalRunConfig(o.model, o.config, o.seed);
  const nQuestions = contexts.reduce((n, c) => n + c.questions.length, 0);
  const workDir = mkdtempSync(path.join(tmpdir(), 'seal-eval-'));
  // One ORT worker per concurrent evaluation, one thread each: evaluations run side by side, not queued on one worker.
  const roles = createInProcessRoles({ modelDir: o.model, workDir, students: o.students, capacity: o.capacity, runtime: { intraOpThreads: 1, workers: o.students * o.capacity } });
  let bar: cliProgress.SingleBar | undefined;
  const pool = new StudentPool(roles.students, {
    retry: config.rpc.retry,
    evaluateDeadlineMs: config.rpc.evaluateDeadlineMs,
    infoDeadlineMs: config.rpc.infoDeadlineMs,
    maxEvaluateAttempts: config.rpc.maxEvaluateAttempts,
    onEvent: (event) => {
      if (event.type === 'progress') bar?.update(event.done, { total: event.total });
    },
  });
  const rows: EvalRow[] = [];
  try {
    await pool.connect();
    const base = (await roles.teacher.info()).baseCheckpoint;
    const score = async (label: string, conditions: TableCondition[], runConfig: RunConfig) => {
      if (o.progress) {
        bar = new cliProgress.SingleBar({ format: `${label.padEnd(14)} [{bar}] {value}/{total} passages | {duration_formatted} | ETA {eta_formatted}`, etaBuffer: 20, stream: process.stderr, noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 15_000 }, cliProgress.Presets.shades_classic);
        bar.start(contexts.length, 0);
      }
      try {
        return await evaluateTable({ config: runConfig, teacher: roles.teacher, pool, contexts, conditions, label: `eval/${label}` });
      } catch (error) {
        throw new Error(`condition ${label} on ${o.split} (${contexts.length} passages): ${(error as Error).message}`, { cause: error });
      } finally {
        bar?.stop();
        bar = undefined;
      }
    };
    for (const condition of o.conditions) {
      const started = performance.now();
      const row = (accuracy: number, failures: number, samples?: number[]): EvalRow => ({
        condition,
        accuracy,
        n_passages: contexts.length,
        n_questions: nQuestions,
        failures,
        ...(samples ? { samples } : {}),
        seconds: (performance.now() - started) / 1000,
      });
      if (condition === 'base' || condition === 'passage') {
        if (rows.some((r) => r.condition === condition)) continue;
        // base is read from the same jobs as passage (the score before the update), so both rows cost one pass
        const both = o.conditions.includes('base') && o.conditions.includes('passage');
        const names: ('base' | 'passage')[] = both ? ['base', 'passage'] : [condition];
        const scored = await score(names.join('+'), names.map((name) => ({ name, kind: name === 'base' ? ('no-update' as const) : ('passage' as const), studentCheckpoint: base })), config);
        names.forEach((name, i) => rows.push({ ...row(scored[i].accuracy, scored[i].failures), condition: name }));
      } else if (condition === 'oracle') {
        const [r] = await score(condition, [{ name: condition, kind: 'given', studentCheckpoint: base, completions: oracle }], config);
        rows.push(row(r.accuracy, r.failures));
      } else {
        // K independent samples per passage: each run of the table draws one per passage from its own seed.
        const accuracies: number[] = [];
        let failures = 0;
        for (let k = 0; k < o.samples; k++) {
          const [r] = await score(`self-edit k${k + 1}/${o.samples}`, [{ name: condition, kind: 'self-edits', studentCheckpoint: base, teacherCheckpoint: base }], { ...config, seed: o.seed + k });
          accuracies.push(r.accuracy);
          failures += r.failures;
        }
        rows.push(row(accuracies.reduce((a, b) => a + b, 0) / accuracies.length, failures, accuracies));
      }
    }
  } finally {
    await roles.release();
    rmSync(workDir, { recursive: true, force: true });
  }
  return rows;
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new EvalInputError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

export function register(program: Command): void {
  const evalCommand = program.command('eval').description('evaluate a model on a task (the paper-style table)');
  evalCommand
    .command('knowledge')
    .description('closed-book accuracy after a per-passage LoRA on each condition (base | passage | self-edit | oracle)')
    .option('--model <dir>', 'model folder with world.json (default: models/tiny-world)', DEFAULT_MODEL_DIR)
    .option('--condition <names>', 'base, passage, self-edit, oracle (repeat or comma list)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--split <split>', 'val or test', 'test')
    .option('--limit <n>', 'first N passages of the split')
    .option('--samples <k>', 'self-edit samples per passage (the row is their mean)', '3')
    .option('--config <file>', 'run config whose inner-loop settings to use (default: <model>/inner_loop.json)')
    .option('--students <n>', 'in-process students', '1')
    .option('--capacity <n>', 'evaluations per student at once', '2')
    .option('--seed <n>', 'seed of adapters and self-edit sampling', '0')
    .option('--json <file>', 'write {"rows":[{condition, accuracy, n_passages, n_questions}]}')
    .option('--no-progress', 'no progress bar')
    .action(async (raw: Record<string, string | string[] | boolean | undefined>) => {
      const options: EvalKnowledgeOptions = {
        model: path.resolve(raw.model as string),
        conditions: parseEvalConditions(raw.condition as string[]),
        split: parseEvalSplit(raw.split as string),
        limit: raw.limit === undefined ? undefined : positiveInt(raw.limit as string, '--limit'),
        samples: positiveInt(raw.samples as string, '--samples'),
        config: raw.config as string | undefined,
        students: positiveInt(raw.students as string, '--students'),
        capacity: positiveInt(raw.capacity as string, '--capacity'),
        seed: Number.isInteger(Number(raw.seed)) ? Number(raw.seed) : (() => { throw new EvalInputError(`--seed must be an integer, got "${raw.seed}"`); })(),
        progress: raw.progress !== false,
      };
      readModelWorld(options.model); // a bad --model fails before anything loads
      const rows = await evalKnowledge(options);
      console.log(formatEvalTable(rows));
      if (raw.json) writeFileSync(raw.json as string, `${JSON.stringify({ split: options.split, model: options.model, rows }, null, 2)}\n`);
    });
}
