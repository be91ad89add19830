/**
 * @file `seal pretrain`: trains the tiny-world model from scratch (full-parameter, on the engine)
 * with a progress bar, a loss curve (CSV + PNG) and resumable checkpoints; `--export DIR` writes
 * the finished model as a self-contained folder (weights, tokenizer, world.json) like models/tiny-world.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { writeDirAtomically } from '@seal/model';
import { DEFAULT_TINY_MODEL, DEFAULT_WORLD_CONFIG, pretrainTinyModel, PretrainError, type PretrainKind, type PretrainResult, type WorldConfig } from '@seal/tasks';

/** Files of an exported model folder (models/tiny-world); MODEL_CARD.md and inner_loop.json are written by hand beside them. */
export const EXPORTED_MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'world.json', 'pretrain.json', 'loss.csv', 'loss.png', 'loss.svg', 'MODEL_CARD.md', 'inner_loop.json'];

function num(value: string, flag: string, integer = false): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n <= 0) {
    throw new PretrainError(`${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${value}"`);
  }
  return n;
}

export function parseWorldOverrides(pairs: readonly string[]): Partial<WorldConfig> {
  const out: Record<string, number> = {};
  for (const pair of pairs) {
    const m = /^(\w+)=(.+)$/.exec(pair);
    if (!m) throw new PretrainError(`--set expects key=value, got "${pair}"`);
    if (!(m[1] in DEFAULT_WORLD_CONFIG)) throw new PretrainError(`--set: unknown world config field "${m[1]}" (known: ${Object.keys(DEFAULT_WORLD_CONFIG).join(', ')})`);
    const v = Number(m[2]);
    if (!Number.isFinite(v)) throw new PretrainError(`--set ${m[1]}: "${m[2]}" is not a number`);
    out[m[1]] = v;
  }
  return out as Partial<WorldConfig>;
}

/** loss.csv and the curve as SVG + PNG (PNG skipped, SVG kept, if rasterising fails). */
export async function writeLossCurve(dir: string, losses: readonly { step: number; loss: number }[]): Promise<string[]> {
  writeFileSync(path.join(dir, 'loss.csv'), `step,loss\n${losses.map((l) => `${l.step},${l.loss}`).join('\n')}\n`);
  const spec = compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Pretraining loss',
    width: 480,
    height: 260,
    data: { values: [...losses] },
    mark: { type: 'line' },
    encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative', scale: { type: 'log' }, title: 'cross-entropy (nats/token)' } },
  }).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  writeFileSync(path.join(dir, 'loss.svg'), svg);
  const written = ['loss.csv', 'loss.svg'];
  try {
    writeFileSync(path.join(dir, 'loss.png'), new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 } }).render().asPng());
    written.push('loss.png');
  } catch (error) {
    process.stderr.write(`seal pretrain: loss.png not written (${(error as Error).message}); loss.svg has the curve\n`);
  }
  return written;
}

/** The finished model as one self-contained folder: weights + tokenizer + the world it learned + how it was made. */
export function exportModel(runDir: string, out: string, result: PretrainResult, command: string): void {
  writeDirAtomically(out, EXPORTED_MODEL_FILES, (tmp) => {
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(result.modelDir, f), path.join(tmp, f));
    copyFileSync(path.join(runDir, 'world', 'world.json'), path.join(tmp, 'world.json'));
    for (const f of ['loss.csv', 'loss.svg', 'loss.png']) {
      try {
        copyFileSync(path.join(runDir, f), path.join(tmp, f));
      } catch {
        // loss.png may be missing when rasterising failed; the SVG still carries the curve
      }
    }
    const { losses, ...summary } = result;
    writeFileSync(path.join(tmp, 'pretrain.json'), `${JSON.stringify({ command, ...summary, finalLoss: losses.at(-1)?.loss ?? null }, null, 2)}\n`);
  });
}

export function register(program: Command): void {
  program
    .command('pretrain')
    .description('train the tiny-world model from scratch, or continue one (--init), full-parameter, with resumable checkpoints')
    .requiredOption('--out <dir>', 'run folder: world/, checkpoint/, model/, loss.csv, loss.png')
    .option('--world-seed <n>', 'world seed', '1')
    .option('--set <key=value>', 'world config override, e.g. --set pretrainPeople=600 (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--hidden <n>', 'hidden size', String(DEFAULT_TINY_MODEL.hiddenSize))
    .option('--layers <n>', 'transformer layers', String(DEFAULT_TINY_MODEL.layers))
    .option('--heads <n>', 'attention heads', String(DEFAULT_TINY_MODEL.heads))
    .option('--ffn <n>', 'MLP intermediate size', String(DEFAULT_TINY_MODEL.intermediateSize))
    .option('--steps <n>', 'optimizer steps (overrides --epochs)')
    .option('--epochs <n>', 'passes over the corpus', '3')
    .option('--lr <x>', 'peak learning rate (cosine to lr/10)', '2e-3')
    .option('--warmup <n>', 'linear warmup steps', '20')
    .option('--batch <n>', 'packed rows per step', '8')
    .option('--seq-len <n>', 'tokens per packed row (= max_position_embeddings)', '256')
    .option('--seed <n>', 'init and data-order seed', '0')
    .option('--checkpoint-every <n>', 'steps between checkpoints', '25')
    .option('--threads <n>', 'ORT intra-op threads', '2')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--init <dir>', "start from this model folder's weights and tokenizer instead of a random init (continued pretraining; its shape overrides --hidden/--layers/--heads/--ffn)")
    .option('--kinds <list>', 'train only on these corpus document kinds, comma-separated (passage, bio, qa, self-edit, world-fact, world-qa); default all')
    .option('--export <dir>', 'when finished, write the model folder (weights, tokenizer, world.json, loss curve) here')
    .action(async (o: Record<string, string | string[] | boolean | undefined>) => {
      const s = (k: string) => o[k] as string;
      const options = {
        out: path.resolve(s('out')),
        worldSeed: Number.isInteger(Number(s('worldSeed'))) ? Number(s('worldSeed')) : num(s('worldSeed'), '--world-seed', true),
        worldOverrides: parseWorldOverrides(o.set as string[]),
        model: { hiddenSize: num(s('hidden'), '--hidden', true), layers: num(s('layers'), '--layers', true), heads: num(s('heads'), '--heads', true), intermediateSize: num(s('ffn'), '--ffn', true) },
        steps: o.steps === undefined ? undefined : num(s('steps'), '--steps', true),
        epochs: num(s('epochs'), '--epochs'),
        lr: num(s('lr'), '--lr'),
        warmup: Number(s('warmup')),
        batchSize: num(s('batch'), '--batch', true),
        seqLen: num(s('seqLen'), '--seq-len', true),
        seed: Number(s('seed')),
        checkpointEvery: num(s('checkpointEvery'), '--checkpoint-every', true),
        intraOpThreads: num(s('threads'), '--threads', true),
        resume: o.resume === true,
        ...(o.init === undefined ? {} : { init: s('init') }),
        ...(o.kinds === undefined ? {} : { kinds: s('kinds').split(',').map((k) => k.trim()) as PretrainKind[] }),
      };
      const bar = new cliProgress.SingleBar(
        { format: 'pretrain [{bar}] {value}/{total} steps | loss {loss} | {tps} tok/s | {duration_formatted} | ETA {eta_formatted}', etaBuffer: 50, stream: process.stderr, noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 30_000 },
        cliProgress.Presets.shades_classic,
      );
      let started = false;
      const result = await pretrainTinyModel({
        ...options,
        onStep: (p) => {
          if (!started) {
            bar.start(p.totalSteps, p.step - 1, { loss: '-', tps: '-' });
            started = true;
          }
          bar.update(p.step, { loss: p.loss.toFixed(3), tps: p.tokensPerSec.toFixed(0) });
        },
      }).finally(() => bar.stop());
      await writeLossCurve(options.out, result.losses);
      const last = result.losses.at(-1);
      console.log(`${result.params} params; ${result.stepsRun} steps run (from ${result.resumedFrom}) of ${result.totalSteps}; final loss ${last?.loss.toFixed(4)}; ${result.tokensPerEpoch} tokens/epoch; corpus sha256 ${result.corpusSha256}`);
      if (o.export) {
        if (result.resumedFrom + result.stepsRun < result.totalSteps) throw new PretrainError('--export: the run has not finished');
        exportModel(options.out, path.resolve(s('export')), result, `seal ${process.argv.slice(2).join(' ')}`);
        console.log(`model → ${path.resolve(s('export'))}`);
      }
    });
}
