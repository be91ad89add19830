/** @file The explicit table from Hugging Face tensor names to our parameter names, with transposes and shapes. */
import type { ModelConfig } from './config';
import { numel, type HostTensor, type TensorSource } from './safetensors';

/**
 * Our parameter layout: linear weights are stored (in, out) so a projection is `x @ W`; HF stores
 * nn.Linear weights (out, in), hence `transpose: true` on every linear. Norm weights, biases and the
 * embedding keep HF's layout.
 */
export interface ParamSpec {
  /** Our name, e.g. `layers.0.attn.q.weight`. */
  readonly name: string;
  /** HF name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  readonly hfName: string;
  /** Our shape (after the transpose). */
  readonly shape: readonly number[];
  readonly transpose: boolean;
}

/** A linear layer LoRA can wrap: HF module path (PEFT key stem), short target name, sizes. */
export interface LinearSpec {
  /** Our weight's name without `.weight`, e.g. `layers.0.attn.q`. */
  readonly name: string;
  /** HF module path, e.g. `model.layers.0.self_attn.q_proj`. */
  readonly module: string;
  /** PEFT `target_modules` entry: `q_proj`, `k_proj`, …, `down_proj`. */
  readonly target: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
}

export class WeightLoadError extends Error {
  override name = 'WeightLoadError';
}

/** PEFT `target_modules` names of every linear in a Llama/Qwen2 layer ("all projections"). */
export const PROJECTION_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

/** Every linear of the model in a fixed order (layer-major), the unit LoRA attaches to. */
export function linearSpecs(config: ModelConfig): LinearSpec[] {
  const { hiddenSize: d, intermediateSize: ff, numHeads: h, numKvHeads: kv, headDim: hd } = config;
  const out: LinearSpec[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const rows: [string, string, string, number, number][] = [
      [`layers.${i}.attn.q`, `model.layers.${i}.self_attn.q_proj`, 'q_proj', d, h * hd],
      [`layers.${i}.attn.k`, `model.layers.${i}.self_attn.k_proj`, 'k_proj', d, kv * hd],
      [`layers.${i}.attn.v`, `model.layers.${i}.self_attn.v_proj`, 'v_proj', d, kv * hd],
      [`layers.${i}.attn.o`, `model.layers.${i}.self_attn.o_proj`, 'o_proj', h * hd, d],
      [`layers.${i}.mlp.gate`, `model.layers.${i}.mlp.gate_proj`, 'gate_proj', d, ff],
      [`layers.${i}.mlp.up`, `model.layers.${i}.mlp.up_proj`, 'up_proj', d, ff],
      [`layers.${i}.mlp.down`, `model.layers.${i}.mlp.down_proj`, 'down_proj', ff, d],
    ];
    for (const [name, module, target, inFeatures, outFeatures] of rows) out.push({ name, module, target, inFeatures, outFeatures });
  }
  return out;
}

/** The whole table for a config: every parameter the model needs, nothing else. */
export function paramSpecs(config: ModelConfig): ParamSpec[] {
  const { hiddenSize: d, vocabSize: vocab } = config;
  const specs: ParamSpec[] = [{ name: 'embed.weight', hfName: 'model.embed_tokens.weight', shape: [vocab, d], transpose: false }];
  const linears = linearSpecs(config);
  for (let i = 0; i < config.numLayers; i++) {
    specs.push({ name: `layers.${i}.attnNorm.weight`, hfName: `model.layers.${i}.input_layernorm.weight`, shape: [d], transpose: false });
    for (const l of linears.filter((x) => x.name.startsWith(`layers.${i}.`))) {
      specs.push({ name: `${l.name}.weight`, hfName: `${l.module}.weight`, shape: [l.inFeatures, l.outFeatures], transpose: true });
      const isQkv = /\.attn\.[qkv]$/.test(l.name);
      const hasBias = (isQkv && config.qkvBias) || (l.name.endsWith('.attn.o') && config.oBias) || (l.name.includes('.mlp.') && config.mlpBias);
      if (hasBias) specs.push({ name: `${l.name}.bias`, hfName: `${l.module}.bias`, shape: [l.outFeatures], transpose: false });
    }
    specs.push({ name: `layers.${i}.mlpNorm.weight`, hfName: `model.layers.${i}.post_attention_layernorm.weight`, shape: [d], transpose: false });
  }
  specs.push({ name: 'norm.weight', hfName: 'model.norm.weight', shape: [d], transpose: false });
  // Tied models reuse embed.weight (V, D) as the head; there is no separate parameter.
  if (!config.tieWordEmbeddings) specs.push({ name: 'lmHead.weight', hfName: 'lm_head.weight', shape: [d, vocab], transpose: true });
  return specs;
}

/** HF keys that may be present but carry nothing we use. */
function isIgnorable(hfName: string, config: ModelConfig): boolean {
  // Old checkpoints saved the RoPE buffer; tied checkpoints sometimes save lm_head.weight as well.
  return hfName.endsWith('.rotary_emb.inv_freq') || (config.tieWordEmbeddings && hfName === 'lm_head.weight');
}

/** Transposes a row-major 2-D (rows, cols) array into (cols, rows). */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * Loads every parameter through the table. All problems (missing keys, unexpected keys, wrong
 * shapes) are collected and reported in one error, so a user fixes a checkpoint in one pass.
 */
export function loadParams(config: ModelConfig, source: TensorSource, where: string): Map<string, HostTensor> {
  const specs = paramSpecs(config);
  const present = new Set(source.names());
  const expected = new Set(specs.map((s) => s.hfName));
  const missing = specs.filter((s) => !present.has(s.hfName)).map((s) => s.hfName);
  const unexpected = [...present].filter((n) => !expected.has(n) && !isIgnorable(n, config));
  const badShapes: string[] = [];
  for (const s of specs) {
    if (!present.has(s.hfName)) continue;
    const hfShape = s.transpose ? [...s.shape].reverse() : [...s.shape];
    const got = source.info(s.hfName).shape;
    if (got.length !== hfShape.length || got.some((v, i) => v !== hfShape[i])) {
      badShapes.push(`${s.hfName}: expected ${JSON.stringify(hfShape)}, got ${JSON.stringify(got)}`);
    }
  }
  if (missing.length || unexpected.length || badShapes.length) {
    const parts = [
      missing.length ? `missing keys (${missing.length}): ${missing.join(', ')}` : '',
      unexpected.length ? `unexpected keys (${unexpected.length}): ${unexpected.join(', ')}` : '',
      badShapes.length ? `wrong shapes (${badShapes.length}): ${badShapes.join('; ')}` : '',
    ].filter(Boolean);
    throw new WeightLoadError(`${where}: checkpoint does not match config.json (${config.architecture}):\n  ${parts.join('\n  ')}`);
  }
  const params = new Map<string, HostTensor>();
  for (const s of specs) {
    const raw = source.read(s.hfName);
    const data = s.transpose ? transpose2d(raw, s.shape[1], s.shape[0]) : raw;
    params.set(s.name, { shape: s.shape, data });
  }
  return params;
}

/** Our parameters back to HF names and layouts, in table order (for saving a merged checkpoint). */
export function toHfTensors(config: ModelConfig, params: ReadonlyMap<string, HostTensor>): [string, HostTensor][] {
  return paramSpecs(config).map((s) => {
    const t = params.get(s.name);
    if (!t) throw new WeightLoadError(`parameter "${s.name}" is missing`);
    if (t.data.length !== numel(s.shape)) throw new WeightLoadError(`parameter "${s.name}": expected shape ${JSON.stringify(s.shape)}`);
    const data = s.transpose ? transpose2d(t.data, s.shape[0], s.shape[1]) : t.data;
    return [s.hfName, { shape: s.transpose ? [...s.shape].reverse() : s.shape, data }];
  });
}
