/** @file `seal bench`: LoRA training and decode throughput of the S/M models against PyTorch eager in the same invocation, and ORT's MatMul peak. */
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRuntime } from '@seal/engine';
import { benchAdapterMemory, benchConfig, benchDecode, benchMatMul, benchTraining, LanguageModel, median, randomCheckpoint, type BenchSize } from '@seal/model';

interface BenchOptions {
  sizes: string;
  steps: string;
  threads: string;
  torch: boolean;
  decode: boolean;
  repeats: string;
  profile?: string;
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

const fmt = (xs: number[], digits = 1) => xs.map((x) => x.toFixed(digits)).join(' / ');

/**
 * One metric over the repeats: ours, PyTorch's, and the median of the per-repeat ratios. Each
 * ratio pairs two measurements taken minutes apart at most, so a slow minute on a shared machine
 * moves one ratio, not the median.
 */
function line(label: string, unit: string, ours: number[], ref: number[] | undefined, higherIsBetter = true): string {
  const head = `  ${label.padEnd(22)} ${fmt(ours).padStart(9)} ${unit}`;
  if (!ref) return head;
  const ratios = ours.map((o, i) => (higherIsBetter ? o / ref[i]! : ref[i]! / o));
  return `${head}   PyTorch ${fmt(ref)}   ours/PyTorch ${fmt(ratios, 2)} → median ${median(ratios).toFixed(2)}×`;
}

interface OursRepeat {
  msPerStep: number;
  tokensPerSec: number;
  gflopPerSec: number;
  decodeB1: number;
  decodeB8: number;
}

async function run(o: BenchOptions): Promise<void> {
  const threads = Number(o.threads);
  const steps = Number(o.steps);
  const repeats = Number(o.repeats);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeats must be a positive integer, got "${o.repeats}"`);
  const runtime = createRuntime({ intraOpThreads: threads, profile: o.profile });
  try {
    const peak = await benchMatMul(runtime);
    console.log(`ORT MatMul 1024³: ${peak.toFixed(1)} GFLOP/s (${threads} threads)`);
    for (const size of o.sizes.split(',') as BenchSize[]) {
      if (size !== 'S' && size !== 'M') throw new Error(`--sizes: unknown size "${size}" (S, M)`);
      const lm = LanguageModel.fromCheckpoint(randomCheckpoint(benchConfig(size), 0), { runtime });
      const ours: OursRepeat[] = [];
      const refs: Record<string, number>[] = [];
      let gflopPerStep = NaN;
      const measureOurs = async () => {
        const train = await benchTraining(lm, { batch: 4, seqLen: 256, rank: 8, steps, warmup: 1 });
        gflopPerStep = train.gflopPerStep;
        const decodeB1 = o.decode ? await benchDecode(lm, { batch: 1, promptLen: 64, newTokens: 128 }) : NaN;
        const decodeB8 = o.decode ? await benchDecode(lm, { batch: 8, promptLen: 64, newTokens: 128 }) : NaN;
        ours.push({ msPerStep: train.msPerStep, tokensPerSec: train.tokensPerSec, gflopPerSec: train.gflopPerSec, decodeB1, decodeB8 });
      };
      for (let r = 0; r < repeats; r++) {
        // Alternate who goes first, so a machine that slows down or speeds up over the run does not always favour one side.
        const ref = o.torch && r % 2 === 1 ? torchReference(size, threads, steps, o.decode) : null;
        await measureOurs();
        const refAfter = o.torch && r % 2 === 0 ? torchReference(size, threads, steps, o.decode) : null;
        const measured = ref ?? refAfter;
        if (measured) refs.push(measured);
      }
      const memory = await benchAdapterMemory(lm, 16);
      await lm.release();
      const torch = refs.length === repeats ? refs : undefined;
      const pick = (key: keyof OursRepeat) => ours.map((x) => x[key]);
      const ref = (key: string) => torch?.map((x) => x[key]!);
      console.log(`${size}: LoRA r 8 on q,k,v,o,gate,up,down; batch 4 × 256; ${gflopPerStep.toFixed(1)} GFLOP/step; ${repeats} repeat(s), ours and PyTorch alternating`);
      console.log(line('train ms/step', 'ms   ', pick('msPerStep'), ref('train_ms_per_step'), false));
      console.log(`  ${'train vs MatMul peak'.padEnd(22)} ${fmt(pick('gflopPerSec').map((g) => (100 * g) / peak), 0).padStart(9)} %`);
      if (o.decode) {
        console.log(line('decode b1 (64+128)', 'tok/s', pick('decodeB1'), ref('decode_tokens_per_sec_b1')));
        console.log(line('decode b8 (64+128)', 'tok/s', pick('decodeB8'), ref('decode_tokens_per_sec_b8')));
      }
      console.log(`  ${'RSS 16 vs 1 adapter'.padEnd(22)} ${memory.ratio.toFixed(2).padStart(9)} ×   (${memory.rssOneMiB.toFixed(0)} → ${memory.rssManyMiB.toFixed(0)} MiB)`);
      console.log(JSON.stringify({ size, threads, gflopPerStep, ours, torch: torch ?? null, memory, matmulGflops: peak }));
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
    .option('--repeats <n>', 'measure ours and PyTorch alternately this many times; ratios are per repeat, then the median', '3')
    .option('--no-torch', 'skip the PyTorch reference')
    .option('--no-decode', 'skip the decode benchmarks')
    .option('--profile <prefix>', "write ORT's per-operator profile of each graph to <prefix>_<date>.json (slows every run; summarise with tools/ort-profile-summary.ts)")
    .action(async (opts: BenchOptions) => {
      try {
        await run(opts);
      } catch (e) {
        process.stderr.write(`seal bench: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
