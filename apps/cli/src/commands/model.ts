/** @file `seal model logits`: a checkpoint's full-sequence logits (optionally with a PEFT adapter) as one JSON object on stdout. */
import type { Command } from 'commander';
import { LanguageModel, loadPeftAdapter, readInputIds } from '@seal/model';

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
}
