/** @file `seal generate`: sample a continuation of a prompt (optionally through the chat template and a PEFT adapter), streamed to stdout. */
import type { Command } from 'commander';
import { generate, LanguageModel, loadPeftAdapter, renderChat } from '@seal/model';

interface GenerateCliOptions {
  model: string;
  adapter?: string;
  prompt: string;
  chat?: boolean;
  maxNewTokens: string;
  temperature: string;
  topP: string;
  topK?: string;
  seed: string;
  stop?: string[];
  ep: 'cpu' | 'cuda' | 'webgpu';
}

function number(value: string, flag: string, integer = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`${flag} must be ${integer ? 'an integer' : 'a number'}, got "${value}"`);
  return n;
}

async function run(opts: GenerateCliOptions): Promise<void> {
  const sampling = {
    maxNewTokens: number(opts.maxNewTokens, '--max-new-tokens', true),
    temperature: number(opts.temperature, '--temperature'),
    topP: number(opts.topP, '--top-p'),
    topK: opts.topK ? number(opts.topK, '--top-k', true) : undefined,
    seed: number(opts.seed, '--seed', true),
  };
  const model = LanguageModel.load(opts.model, { provider: opts.ep });
  try {
    const tokenizer = model.tokenizer;
    if (!tokenizer) throw new Error(`${opts.model}: tokenizer.json is required for text generation`);
    const adapter = opts.adapter ? loadPeftAdapter(opts.adapter, model.config) : null;
    // A rendered chat template already holds its special tokens (BOS), as apply_chat_template(tokenize=True) assumes.
    const ids = opts.chat
      ? tokenizer.encode(renderChat(tokenizer, [{ role: 'user', content: opts.prompt }]), { addSpecialTokens: false })
      : tokenizer.encode(opts.prompt);
    await generate(model, [ids], { ...sampling, adapter, stopStrings: opts.stop, onText: (_row, text) => process.stdout.write(text) });
    process.stdout.write('\n');
  } finally {
    await model.release();
  }
}

export function register(program: Command): void {
  program
    .command('generate')
    .description('generate text from a prompt, streamed to stdout')
    .requiredOption('--model <dir>', 'checkpoint directory (config.json, *.safetensors, tokenizer.json)')
    .option('--adapter <dir>', 'PEFT LoRA adapter directory')
    .requiredOption('--prompt <text>', 'prompt text')
    .option('--chat', 'wrap the prompt as a user message with the chat template')
    .option('--max-new-tokens <n>', 'maximum new tokens', '128')
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', '1')
    .option('--top-p <p>', 'nucleus sampling mass', '1')
    .option('--top-k <k>', 'keep only the k most likely tokens')
    .option('--seed <s>', 'sampling seed', '0')
    .option('--stop <text...>', 'stop strings')
    .option('--ep <provider>', 'execution provider: cpu | cuda | webgpu', 'cpu')
    .action(async (opts: GenerateCliOptions) => {
      try {
        await run(opts);
      } catch (e) {
        process.stderr.write(`seal generate: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
