/** @file A Hugging Face checkpoint directory: load (config + weights + tokenizer) and save (HF layout, all-or-nothing). */
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomically } from './atomic-dir';
import { loadConfig, type ModelConfig } from './config';
import { loadParams, toHfTensors } from './hf-names';
import { openCheckpoint, writeSafetensors, type FloatDtype, type HostTensor } from './safetensors';
import { loadTokenizer, type TextTokenizer } from './tokenizer';

export interface Checkpoint {
  readonly dir: string;
  readonly config: ModelConfig;
  /** Our parameter names and layouts (see hf-names.ts), float32. */
  readonly params: ReadonlyMap<string, HostTensor>;
  /** Null when the directory has no tokenizer.json (token-id-only use still works). */
  readonly tokenizer: TextTokenizer | null;
}

/** Tokenizer files copied next to a saved checkpoint so it stays self-contained. */
const tokenizerFiles = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'chat_template.jinja'];

export function loadCheckpoint(dir: string): Checkpoint {
  const config = loadConfig(dir);
  const params = loadParams(config, openCheckpoint(dir), dir);
  const tokenizer = existsSync(join(dir, 'tokenizer.json')) ? loadTokenizer(dir) : null;
  if (tokenizer && tokenizer.size > config.vocabSize) {
    throw new Error(`${dir}: tokenizer.json has ${tokenizer.size} tokens but config.json "vocab_size" is ${config.vocabSize}`);
  }
  return { dir, config, params, tokenizer };
}

export interface SaveCheckpointOptions {
  /** Weight dtype on disk (default F32). */
  dtype?: FloatDtype;
  /** Directory whose tokenizer files are copied alongside (usually the base checkpoint). */
  tokenizerFrom?: string;
}

/** Writes config.json + model.safetensors in HF layout, so transformers' `from_pretrained` loads it. */
export function saveCheckpoint(out: string, config: ModelConfig, params: ReadonlyMap<string, HostTensor>, options: SaveCheckpointOptions = {}): void {
  const dtype = options.dtype ?? 'F32';
  const hfConfig = { ...config.hf, torch_dtype: { F32: 'float32', BF16: 'bfloat16', F16: 'float16' }[dtype] };
  const tensors = toHfTensors(config, params);
  writeDirAtomically(out, ['config.json', 'model.safetensors', ...tokenizerFiles], (tmp) => {
    writeFileSync(join(tmp, 'config.json'), `${JSON.stringify(hfConfig, null, 2)}\n`);
    writeSafetensors(join(tmp, 'model.safetensors'), tensors, { dtype, metadata: { format: 'pt' } });
    for (const f of tokenizerFiles) {
      const src = options.tokenizerFrom && join(options.tokenizerFrom, f);
      if (src && existsSync(src)) copyFileSync(src, join(tmp, f));
    }
  });
}
