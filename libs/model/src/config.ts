/** @file Frozen model configuration parsed from a Hugging Face `config.json` (Llama, Qwen2), and RoPE frequencies. */
import { readFileSync } from 'node:fs';

export type Architecture = 'llama' | 'qwen2';

/** Llama 3 RoPE scaling (`rope_scaling.rope_type == "llama3"`). */
export interface Llama3RopeScaling {
  readonly ropeType: 'llama3';
  readonly factor: number;
  readonly lowFreqFactor: number;
  readonly highFreqFactor: number;
  readonly originalMaxPositionEmbeddings: number;
}

export interface ModelConfig {
  readonly architecture: Architecture;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  /** GQA: each key/value head serves numHeads / numKvHeads query heads. */
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly ropeScaling: Llama3RopeScaling | null;
  readonly maxPositionEmbeddings: number;
  /** Qwen2 always has q/k/v biases; Llama has them (and an o bias) only with `attention_bias`. */
  readonly qkvBias: boolean;
  readonly oBias: boolean;
  readonly mlpBias: boolean;
  /** The LM head reuses the token embedding (Qwen2.5 small models, Llama 3.2 1B/3B). */
  readonly tieWordEmbeddings: boolean;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
  readonly padTokenId: number | null;
  /** The parsed JSON, kept so a merged checkpoint can be saved with the same config. */
  readonly hf: Readonly<Record<string, unknown>>;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

// ---------------------------------------------------------------------------------------------
// Field readers: each error names the file and the field.

type Raw = Record<string, unknown>;

function positiveInt(raw: Raw, source: string, key: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (v === undefined) throw new ConfigError(`${source}: missing required field "${key}"`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(`${source}: field "${key}" must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function positiveNumber(raw: Raw, source: string, key: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (v === undefined) throw new ConfigError(`${source}: missing required field "${key}"`);
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new ConfigError(`${source}: field "${key}" must be a positive number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function bool(raw: Raw, source: string, key: string, fallback: boolean): boolean {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`${source}: field "${key}" must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

function tokenIds(raw: Raw, source: string, key: string): number[] {
  const v = raw[key];
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const id of list) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new ConfigError(`${source}: field "${key}" must be a token id or a list of token ids, got ${JSON.stringify(v)}`);
    }
  }
  return list as number[];
}

// ---------------------------------------------------------------------------------------------

const architectureByClass: Record<string, Architecture> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
};

function parseArchitecture(raw: Raw, source: string): Architecture {
  const classes = raw.architectures;
  if (Array.isArray(classes) && classes.length > 0) {
    const known = classes.map((c) => architectureByClass[String(c)]).find((a) => a !== undefined);
    if (known) return known;
    throw new ConfigError(
      `${source}: unsupported architecture in field "architectures": ${JSON.stringify(classes)} ` +
        `(supported: ${Object.keys(architectureByClass).join(', ')})`,
    );
  }
  const modelType = raw.model_type;
  if (modelType === 'llama' || modelType === 'qwen2') return modelType;
  throw new ConfigError(
    `${source}: unsupported architecture: field "architectures" is missing and field "model_type" is ${JSON.stringify(modelType)} ` +
      `(supported: llama, qwen2)`,
  );
}

function parseRopeScaling(raw: Raw, source: string): Llama3RopeScaling | null {
  const scaling = raw.rope_scaling;
  if (scaling === undefined || scaling === null) return null;
  if (typeof scaling !== 'object' || Array.isArray(scaling)) {
    throw new ConfigError(`${source}: field "rope_scaling" must be an object or null`);
  }
  const s = scaling as Raw;
  // Older configs spell it `type`, newer ones `rope_type`.
  const ropeType = s.rope_type ?? s.type;
  if (ropeType === 'default') return null;
  if (ropeType !== 'llama3') {
    throw new ConfigError(`${source}: unsupported field "rope_scaling.rope_type": ${JSON.stringify(ropeType)} (supported: llama3, default)`);
  }
  const where = `${source} rope_scaling`;
  const scalingConfig: Llama3RopeScaling = {
    ropeType: 'llama3',
    factor: positiveNumber(s, where, 'factor'),
    lowFreqFactor: positiveNumber(s, where, 'low_freq_factor'),
    highFreqFactor: positiveNumber(s, where, 'high_freq_factor'),
    originalMaxPositionEmbeddings: positiveInt(s, where, 'original_max_position_embeddings'),
  };
  if (scalingConfig.highFreqFactor <= scalingConfig.lowFreqFactor) {
    throw new ConfigError(`${source}: field "rope_scaling.high_freq_factor" must exceed "low_freq_factor"`);
  }
  return scalingConfig;
}

/** Parses an already-read `config.json` object; `source` names it in errors. */
export function parseConfig(raw: unknown, source = 'config.json'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${source}: expected a JSON object`);
  const r = raw as Raw;
  const architecture = parseArchitecture(r, source);
  const hiddenAct = r.hidden_act ?? 'silu';
  if (hiddenAct !== 'silu') throw new ConfigError(`${source}: unsupported field "hidden_act": ${JSON.stringify(hiddenAct)} (supported: silu)`);
  if (r.use_sliding_window === true) throw new ConfigError(`${source}: field "use_sliding_window" = true is not supported`);

  const hiddenSize = positiveInt(r, source, 'hidden_size');
  const numHeads = positiveInt(r, source, 'num_attention_heads');
  const numKvHeads = positiveInt(r, source, 'num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ConfigError(`${source}: field "num_attention_heads" (${numHeads}) must be a multiple of "num_key_value_heads" (${numKvHeads})`);
  }
  // HF: head_dim defaults to hidden_size // num_attention_heads; `null` means the default too.
  const headDim = positiveInt(r, source, 'head_dim', r.head_dim === null || r.head_dim === undefined ? hiddenSize / numHeads : undefined);
  if (headDim % 2 !== 0) throw new ConfigError(`${source}: field "head_dim" must be even for rotate-half RoPE, got ${headDim}`);
  const llamaAttentionBias = architecture === 'llama' && bool(r, source, 'attention_bias', false);
  const eos = tokenIds(r, source, 'eos_token_id');
  const bos = tokenIds(r, source, 'bos_token_id');
  const pad = tokenIds(r, source, 'pad_token_id');

  return Object.freeze({
    architecture,
    vocabSize: positiveInt(r, source, 'vocab_size'),
    hiddenSize,
    intermediateSize: positiveInt(r, source, 'intermediate_size'),
    numLayers: positiveInt(r, source, 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: positiveNumber(r, source, 'rms_norm_eps', 1e-6),
    ropeTheta: positiveNumber(r, source, 'rope_theta', 10000),
    ropeScaling: parseRopeScaling(r, source),
    maxPositionEmbeddings: positiveInt(r, source, 'max_position_embeddings', 2048),
    qkvBias: architecture === 'qwen2' || llamaAttentionBias,
    oBias: llamaAttentionBias,
    mlpBias: architecture === 'llama' && bool(r, source, 'mlp_bias', false),
    tieWordEmbeddings: bool(r, source, 'tie_word_embeddings', false),
    bosTokenId: bos[0] ?? null,
    eosTokenIds: Object.freeze(eos),
    padTokenId: pad[0] ?? null,
    hf: Object.freeze({ ...r }),
  });
}

/** Reads and parses `<dir>/config.json`. */
export function loadConfig(dir: string): ModelConfig {
  const path = `${dir}/config.json`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read model config (${(e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path}: invalid JSON (${(e as Error).message})`);
  }
  return parseConfig(raw, path);
}

/**
 * RoPE inverse frequencies θ_i = base^(−2i/d), i < d/2, with Llama 3 scaling applied as HF's
 * `_compute_llama3_parameters` does: wavelengths shorter than original/high_freq_factor are kept,
 * longer than original/low_freq_factor are divided by `factor`, and the band between is a linear
 * blend in 1/wavelength. Computed in float64, rounded once to float32 (HF computes in float32).
 */
export function ropeInverseFrequencies(config: ModelConfig): Float32Array {
  const half = config.headDim / 2;
  const out = new Float32Array(half);
  const s = config.ropeScaling;
  for (let i = 0; i < half; i++) {
    // HF: 1 / base ** (arange(0, dim, 2).float() / dim), the exponent rounded to float32 first.
    const invFreq = 1 / Math.pow(config.ropeTheta, Math.fround((2 * i) / config.headDim));
    if (!s) {
      out[i] = invFreq;
      continue;
    }
    const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
    const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
    const wavelen = (2 * Math.PI) / invFreq;
    if (wavelen < highFreqWavelen) out[i] = invFreq;
    else if (wavelen > lowFreqWavelen) out[i] = invFreq / s.factor;
    else {
      const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      out[i] = (1 - smooth) * (invFreq / s.factor) + smooth * invFreq;
    }
  }
  return out;
}
