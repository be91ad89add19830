/** @file Reads the committed PyTorch reference fixtures (tools/fixtures/model/make_model_fixtures.py) for parity tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from './safetensors';

export const fixturesDir = join(import.meta.dirname, 'fixtures');

export const fixtureNames = ['llama-fp32', 'llama-bf16', 'qwen2-fp32', 'qwen2-bf16'] as const;
export type FixtureName = (typeof fixtureNames)[number];

export interface Reference {
  readonly checkpoint: string;
  readonly adapter: string;
  readonly json: {
    input_ids: number[][];
    labels: number[][];
    loss: number;
    lora_loss: number;
    lora_sft: { lr: number; weight_decay: number; steps: number; losses: number[] };
    full_sft: { lr: number; weight_decay: number; steps: number; warmup: number; schedule: 'linear'; losses: number[] };
    padded: { input_ids: number[][]; attention_mask: number[][]; pad_id: number };
    greedy: { prompts: number[][]; max_new_tokens: number; pad_id: number; tokens: number[][] };
    lora: { r: number; alpha: number; targets: string[] };
  };
  tensor(name: string): Float32Array;
}

export function loadReference(name: FixtureName): Reference {
  const tensors = SafetensorsFile.open(join(fixturesDir, `${name}-reference.safetensors`));
  return {
    checkpoint: join(fixturesDir, name),
    adapter: join(fixturesDir, `${name}-adapter`),
    json: JSON.parse(readFileSync(join(fixturesDir, `${name}-reference.json`), 'utf8')),
    tensor: (t) => tensors.read(t),
  };
}
