/** @file `seal model logits` (full-sequence logits as one JSON object on stdout) and `seal model merge` (adapter folded into an HF checkpoint). */
import type { Command } from 'commander';
import { loadCheckpoint, LanguageModel, loadPeftAdapter, mergeAdapter, readInputIds, saveCheckpoint } from '@seal/model';

interface LogitsOptions {
  model: string;
  adapter?: string;
  input: string;
  ep: 'cpu' | 'cuda' | 'webgpu';
}

async function logits(opts: LogitsOptions): Promise<void> {
  const ids = readInputIds(opts.input);
  const model = LanguageModel.load(opts.model, { provider: opts.ep });
  try {
    const adapter = opts.adapter ? loadPeftAdapter(opts.adapter, model.config) : null;
    const out = await model.logits(ids, adapter);
    const [b, t, v] = out.shape;
    const data = out.data as Float32Array;
    // (B, T, V) nested arrays; float32 values print exactly as JSON numbers.
    const nested = Array.from({ length: b }, (_, i) => Array.from({ length: t }, (_, j) => Array.from(data.subarray((i * t + j) * v, (i * t + j + 1) * v))));
    process.stdout.write(`${JSON.stringify({ logits: nested })}\n`);
  } finally {
    await model.release();
  }
}

interface MergeOptions {
  model: string;
  adapter: string;
  out: string;
  dtype: string;
}

/** θ ← θ + (α/r)·B·A for every adapted linear, saved in HF layout with the tokenizer alongside. */
function merge(opts: MergeOptions): void {
  if (!['F32', 'BF16', 'F16'].includes(opts.dtype)) throw new Error(`--dtype must be F32, BF16 or F16, got "${opts.dtype}"`);
  const checkpoint = loadCheckpoint(opts.model);
  const adapter = loadPeftAdapter(opts.adapter, checkpoint.config);
  const merged = mergeAdapter(checkpoint.config, checkpoint.params, adapter);
  saveCheckpoint(opts.out, checkpoint.config, merged, { dtype: opts.dtype as 'F32' | 'BF16' | 'F16', tokenizerFrom: opts.model });
}

export function register(program: Command): void {
  const model = program.command('model').description('inspect a Hugging Face Llama/Qwen2 checkpoint');
  model
    .command('logits')
    .description('print {"logits": number[B][T][V]} for {"input_ids": int[][]}')
    .requiredOption('--model <dir>', 'checkpoint directory (config.json, *.safetensors, tokenizer.json)')
    .option('--adapter <dir>', 'PEFT LoRA adapter directory')
    .requiredOption('--input <file>', 'JSON file {"input_ids": int[][]} (rectangular)')
    .option('--ep <provider>', 'execution provider: cpu | cuda | webgpu', 'cpu')
    .action(async (opts: LogitsOptions) => {
      try {
        await logits(opts);
      } catch (e) {
        process.stderr.write(`seal model logits: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
  model
    .command('merge')
    .description('fold a PEFT LoRA adapter into the base and save an HF checkpoint (all-or-nothing)')
    .requiredOption('--model <dir>', 'base checkpoint directory')
    .requiredOption('--adapter <dir>', 'PEFT LoRA adapter directory')
    .requiredOption('--out <dir>', 'output checkpoint directory')
    .option('--dtype <dtype>', 'weight dtype on disk: F32 | BF16 | F16', 'F32')
    .action((opts: MergeOptions) => {
      try {
        merge(opts);
      } catch (e) {
        process.stderr.write(`seal model merge: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
