/**
 * @file The one run config: a zod schema with defaults (seal-reference §2.3/§2.5 scaled to a
 * ~5–10M-parameter tiny model), JSON/YAML loading, field-path errors, hashing and diffing for
 * resume, and the resolved-config printer behind `--dry-run`.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { PROJECTION_MODULES } from '@seal/model';
import { invalidArgument } from './errors';
import { PROMPT_STYLES } from './roles';
import { sha256Hex } from './seeds';

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

const positiveInt = () => z.number().int().positive();

/** LoRA SFT settings; the defaults passed in differ between the inner loop and the M-step. */
function sftSchema(defaults: {
  rank: number;
  alpha: number;
  targets: (typeof PROJECTION_MODULES)[number][];
  lr: number;
  epochs: number;
  batchSize: number;
  lossMask: 'all' | 'completion';
}) {
  return z.strictObject({
    rank: positiveInt().default(defaults.rank),
    alpha: z.number().positive().default(defaults.alpha),
    dropout: z.number().min(0).lt(1).default(0),
    targets: z.array(z.enum(PROJECTION_MODULES)).min(1).default(() => [...defaults.targets]),
    lr: z.number().positive().max(1).default(defaults.lr),
    epochs: positiveInt().default(defaults.epochs),
    batchSize: positiveInt().default(defaults.batchSize),
    schedule: z.enum(['linear', 'constant', 'cosine']).default('linear'),
    warmup: z.number().int().min(0).default(0),
    lossMask: z.enum(['all', 'completion']).default(defaults.lossMask),
  });
}

const retrySchema = z.strictObject({
  /** attempts per call including the first, on unavailable-like failures only. */
  maxAttempts: positiveInt().default(5),
  initialBackoffMs: z.number().int().min(0).default(250),
  maxBackoffMs: z.number().int().min(0).default(10_000),
  multiplier: z.number().min(1).default(2),
});

export const RunConfigSchema = z.strictObject({
  /** human label; not part of the results. */
  name: z.string().default('seal-tiny'),
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  /** 'merged': the student base follows the teacher after each M-step (SEAL proper); 'separated': it never does. */
  mode: z.enum(['merged', 'separated']).default('merged'),
  /** ReST-EM outer rounds (reference: 2). */
  rounds: positiveInt().default(2),
  data: z
    .strictObject({
      /** 'tiny-world' or a path to a SQuAD-format JSON file; resolved by the caller's passage source. */
      source: z.string().min(1).default('tiny-world'),
      /** fresh, disjoint RL-train passages per round (reference: 50; tiny default sized for 2 CPU cores). */
      passagesPerRound: positiveInt().default(12),
    })
    .prefault({}),
  selfEdits: z
    .strictObject({
      /** K completions per passage (reference: 5). */
      perPassage: positiveInt().default(5),
      promptStyle: z.enum(PROMPT_STYLES).default('implications'),
      temperature: z.number().min(0).default(1),
      topP: z.number().gt(0).max(1).default(0.95),
      maxNewTokens: positiveInt().default(160),
    })
    .prefault({}),
  inner: z
    .strictObject({
      /** eval_times: train+score repeats per self-edit (reference: 3). */
      evalTimes: positiveInt().default(2),
      splitNewlines: z.boolean().default(true),
      appendPassage: z.boolean().default(true),
      maxAnswerTokens: positiveInt().default(24),
      /** reference r 32 / α 64 on q,v for a 7B model; rank 8 keeps the tiny model's update comparably gentle. */
      sft: sftSchema({ rank: 8, alpha: 16, targets: ['q_proj', 'v_proj'], lr: 1e-3, epochs: 10, batchSize: 1, lossMask: 'all' }).prefault({}),
    })
    .prefault({}),
  reward: z
    .strictObject({
      /**
       * 'student': post − pre accuracy on the current student checkpoint (reference).
       * 'passage': post − accuracy after SFT on the passage alone, so the reward measures what
       * the edit adds beyond the passage (research/README.md: the base reward is dominated by
       * questions the passage already answers).
       */
      baseline: z.enum(['student', 'passage']).default('student'),
      /** 'best': one edit per passage, the reference's k_best 1; 'positive': every edit with reward > 0. */
      selection: z.enum(['best', 'positive']).default('best'),
      /** with 'best', drop a passage whose best reward is ≤ 0 (the reference keeps it). */
      bestRequiresPositive: z.boolean().default(false),
    })
    .prefault({}),
  mstep: z
    .strictObject({
      /** reference: LoRA r 64 / α 128 on all projections, lr 3e-4, 2 epochs, merged. */
      sft: sftSchema({ rank: 16, alpha: 32, targets: [...PROJECTION_MODULES], lr: 3e-4, epochs: 2, batchSize: 2, lossMask: 'completion' }).prefault({}),
      merge: z.boolean().default(true),
      /**
       * The checkpoint each M-step trains from: 'previous', the last round's result (SEAL: round n
       * starts from checkpoint n−1); 'base', the teacher's base every round (ReST-EM, Singh et al.
       * 2023), so an update that overshoots is not compounded by the next.
       */
      from: z.enum(['previous', 'base']).default('previous'),
      /** The kept pairs it trains on: 'round', this round's (SEAL); 'all', every round's so far. */
      pairs: z.enum(['round', 'all']).default('round'),
    })
    .prefault({}),
  teacher: z
    .strictObject({
      /** host:port of a TeacherService; absent → in-process. */
      address: z.string().min(1).optional(),
    })
    .prefault({}),
  students: z
    .strictObject({
      /**
       * host:port list of StudentServices (a name, or dns:///name:port, is one member per address it
       * resolves to); empty → in-process students.
       */
      addresses: z.array(z.string().min(1)).default([]),
      inProcess: positiveInt().default(1),
    })
    .prefault({}),
  rpc: z
    .strictObject({
      evaluateDeadlineMs: positiveInt().default(600_000),
      generateDeadlineMs: positiveInt().default(1_800_000),
      updateDeadlineMs: positiveInt().default(1_800_000),
      pushDeadlineMs: positiveInt().default(600_000),
      infoDeadlineMs: positiveInt().default(10_000),
      checkpointChunkBytes: positiveInt().default(1 << 20),
      /**
       * A directory every student also mounts (as its own shared-storage root). When the run
       * directory lies inside it, checkpoints are pushed by reference (a relative path) instead of
       * streamed; students that cannot load by reference still get the stream.
       */
      sharedStorageRoot: z.string().min(1).optional(),
      retry: retrySchema.prefault({}),
      /** attempts across students for one evaluation before the run stops (resumable). */
      maxEvaluateAttempts: positiveInt().default(8),
      /** how often a student name resolving to many replicas is resolved again (joins and leaves). */
      resolveIntervalMs: positiveInt().default(30_000),
    })
    .prefault({}),
});

export type RunConfig = z.output<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;
export type RetryConfig = RunConfig['rpc']['retry'];

/**
 * Top-level sections that only say where and how patiently to talk to services; a resumed run
 * may change them (a student moved hosts) without changing its results.
 */
export const OPERATIONAL_SECTIONS = ['name', 'teacher', 'students', 'rpc'] as const;

// ---------------------------------------------------------------------------------------------
// Parsing and loading
// ---------------------------------------------------------------------------------------------

/** Validates and fills defaults; errors list every bad field as `source: path.to.field: message`. */
export function parseRunConfig(input: unknown, source = 'config'): RunConfig {
  const parsed = RunConfigSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${source}: ${path}: ${issue.message}`;
  });
  throw invalidArgument(`invalid run config\n${lines.join('\n')}`, { fields: parsed.error.issues.map((i) => i.path.join('.')) });
}

/** Reads a JSON or YAML file (by extension; YAML otherwise, which also accepts JSON). */
export function readRunConfigFile(path: string): RunConfigInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw invalidArgument(`cannot read run config ${path}: ${(error as Error).message}`);
  }
  try {
    return (extname(path).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text)) ?? {};
  } catch (error) {
    throw invalidArgument(`cannot parse run config ${path}: ${(error as Error).message}`);
  }
}

/** Deep-merges override objects (CLI flags) over a base (a file); arrays and scalars replace. */
export function mergeConfigInputs(...layers: (RunConfigInput | undefined)[]): RunConfigInput {
  const merge = (a: unknown, b: unknown): unknown => {
    if (isPlainObject(a) && isPlainObject(b)) {
      const out: Record<string, unknown> = { ...a };
      for (const [key, value] of Object.entries(b)) if (value !== undefined) out[key] = merge(a[key], value);
      return out;
    }
    return b === undefined ? a : b;
  };
  return layers.reduce<unknown>((acc, layer) => merge(acc, layer ?? {}), {}) as RunConfigInput;
}

/** File (optional) + overrides → validated config. */
export function loadRunConfig(path?: string, overrides?: RunConfigInput): RunConfig {
  const base = path ? readRunConfigFile(path) : {};
  return parseRunConfig(mergeConfigInputs(base, overrides), path ?? 'config');
}

// ---------------------------------------------------------------------------------------------
// Hashing, diffing, printing
// ---------------------------------------------------------------------------------------------

/**
 * The part of the config that decides each round's results: everything but OPERATIONAL_SECTIONS
 * and `rounds` — a run may be extended by more rounds on resume without changing finished ones.
 */
export function resultDefiningConfig(config: RunConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const key of [...OPERATIONAL_SECTIONS, 'rounds']) delete out[key];
  return out;
}

/** sha256 of the canonical (key-sorted) JSON of the result-defining config. */
export function configHash(config: RunConfig): string {
  return sha256Hex(canonicalJson(resultDefiningConfig(config)));
}

/** Field paths whose values differ, e.g. ['inner.sft.lr: 0.001 → 0.002']. */
export function diffConfigs(before: unknown, after: unknown, prefix = ''): string[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffConfigs(before[key], after[key], prefix ? `${prefix}.${key}` : key));
  }
  if (canonicalJson(before) === canonicalJson(after)) return [];
  return [`${prefix || '(root)'}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`];
}

/** The resolved config as YAML with its hash, for `seal run --dry-run`. */
export function formatResolvedConfig(config: RunConfig): string {
  return `# resolved SEAL run config (config hash ${configHash(config).slice(0, 16)})\n${YAML.stringify(config)}`;
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    isPlainObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
