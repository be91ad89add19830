/**
 * @file What `seal run` resolves before any work: the run config (main-job defaults < --config
 * file < flags, validated by the coordinator's schema) plus the CLI's own keys — which model, how
 * many test passages the table uses — that the journal does not hold, kept in `<run>/main-job.json`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { diffConfigs, mergeConfigInputs, parseRunConfig, readRunConfigFile, type RunConfig, type RunConfigInput } from '@seal/coordinator';
import { EMBEDDED_MODEL_DIR } from '../embedded-model';

/** The model the tiny world ships (pretrained by `seal pretrain`, committed); found from any working directory. */
export const DEFAULT_MODEL_DIR = EMBEDDED_MODEL_DIR;
export const SETTINGS_FILE = 'main-job.json';

/**
 * The main job's sizing on 2 shared CPU cores, the same shape as the reference (2 rounds,
 * best-of-K, merged) with fewer passages (24 per round; reference 50) and more samples (K 8;
 * reference 5). The M-step's lr is the inner loop's 3e-3, ten times the reference's: at 3e-4 on
 * 12 pairs the 3.7M policy did not move (BENCHMARKS.md, "three M-step variants"). Measured with
 * models/tiny-world and its inner_loop.json in a fresh clone on an idle machine: 16.8 min of run
 * (E-step 7.2, table of 100 test passages 8.7), 16.9 min with the install (BENCHMARKS.md).
 */
export const MAIN_JOB_DEFAULTS: RunConfigInput = {
  rounds: 2,
  data: { passagesPerRound: 24 },
  selfEdits: { perPassage: 8 },
  inner: { evalTimes: 1 },
  mstep: { sft: { lr: 3e-3, epochs: 3 } },
};

/**
 * A model folder may ship the inner-loop and sampling settings tuned for it (models/tiny-world's
 * MODEL_CARD.md: the reference's q,v LoRA at lr 1e-3 barely moves a 1M-parameter model); they sit
 * between the main-job defaults and the config file.
 */
export const MODEL_SETTINGS_FILE = 'inner_loop.json';

function modelSettings(modelDir: string): RunConfigInput {
  const path = join(modelDir, MODEL_SETTINGS_FILE);
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunConfigInput;
  } catch (error) {
    throw new Error(`cannot parse ${path}: ${(error as Error).message}`);
  }
}
/**
 * The table's test passages. 100, as in models/tiny-world's MODEL_CARD.md table (issue 6): with 40 a
 * row's standard error was ~3.6 points and the RL rows' moves were mostly the one self-edit sampled
 * per passage (BENCHMARKS.md, 2026-11-29); the reference scores 200.
 */
export const DEFAULT_TEST_PASSAGES = 100;

/** The CLI-level keys of a config file, beside the coordinator's sections. */
export interface MainJobExtras {
  /** base model folder (teacher, and student unless `studentModel`). */
  model: string;
  /** separated mode with in-process students: the student's own base model. */
  studentModel?: string;
  table: { testPassages: number };
}

export interface MainJobSettings {
  config: RunConfig;
  extras: MainJobExtras;
}

export interface SettingsInput {
  configFile?: string;
  /** the flags, already shaped as config sections. */
  overrides: RunConfigInput;
  extras: Partial<Pick<MainJobExtras, 'model' | 'studentModel'>> & { testPassages?: number };
  /** a resumed run's journaled config and recorded extras: the layer under the file and flags. */
  base?: MainJobSettings;
}

const EXTRA_KEYS = ['model', 'studentModel', 'table'] as const;

/** Splits a config file into the coordinator's part and ours; our part is checked field by field. */
function splitFile(path: string): { run: RunConfigInput; extras: Partial<MainJobExtras> } {
  const raw = readRunConfigFile(path) as Record<string, unknown>;
  const run: Record<string, unknown> = { ...raw };
  for (const key of EXTRA_KEYS) delete run[key];
  const extras: Partial<MainJobExtras> = {};
  if (raw.model !== undefined) extras.model = stringField(raw.model, `${path}: model`);
  if (raw.studentModel !== undefined) extras.studentModel = stringField(raw.studentModel, `${path}: studentModel`);
  if (raw.table !== undefined) {
    const table = raw.table as Record<string, unknown>;
    if (typeof table !== 'object' || table === null || Array.isArray(table)) throw new Error(`${path}: table: expected an object`);
    const unknown = Object.keys(table).filter((k) => k !== 'testPassages');
    if (unknown.length > 0) throw new Error(`${path}: table: unknown key(s) ${unknown.join(', ')} (known: testPassages)`);
    if (table.testPassages !== undefined) extras.table = { testPassages: positiveInt(table.testPassages, `${path}: table.testPassages`) };
  }
  return { run: run as RunConfigInput, extras };
}

export function resolveSettings(input: SettingsInput): MainJobSettings {
  const file = input.configFile ? splitFile(input.configFile) : { run: {}, extras: {} };
  const base = input.base;
  const model = resolve(input.extras.model ?? file.extras.model ?? base?.extras.model ?? DEFAULT_MODEL_DIR);
  const defaults = base ? [base.config as RunConfigInput] : [MAIN_JOB_DEFAULTS, modelSettings(model)];
  const config = parseRunConfig(mergeConfigInputs(...defaults, file.run, input.overrides), input.configFile ?? 'config');
  const testPassages = input.extras.testPassages ?? file.extras.table?.testPassages ?? base?.extras.table.testPassages ?? DEFAULT_TEST_PASSAGES;
  positiveInt(testPassages, '--test-passages');
  const studentModel = input.extras.studentModel ?? file.extras.studentModel ?? base?.extras.studentModel;
  if (studentModel && config.mode !== 'separated') throw new Error('studentModel: a separate student model needs mode separated');
  return {
    config,
    extras: {
      model,
      ...(studentModel ? { studentModel: resolve(studentModel) } : {}),
      table: { testPassages },
    },
  };
}

/** Records the extras of a new run. */
export function writeExtras(runDir: string, extras: MainJobExtras): void {
  writeFileSync(join(runDir, SETTINGS_FILE), `${JSON.stringify(extras, null, 2)}\n`);
}

/** The extras a run was started with; with `given`, refuses changed fields like the journal does. */
export function readExtras(runDir: string, given?: MainJobExtras): MainJobExtras {
  const path = join(runDir, SETTINGS_FILE);
  if (!existsSync(path)) throw new Error(`${path} is missing: ${runDir} was not started by seal run`);
  const recorded = JSON.parse(readFileSync(path, 'utf8')) as MainJobExtras;
  if (given) {
    const changed = diffConfigs(recorded, given);
    if (changed.length > 0) throw new Error(`cannot resume ${runDir} with changed settings: ${changed.join('; ')}`);
  }
  return recorded;
}

function stringField(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`${field}: expected a non-empty string`);
  return value;
}

function positiveInt(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new Error(`${field}: expected a positive integer, got ${JSON.stringify(value)}`);
  return value;
}
