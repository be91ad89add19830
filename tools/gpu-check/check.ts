/**
 * @file GPU check of issue 5 §6, run on a lent GPU machine as one bundled program: which providers
 * onnxruntime-node has, whether our forward and LoRA train-step graphs place entirely on a GPU
 * provider, logits and loss parity GPU vs CPU, and train-step / decode speed GPU vs CPU, for the
 * tiny-world model and the bench's S model. Every section is caught on its own and the JSON report
 * is rewritten after each one, so a crash or a timeout keeps what ran before it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { adamw, availableProviders, buildTrainStep, createRuntime, crossEntropy, hostTensor, input, Rng, toOnnxModel, type HostTensor, type Provider, type Runtime, type Tensor } from '@seal/engine';
import {
  PROJECTION_MODULES,
  benchConfig,
  benchDecode,
  initLoraAdapter,
  LanguageModel,
  Llama,
  loadCheckpoint,
  randomCheckpoint,
  positionIds,
  ropeRowFeeds,
  trainLora,
  type Checkpoint,
  type ModelConfig,
} from '@seal/model';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'gpu-check.json' },
    model: { type: 'string', default: 'models/tiny-world' },
    threads: { type: 'string', default: '1' },
    providers: { type: 'string', default: 'webgpu,cuda' },
    steps: { type: 'string', default: '5' },
    seq: { type: 'string', default: '256' },
    'decode-tokens': { type: 'string', default: '64' },
    'dump-graph': { type: 'string' },
    sizes: { type: 'string', default: 'tiny-world,S,M' },
    placement: { type: 'string' },
  },
});
const threads = Number(args.threads);
const steps = Number(args.steps);
const seqLen = Number(args.seq);
const decodeTokens = Number(args['decode-tokens']);
const gpuProviders = args.providers.split(',').filter(Boolean) as Provider[];

type Json = Record<string, unknown>;
const report: Json = {
  startedAt: new Date().toISOString(),
  node: process.version,
  threads,
  steps,
  seqLen,
  sections: {} as Record<string, Json>,
};
const sections = report.sections as Record<string, Json>;
const save = () => writeFileSync(args.out, `${JSON.stringify(report, null, 1)}\n`);

/** Runs one part of the check; its result or its error lands in the report, which is saved at once. */
async function section(name: string, body: () => Promise<Json>): Promise<Json | null> {
  const t0 = performance.now();
  try {
    const result = await body();
    sections[name] = { ok: true, ...result, sectionMs: Math.round(performance.now() - t0) };
    console.log(`${name}: ${JSON.stringify(sections[name])}`);
    return result;
  } catch (e) {
    const err = e as Error;
    sections[name] = { ok: false, error: `${err.name}: ${err.message}`.slice(0, 2000), sectionMs: Math.round(performance.now() - t0) };
    console.log(`${name}: FAILED ${sections[name].error}`);
    return null;
  } finally {
    save();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function maxAbsDiff(a: Float32Array, b: Float32Array): { maxAbs: number; maxRef: number } {
  if (a.length !== b.length) throw new Error(`parity: ${a.length} vs ${b.length} values`);
  let maxAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return { maxAbs, maxRef };
}

function randomIds(vocab: number, rows: number, cols: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.floor(rng.uniform() * vocab)));
}

/** The forward (logits) graph exactly as LanguageModel.logits builds it. */
function forwardGraph(config: ModelConfig): Record<string, Tensor> {
  const model = new Llama(config, null);
  return { logits: model.sequenceLogits() };
}

/** The LoRA train-step graph (r 8 on every linear, AdamW) as trainLora builds it. */
function trainGraph(config: ModelConfig): Record<string, Tensor> {
  const targets = new Set(initLoraAdapter(config, { r: 8, alpha: 16, targetModules: [...PROJECTION_MODULES] }, 0).pairs.keys());
  const model = new Llama(config, { r: 8, targets });
  const trainable = Object.fromEntries([...model.loraInputs].filter(([n]) => n !== 'lora.scale'));
  const loss = crossEntropy(model.sequenceLogits(), input('targets', ['B', 'T'], 'int64'), { ignoreIndex: -100 });
  return buildTrainStep({ loss, params: trainable, optimizer: adamw({ weightDecay: 0 }) }).outputs;
}

/**
 * Whether every node of the graph can run on `provider`: ORT is told not to fall back to the CPU
 * provider, so session creation fails (naming the node) if any node would have left the GPU.
 */
async function strictPlacement(provider: Provider, outputs: Record<string, Tensor>): Promise<Json> {
  const bytes = toOnnxModel(outputs);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: [provider],
    logSeverityLevel: 3,
    extra: { session: { disable_cpu_ep_fallback: '1' } },
  });
  await session.release();
  return { allNodesOn: provider, modelBytes: bytes.length };
}

/** LoRA SFT on random tokens (batch 4): median step ms after one warm-up step, and every step's loss. */
async function timedTraining(lm: LanguageModel): Promise<Json> {
  const examples = randomIds(lm.config.vocabSize, 4, seqLen, 1).map((ids) => ({ inputIds: ids, labels: ids }));
  const adapter = initLoraAdapter(lm.config, { r: 8, alpha: 16, targetModules: [...PROJECTION_MODULES] }, 0);
  const times: number[] = [];
  const losses: number[] = [];
  let last = performance.now();
  await trainLora(lm, adapter, examples, {
    steps: 1 + steps,
    lr: 1e-3,
    onStep: ({ step, loss }) => {
      const now = performance.now();
      if (step >= 1) times.push(now - last);
      losses.push(loss);
      last = now;
    },
  });
  const ms = median(times);
  return { msPerStep: ms, stepMs: times.map((t) => Math.round(t * 10) / 10), tokensPerSec: (4 * seqLen) / (ms / 1000), losses };
}

/**
 * The forward graph, its feeds and our CPU logits on disk (raw little-endian arrays + manifest), so
 * Python's onnxruntime can run the very graph we emit on its providers and compare.
 */
async function dumpGraph(dir: string, lm: LanguageModel, ids: number[][]): Promise<Json> {
  mkdirSync(dir, { recursive: true });
  const { config } = lm;
  const [b, t] = [ids.length, ids[0].length];
  const mask = new Float32Array(b * t * t);
  for (let r = 0; r < b; r++) {
    for (let p = 0; p < t; p++) for (let j = 0; j < t; j++) mask[(r * t + p) * t + j] = j <= p ? 0 : -1e9;
  }
  const full = ids.map((row) => row.map(() => 1));
  const feeds: Record<string, HostTensor> = {
    ...Object.fromEntries(lm.params),
    ids: hostTensor('int64', [b, t], ids.flat()),
    ...ropeRowFeeds(config, positionIds(full, t)),
    mask: hostTensor('float32', [b, 1, 1, t, t], mask),
  };
  const manifest: Record<string, { dtype: string; shape: number[]; file: string }> = {};
  Object.entries(feeds).forEach(([name, f], i) => {
    const file = `feed${i}.bin`;
    writeFileSync(join(dir, file), new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength));
    manifest[name] = { dtype: f.dtype, shape: [...f.shape], file };
  });
  writeFileSync(join(dir, 'forward.onnx'), toOnnxModel(forwardGraph(config)));
  const logits = (await lm.logits(ids)).data as Float32Array;
  writeFileSync(join(dir, 'logits.bin'), new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ feeds: manifest, logits: { dtype: 'float32', shape: [b, t, config.vocabSize], file: 'logits.bin' } }));
  return { dir, feeds: Object.keys(manifest).length };
}

/** All checks for one model: CPU baseline, then each GPU provider against it. */
async function checkModel(label: string, checkpoint: Checkpoint): Promise<void> {
  const ids = randomIds(checkpoint.config.vocabSize, 4, 64, 7);
  const cpu = LanguageModel.fromCheckpoint(checkpoint, { runtime: createRuntime({ provider: 'cpu', intraOpThreads: threads }) });
  let cpuLogits: Float32Array | null = null;
  let cpuLosses: number[] | null = null;
  await section(`${label}.cpu.logits`, async () => {
    const t0 = performance.now();
    cpuLogits = (await cpu.logits(ids)).data as Float32Array;
    const firstMs = performance.now() - t0;
    const t1 = performance.now();
    await cpu.logits(ids);
    return { shape: [4, 64, checkpoint.config.vocabSize], firstCallMs: firstMs, warmMs: performance.now() - t1 };
  });
  if (args['dump-graph'] && label === 'tiny-world') await section(`${label}.dump-graph`, () => dumpGraph(args['dump-graph']!, cpu, ids.slice(0, 2)));
  await section(`${label}.cpu.train`, async () => {
    const r = await timedTraining(cpu);
    cpuLosses = r.losses as number[];
    return r;
  });
  await section(`${label}.cpu.decode`, async () => ({
    batch1TokensPerSec: await benchDecode(cpu, { batch: 1, promptLen: 64, newTokens: decodeTokens }),
    batch8TokensPerSec: await benchDecode(cpu, { batch: 8, promptLen: 64, newTokens: decodeTokens }),
  }));
  await cpu.runtime.release();

  for (const provider of gpuProviders) {
    await section(`${label}.${provider}.strict-forward`, () => strictPlacement(provider, forwardGraph(checkpoint.config)));
    await section(`${label}.${provider}.strict-train`, () => strictPlacement(provider, trainGraph(checkpoint.config)));
    const holder: { runtime?: Runtime } = {};
    await section(`${label}.${provider}.runtime`, async () => {
      holder.runtime = createRuntime({ provider, intraOpThreads: threads });
      return { provider: holder.runtime.provider };
    });
    const { runtime } = holder;
    if (!runtime) continue;
    const gpu = LanguageModel.fromCheckpoint(checkpoint, { runtime });
    const logitsOk = await section(`${label}.${provider}.logits`, async () => {
      const t0 = performance.now();
      const out = (await gpu.logits(ids)).data as Float32Array;
      const firstMs = performance.now() - t0;
      const t1 = performance.now();
      await gpu.logits(ids);
      const warmMs = performance.now() - t1;
      const parity = cpuLogits ? maxAbsDiff(out, cpuLogits) : null;
      return { provider, firstCallMs: firstMs, warmMs, parityVsCpu: parity };
    });
    if (logitsOk) {
      await section(`${label}.${provider}.train`, async () => {
        const r = await timedTraining(gpu);
        const losses = r.losses as number[];
        const lossDiff = cpuLosses ? Math.max(...losses.map((l, i) => Math.abs(l - cpuLosses![i]))) : null;
        return { ...r, maxLossDiffVsCpu: lossDiff };
      });
      await section(`${label}.${provider}.decode`, async () => ({
        batch1TokensPerSec: await benchDecode(gpu, { batch: 1, promptLen: 64, newTokens: decodeTokens }),
        batch8TokensPerSec: await benchDecode(gpu, { batch: 8, promptLen: 64, newTokens: decodeTokens }),
      }));
    }
    await runtime.release();
  }
}

/**
 * Placement mode: creates the forward and train-step sessions of tiny-world and S on `provider` with
 * ORT's verbose log on, whose "Node placements" lines (stderr) name every node that left the GPU.
 */
async function placement(provider: Provider): Promise<void> {
  ort.env.logLevel = 'verbose';
  for (const config of [loadCheckpoint(args.model).config, benchConfig('S')]) {
    for (const [kind, outputs] of [['forward', forwardGraph(config)], ['train', trainGraph(config)]] as const) {
      console.error(`=== placement ${provider} ${config.hiddenSize}-wide ${kind} graph`);
      const session = await ort.InferenceSession.create(toOnnxModel(outputs), { executionProviders: [provider], logSeverityLevel: 0, logVerbosityLevel: 0 });
      await session.release();
    }
  }
}

async function main(): Promise<void> {
  if (args.placement) return placement(args.placement as Provider);
  await section('providers', async () => ({
    listSupportedBackends: ort.listSupportedBackends(),
    bundled: availableProviders(),
  }));
  const tiny = await section('tiny-world.load', async () => {
    const c = loadCheckpoint(args.model);
    return { dir: c.dir, params: [...c.params.values()].reduce((n, t) => n + t.data.length, 0) };
  });
  const sizes = args.sizes.split(',');
  if (tiny && sizes.includes('tiny-world')) await checkModel('tiny-world', loadCheckpoint(args.model));
  for (const size of ['S', 'M'] as const) if (sizes.includes(size)) await checkModel(size, randomCheckpoint(benchConfig(size), 0));
  report.finishedAt = new Date().toISOString();
  save();
}

await main();
