/** @file PEFT LoRA adapters: `adapter_config.json` + `adapter_model.safetensors` load/save, PEFT's init, checks against the base. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomically } from './atomic-dir';
import type { ModelConfig } from './config';
import { linearSpecs, transpose2d, type LinearSpec } from './hf-names';
import { createRng } from './random';
import { SafetensorsFile, writeSafetensors, type HostTensor } from './safetensors';

export class AdapterError extends Error {
  override name = 'AdapterError';
}

export interface LoraConfig {
  readonly r: number;
  readonly alpha: number;
  /** PEFT `target_modules`: short names (`q_proj`) or one regex matched against full module paths. */
  readonly targetModules: readonly string[] | string;
  /** rsLoRA scales by alpha/√r instead of alpha/r. */
  readonly useRslora?: boolean;
}

/** One wrapped linear. Stored in our (in, out) convention: y = x·W + scale · (x·A)·B. */
export interface LoraPair {
  /** (in, r); PEFT's lora_A.weight is its transpose (r, in). */
  readonly a: HostTensor;
  /** (r, out); PEFT's lora_B.weight is its transpose (out, r). */
  readonly b: HostTensor;
}

export interface LoraAdapter {
  readonly config: LoraConfig;
  /** scale = alpha / r (or alpha / √r with rsLoRA). */
  readonly scale: number;
  /** Keyed by our linear name (`layers.0.attn.q`), in the model's linear order. */
  readonly pairs: ReadonlyMap<string, LoraPair>;
}

/** PEFT's default targets for Llama and Qwen2 (`TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING`). */
export const defaultTargetModules: readonly string[] = ['q_proj', 'v_proj'];

/** Files a PEFT adapter directory holds; an --out holding only these may be replaced. */
export const adapterFiles: readonly string[] = ['adapter_config.json', 'adapter_model.safetensors', 'README.md'];

export const loraScale = (c: LoraConfig): number => (c.useRslora ? c.alpha / Math.sqrt(c.r) : c.alpha / c.r);

/** The linears a `target_modules` value selects, with PEFT's matching rules. */
export function resolveTargets(model: ModelConfig, targetModules: readonly string[] | string): LinearSpec[] {
  const linears = linearSpecs(model);
  if (typeof targetModules === 'string') {
    const pattern = new RegExp(`^(?:${targetModules})$`);
    return linears.filter((l) => pattern.test(l.module));
  }
  const known = new Set(linears.map((l) => l.target));
  const unknown = targetModules.filter((t) => !known.has(t) && !linears.some((l) => l.module === t || l.module.endsWith(`.${t}`)));
  if (unknown.length) throw new AdapterError(`target_modules: unknown module(s) ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  return linears.filter((l) => targetModules.some((t) => l.module === t || l.module.endsWith(`.${t}`)));
}

function checkRankAlpha(r: number, alpha: number, where: string): void {
  if (!Number.isInteger(r) || r < 1) throw new AdapterError(`${where}: field "r" must be a positive integer, got ${JSON.stringify(r)}`);
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0) {
    throw new AdapterError(`${where}: field "lora_alpha" must be a positive number, got ${JSON.stringify(alpha)}`);
  }
}

/**
 * A fresh adapter as PEFT initialises one: A ~ Kaiming-uniform(a=√5) on the (r, in) weight, which
 * is U(−1/√in, 1/√in) since gain·√(3/fan_in) = √(2/6)·√(3/in); B = 0 so the adapted model starts
 * equal to the base. Seeded with our RNG (torch's stream cannot be reproduced here).
 */
export function initLoraAdapter(model: ModelConfig, config: LoraConfig, seed: number): LoraAdapter {
  checkRankAlpha(config.r, config.alpha, 'LoRA config');
  const targets = resolveTargets(model, config.targetModules);
  if (!targets.length) throw new AdapterError(`target_modules ${JSON.stringify(config.targetModules)} match no linear layer`);
  const rng = createRng(seed);
  const pairs = new Map<string, LoraPair>();
  for (const l of targets) {
    const bound = 1 / Math.sqrt(l.inFeatures);
    // Drawn in PEFT's (r, in) order, stored transposed as (in, r).
    const aPeft = Float32Array.from({ length: config.r * l.inFeatures }, () => rng.uniform(-bound, bound));
    pairs.set(l.name, {
      a: { shape: [l.inFeatures, config.r], data: transpose2d(aPeft, config.r, l.inFeatures) },
      b: { shape: [config.r, l.outFeatures], data: new Float32Array(config.r * l.outFeatures) },
    });
  }
  return { config, scale: loraScale(config), pairs };
}

// ---------------------------------------------------------------------------------------------
// Loading

const peftKey = (module: string, which: 'A' | 'B') => `base_model.model.${module}.lora_${which}.weight`;

function readAdapterConfig(path: string): LoraConfig {
  if (!existsSync(path)) throw new AdapterError(`${path}: file not found`);
  let raw: any;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new AdapterError(`${path}: invalid JSON (${(e as Error).message})`);
  }
  if (raw.peft_type !== undefined && raw.peft_type !== 'LORA') throw new AdapterError(`${path}: field "peft_type" must be "LORA", got ${JSON.stringify(raw.peft_type)}`);
  checkRankAlpha(raw.r, raw.lora_alpha, path);
  const unsupported: [string, boolean][] = [
    ['use_dora', raw.use_dora === true],
    ['fan_in_fan_out', raw.fan_in_fan_out === true],
    ['bias', raw.bias !== undefined && raw.bias !== 'none'],
    ['modules_to_save', Array.isArray(raw.modules_to_save) && raw.modules_to_save.length > 0],
    ['layers_to_transform', raw.layers_to_transform !== undefined && raw.layers_to_transform !== null],
    ['rank_pattern', raw.rank_pattern && Object.keys(raw.rank_pattern).length > 0],
    ['alpha_pattern', raw.alpha_pattern && Object.keys(raw.alpha_pattern).length > 0],
  ];
  const bad = unsupported.filter(([, isSet]) => isSet).map(([k]) => k);
  if (bad.length) throw new AdapterError(`${path}: unsupported field(s) set: ${bad.join(', ')}`);
  const targets = raw.target_modules ?? defaultTargetModules;
  if (!(typeof targets === 'string' || (Array.isArray(targets) && targets.every((t: unknown) => typeof t === 'string')))) {
    throw new AdapterError(`${path}: field "target_modules" must be a list of names or a regex string`);
  }
  return { r: raw.r, alpha: raw.lora_alpha, targetModules: targets, useRslora: raw.use_rslora === true };
}

/** Loads a PEFT adapter and checks every key and shape against the base model's config, reporting all problems at once. */
export function loadPeftAdapter(dir: string, model: ModelConfig): LoraAdapter {
  const config = readAdapterConfig(join(dir, 'adapter_config.json'));
  const weightsPath = join(dir, 'adapter_model.safetensors');
  if (!existsSync(weightsPath) && existsSync(join(dir, 'adapter_model.bin'))) {
    throw new AdapterError(`${dir}: adapter_model.bin (pickle) is not supported; save the adapter with safe_serialization=True`);
  }
  const file = SafetensorsFile.open(weightsPath);
  const byKey = new Map(linearSpecs(model).flatMap((l) => [[peftKey(l.module, 'A'), l] as const, [peftKey(l.module, 'B'), l] as const]));
  const present = new Set(file.names());
  const problems: string[] = [];
  const unexpected = [...present].filter((k) => !byKey.has(k));
  if (unexpected.length) problems.push(`unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`);
  const modules = linearSpecs(model).filter((l) => present.has(peftKey(l.module, 'A')) || present.has(peftKey(l.module, 'B')));
  const missing = modules.flatMap((l) => (['A', 'B'] as const).map((w) => peftKey(l.module, w)).filter((k) => !present.has(k)));
  if (missing.length) problems.push(`missing keys (${missing.length}): ${missing.join(', ')}`);
  if (!modules.length) problems.push('no lora_A/lora_B weights found');
  for (const l of modules) {
    const expectShape = { A: [config.r, l.inFeatures], B: [l.outFeatures, config.r] };
    for (const w of ['A', 'B'] as const) {
      const key = peftKey(l.module, w);
      if (!present.has(key)) continue;
      const got = file.info(key).shape;
      if (got.length !== 2 || got[0] !== expectShape[w][0] || got[1] !== expectShape[w][1]) {
        problems.push(`${key}: expected ${JSON.stringify(expectShape[w])} (r=${config.r}), got ${JSON.stringify(got)}`);
      }
    }
  }
  if (problems.length) throw new AdapterError(`${weightsPath}: adapter does not match the base model:\n  ${problems.join('\n  ')}`);
  const pairs = new Map<string, LoraPair>();
  for (const l of modules) {
    pairs.set(l.name, {
      a: { shape: [l.inFeatures, config.r], data: transpose2d(file.read(peftKey(l.module, 'A')), config.r, l.inFeatures) },
      b: { shape: [config.r, l.outFeatures], data: transpose2d(file.read(peftKey(l.module, 'B')), l.outFeatures, config.r) },
    });
  }
  return { config, scale: loraScale(config), pairs };
}

// ---------------------------------------------------------------------------------------------
// Saving

export interface SaveAdapterOptions {
  /** Written as `base_model_name_or_path`, so PEFT can find the base. */
  baseModel?: string | null;
}

/** PEFT state-dict entries (HF layout) in the model's linear order. */
export function peftTensors(model: ModelConfig, adapter: LoraAdapter): [string, HostTensor][] {
  const out: [string, HostTensor][] = [];
  for (const l of linearSpecs(model)) {
    const pair = adapter.pairs.get(l.name);
    if (!pair) continue;
    const r = adapter.config.r;
    out.push([peftKey(l.module, 'A'), { shape: [r, l.inFeatures], data: transpose2d(pair.a.data, l.inFeatures, r) }]);
    out.push([peftKey(l.module, 'B'), { shape: [l.outFeatures, r], data: transpose2d(pair.b.data, r, l.outFeatures) }]);
  }
  return out;
}

/** Writes the adapter all-or-nothing (temp dir, then rename), in PEFT's format and key naming. */
export function savePeftAdapter(out: string, model: ModelConfig, adapter: LoraAdapter, options: SaveAdapterOptions = {}): void {
  const targets = adapter.config.targetModules;
  const adapterConfig = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: options.baseModel ?? null,
    revision: null,
    r: adapter.config.r,
    lora_alpha: adapter.config.alpha,
    lora_dropout: 0.0,
    target_modules: typeof targets === 'string' ? targets : [...targets],
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    use_rslora: adapter.config.useRslora === true,
    use_dora: false,
  };
  const tensors = peftTensors(model, adapter);
  writeDirAtomically(out, adapterFiles, (tmp) => {
    writeFileSync(join(tmp, 'adapter_config.json'), `${JSON.stringify(adapterConfig, null, 2)}\n`);
    writeSafetensors(join(tmp, 'adapter_model.safetensors'), tensors, { metadata: { format: 'pt' } });
  });
}
