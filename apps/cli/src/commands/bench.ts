/** @file `seal bench`: LoRA training and decode throughput of the S/M models against PyTorch eager in the same invocation, and ORT's MatMul peak. */
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRuntime } from '@seal/engine';
import { benchAdapterMemory, benchConfig, benchDecode, benchMatMul, benchTraining, LanguageModel, randomCheckpoint, type BenchSize } from '@seal/model';

interface BenchOptions {
  sizes: string;
  steps: string;
  threads: string;
  torch: boolean;
  decode: boolean;
}

const python = '/usr/bin/python3';
const script = join(import.meta.dirname, '..', '..', '..', '..', 'tools', 'fixtures', 'model', 'bench_reference.py');

/** The PyTorch reference, with the threading settings without which Debian's torch is ~3× slower. */
function torchReference(size: BenchSize, threads: number, steps: number, decode: boolean): Record<string, number> | null {
  if (!existsSync(python) || spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) return null;
  const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_THREAD_TIMEOUT: '4', OMP_NUM_THREADS: String(threads) };
  const res = spawnSync(python, [script, JSON.stringify({ size, threads, steps, decode })], { env, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`PyTorch reference failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!);
}

const line = (label: string, ours: number, unit: string, ref?: number) =>
  `  ${label.padEnd(22)} ${ours.toFixed(1).padStart(9)} ${unit}${ref ? `   PyTorch ${ref.toFixed(1).padStart(9)}   ours/PyTorch ${(ours / ref).toFixed(2)}×` : ''}`;

async function run(o: BenchOptions): Promise<void> {
  const threads = Number(o.threads);
  const steps = Number(o.steps);
  const runtime = createRuntime({ intraOpThreads: threads });
  try {
    const peak = await benchMatMul(runtime);
    console.log(`ORT MatMul 1024³: ${peak.toFixed(1)} GFLOP/s (${threads} threads)`);
    for (const size of o.sizes.split(',') as BenchSize[]) {
      if (size !== 'S' && size !== 'M') throw new Error(`--sizes: unknown size "${size}" (S, M)`);
      const lm = LanguageModel.fromCheckpoint(randomCheckpoint(benchConfig(size), 0), { runtime });
      const train = await benchTraining(lm, { batch: 4, seqLen: 256, rank: 8, steps, warmup: 1 });
      const b1 = o.decode ? await benchDecode(lm, { batch: 1, promptLen: 64, newTokens: 128 }) : NaN;
      const b8 = o.decode ? await benchDecode(lm, { batch: 8, promptLen: 64, newTokens: 128 }) : NaN;
      const memory = await benchAdapterMemory(lm, 16);
      await lm.release();
      const ref = o.torch ? torchReference(size, threads, steps, o.decode) : null;
      console.log(`${size}: LoRA r 8 on q,k,v,o,gate,up,down; batch 4 × 256; ${train.gflopPerStep.toFixed(1)} GFLOP/step`);
      console.log(`${line('train ms/step', train.msPerStep, 'ms    ')}${ref ? `   PyTorch ${ref.train_ms_per_step.toFixed(1).padStart(9)}` : ''}`);
      console.log(line('train tokens/s', train.tokensPerSec, 'tok/s ', ref?.train_tokens_per_sec));
      console.log(`  ${'train vs MatMul peak'.padEnd(22)} ${((100 * train.gflopPerSec) / peak).toFixed(0).padStart(9)} %`);
      if (o.decode) {
        console.log(line('decode b1 (64+128)', b1, 'tok/s ', ref?.decode_tokens_per_sec_b1));
        console.log(line('decode b8 (64+128)', b8, 'tok/s ', ref?.decode_tokens_per_sec_b8));
      }
      console.log(`  ${'RSS 16 vs 1 adapter'.padEnd(22)} ${memory.ratio.toFixed(2).padStart(9)} ×   (${memory.rssOneMiB.toFixed(0)} → ${memory.rssManyMiB.toFixed(0)} MiB)`);
      console.log(JSON.stringify({ size, threads, ours: { ...train, decodeB1: b1, decodeB8: b8, memory }, torch: ref, matmulGflops: peak }));
    }
  } finally {
    await runtime.release();
  }
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('LoRA training and decode throughput vs PyTorch eager (same invocation), and ORT MatMul GFLOP/s')
    .option('--sizes <list>', 'model sizes: S, M', 'S,M')
    .option('--steps <n>', 'timed training steps', '5')
    .option('--threads <n>', 'threads for ORT and PyTorch each', '2')
    .option('--no-torch', 'skip the PyTorch reference')
    .option('--no-decode', 'skip the decode benchmarks')
    .action(async (opts: BenchOptions) => {
      try {
        await run(opts);
      } catch (e) {
        process.stderr.write(`seal bench: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
