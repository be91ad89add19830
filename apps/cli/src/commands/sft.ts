/** @file `seal sft`: LoRA fine-tuning of a checkpoint on token or text data; one JSON line per step, a PEFT adapter in --out. */
import type { Command } from 'commander';
import {
  adapterFiles,
  checkOutputDir,
  initLoraAdapter,
  LanguageModel,
  loadPeftAdapter,
  readSftData,
  savePeftAdapter,
  trainLora,
  validateExamples,
  type ScheduleKind,
} from '@seal/model';

interface SftCliOptions {
  model: string;
  adapterInit?: string;
  rank?: string;
  alpha?: string;
  targets?: string;
  data: string;
  steps: string;
  lr: string;
  weightDecay: string;
  batchSize?: string;
  schedule: string;
  warmup: string;
  seed: string;
  out: string;
  ep: 'cpu' | 'cuda' | 'webgpu';
}

function number(value: string, flag: string, integer = false): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new Error(`${flag} must be ${integer ? 'an integer' : 'a number'}, got "${value}"`);
  }
  return n;
}

async function run(o: SftCliOptions): Promise<void> {
  // Every input is checked before training starts, so a bad flag costs no compute and writes nothing.
  const schedule = o.schedule as ScheduleKind;
  if (!['constant', 'linear', 'cosine'].includes(schedule)) throw new Error(`--schedule must be constant, linear or cosine, got "${o.schedule}"`);
  const training = {
    steps: number(o.steps, '--steps', true),
    lr: number(o.lr, '--lr'),
    weightDecay: number(o.weightDecay, '--weight-decay'),
    batchSize: o.batchSize === undefined ? undefined : number(o.batchSize, '--batch-size', true),
    warmup: number(o.warmup, '--warmup', true),
    schedule,
  };
  if (o.adapterInit && (o.rank || o.alpha || o.targets)) throw new Error('give either --adapter-init or --rank/--alpha/--targets, not both');
  if (!o.adapterInit && !(o.rank && o.alpha)) throw new Error('give --adapter-init DIR, or --rank R and --alpha A (and optionally --targets)');
  checkOutputDir(o.out, adapterFiles);
  const model = LanguageModel.load(o.model, { provider: o.ep });
  try {
    const examples = readSftData(o.data, model.tokenizer);
    validateExamples(examples, model.config.vocabSize, o.data);
    const adapter = o.adapterInit
      ? loadPeftAdapter(o.adapterInit, model.config)
      : initLoraAdapter(
          model.config,
          {
            r: number(o.rank!, '--rank', true),
            alpha: number(o.alpha!, '--alpha'),
            targetModules: (o.targets ?? 'q_proj,v_proj').split(',').map((t) => t.trim()).filter(Boolean),
          },
          number(o.seed, '--seed', true),
        );
    const { trained } = await trainLora(model, adapter, examples, {
      ...training,
      onStep: ({ step, loss }) => process.stdout.write(`${JSON.stringify({ step: step + 1, loss })}\n`),
    });
    savePeftAdapter(o.out, model.config, trained, { baseModel: o.model });
  } finally {
    await model.release();
  }
}

export function register(program: Command): void {
  program
    .command('sft')
    .description('LoRA fine-tune: prints {"step": i, "loss": x} per step (i from 1; loss before that step\'s update), writes a PEFT adapter')
    .requiredOption('--model <dir>', 'checkpoint directory (config.json, *.safetensors, tokenizer.json)')
    .option('--adapter-init <dir>', 'start from this PEFT adapter')
    .option('--rank <r>', 'LoRA rank of a fresh adapter')
    .option('--alpha <a>', 'LoRA alpha of a fresh adapter (scale = alpha / rank)')
    .option('--targets <list>', 'comma-separated target modules of a fresh adapter (default q_proj,v_proj)')
    .requiredOption('--data <file>', '{"input_ids": int[][], "labels": int[][]} JSON, or JSONL {"text"} / {"prompt","completion"} records')
    .requiredOption('--steps <n>', 'optimizer steps')
    .requiredOption('--lr <x>', 'peak learning rate')
    .option('--weight-decay <w>', 'AdamW decoupled weight decay', '0')
    .option('--batch-size <b>', 'rows per step (default: all rows every step)')
    .option('--schedule <kind>', 'constant | linear | cosine', 'constant')
    .option('--warmup <n>', 'linear warmup steps', '0')
    .option('--seed <s>', 'seed of a fresh adapter\'s A init', '0')
    .requiredOption('--out <dir>', 'output adapter directory (written all-or-nothing)')
    .option('--ep <provider>', 'execution provider: cpu | cuda | webgpu', 'cpu')
    .action(async (opts: SftCliOptions) => {
      try {
        await run(opts);
      } catch (e) {
        process.stderr.write(`seal sft: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
