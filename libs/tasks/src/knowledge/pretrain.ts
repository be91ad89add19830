/**
 * @file Pretraining the tiny-world model from scratch on the engine: the world's corpus packed into
 * document-masked rows, full-parameter AdamW, and atomic resumable checkpoints (HF weights +
 * optimizer state + step), so a killed run continues bit-identically from its last checkpoint.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  adamw,
  cosineSchedule,
  createRuntime,
  createTrainer,
  crossEntropy,
  hostTensor,
  input,
  type HostTensor as EngineTensor,
  type Runtime,
} from '@seal/engine';
import {
  LanguageModel,
  Llama,
  loadCheckpoint,
  loadTokenizer,
  parseConfig,
  randomCheckpoint,
  readAll,
  SafetensorsFile,
  toHfTensors,
  ropeRowFeeds,
  saveCheckpoint,
  writeDirAtomically,
  writeSafetensors,
  type HostTensor,
  type ModelConfig,
} from '@seal/model';
import { Prng } from './prng';
import { pretrainingCorpus, PRETRAIN_KINDS, type PretrainKind } from './pretraining-corpus';
import { generateWorld, type WorldConfig } from './world';
import { writeWorldFiles } from './world-files';

/** Shape of the tiny Llama; the vocabulary comes from the world's tokenizer. */
export interface TinyModelShape {
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
}

export const DEFAULT_TINY_MODEL: TinyModelShape = { hiddenSize: 128, layers: 4, heads: 4, intermediateSize: 512 };

export interface PretrainOptions {
  /** Output folder: world/, checkpoint/, model/, loss.csv. */
  out: string;
  worldSeed: number;
  worldOverrides?: Partial<WorldConfig>;
  model?: TinyModelShape;
  /** Total optimizer steps; when absent, `epochs` × steps per epoch. */
  steps?: number;
  epochs?: number;
  lr: number;
  warmup?: number;
  weightDecay?: number;
  /** Packed rows per step. */
  batchSize: number;
  /** Tokens per packed row (documents never straddle rows; longer documents are cut). */
  seqLen: number;
  /** Weight init and data-order seed. */
  seed: number;
  /** Steps between checkpoints (a checkpoint is always written at the end). */
  checkpointEvery?: number;
  resume?: boolean;
  /**
   * A model folder to continue from — its weights, shape and tokenizer — instead of a random init:
   * continued pretraining on this world's corpus (e.g. a corpus recipe changed after the model was
   * trained). `model` is then ignored.
   */
  init?: string;
  /**
   * Train only on these kinds of corpus document (all when absent): e.g. continued pretraining on
   * the self-edit demonstrations alone changes how the model writes edits without another pass
   * over the facts and questions that set how well it learns from a passage.
   */
  kinds?: readonly PretrainKind[];
  intraOpThreads?: number;
  onStep?: (p: PretrainProgress) => void;
  /** Stops after this many steps of this invocation (tests kill a run on purpose). */
  stopAfter?: number;
}

export interface PretrainProgress {
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  /** Non-padding target tokens per second over this invocation. */
  tokensPerSec: number;
}

export interface PretrainResult {
  modelDir: string;
  totalSteps: number;
  stepsRun: number;
  losses: { step: number; loss: number }[];
  params: number;
  tokensPerEpoch: number;
  corpusSha256: string;
  truncatedDocuments: number;
  resumedFrom: number;
}

export class PretrainError extends Error {
  override name = 'PretrainError';
}

const IGNORE = -100;

/** One packed row: tokens, next-token targets (−100 across document ends and padding), and each token's document. */
interface PackedRow {
  ids: number[];
  targets: number[];
  positions: number[];
  segments: number[];
}

/** Packs documents (already BOS…EOS) greedily into rows of `seqLen`, keeping corpus order. */
export function packDocuments(docs: readonly number[][], seqLen: number, padId: number): { rows: PackedRow[]; truncated: number } {
  const rows: PackedRow[] = [];
  let truncated = 0;
  let row: PackedRow = { ids: [], targets: [], positions: [], segments: [] };
  const flush = () => {
    if (!row.ids.length) return;
    while (row.ids.length < seqLen) {
      row.ids.push(padId);
      row.targets.push(IGNORE);
      row.positions.push(0);
      row.segments.push(-1);
    }
    rows.push(row);
    row = { ids: [], targets: [], positions: [], segments: [] };
  };
  docs.forEach((full, d) => {
    const doc = full.length > seqLen ? full.slice(0, seqLen) : full;
    if (doc.length < full.length) truncated++;
    if (row.ids.length + doc.length > seqLen) flush();
    doc.forEach((id, i) => {
      row.ids.push(id);
      row.targets.push(i + 1 < doc.length ? doc[i + 1] : IGNORE);
      row.positions.push(i);
      row.segments.push(d);
    });
  });
  flush();
  return { rows, truncated };
}

/** Feeds of one batch: ids, targets, RoPE per position (reset per document), block-diagonal causal mask. */
function batchFeeds(config: ModelConfig, rows: readonly PackedRow[]): Record<string, EngineTensor> {
  const b = rows.length;
  const t = rows[0].ids.length;
  const mask = new Float32Array(b * t * t).fill(-1e9);
  rows.forEach((row, r) => {
    for (let i = 0; i < t; i++) {
      // A token sees the earlier tokens of its own document only (padding sees itself so no row is empty).
      const seg = row.segments[i];
      for (let j = i - row.positions[i]; j <= i; j++) mask[(r * t + i) * t + j] = 0;
      if (seg === -1) mask[(r * t + i) * t + i] = 0;
    }
  });
  return {
    ids: hostTensor('int64', [b, t], rows.flatMap((r) => r.ids)),
    targets: hostTensor('int64', [b, t], rows.flatMap((r) => r.targets)),
    ...ropeRowFeeds(config, rows.map((r) => r.positions)),
    mask: hostTensor('float32', [b, 1, 1, t, t], mask),
  };
}

/** Rows of step `step`: each epoch visits every row once in an order drawn from (seed, epoch). */
function rowsForStep(rows: readonly PackedRow[], batchSize: number, seed: number, step: number, orders: Map<number, number[]>): PackedRow[] {
  const perEpoch = Math.ceil(rows.length / batchSize);
  const epoch = Math.floor(step / perEpoch);
  let order = orders.get(epoch);
  if (!order) {
    const rng = new Prng(seed * 1000 + epoch);
    order = rows.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    orders.clear();
    orders.set(epoch, order);
  }
  const start = (step % perEpoch) * batchSize;
  return order.slice(start, start + batchSize).map((i) => rows[i]);
}

/** HF config.json of the tiny Llama (tied embeddings, MHA). */
export function tinyLlamaConfig(shape: TinyModelShape, vocabSize: number, maxPositions: number, ids: { bos: number; eos: number; pad: number }): Record<string, unknown> {
  if (shape.hiddenSize % shape.heads !== 0) throw new PretrainError(`model: hidden size ${shape.hiddenSize} is not divisible by ${shape.heads} heads`);
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: vocabSize,
    hidden_size: shape.hiddenSize,
    intermediate_size: shape.intermediateSize,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.heads,
    head_dim: shape.hiddenSize / shape.heads,
    hidden_act: 'silu',
    max_position_embeddings: maxPositions,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: ids.bos,
    eos_token_id: ids.eos,
    pad_token_id: ids.pad,
    torch_dtype: 'float32',
  };
}

const CHECKPOINT_FILES = ['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'tokenizer.json', 'tokenizer_config.json'];

interface TrainerState {
  optimizerSteps: number;
  totalSteps: number;
  losses: { step: number; loss: number }[];
  /** What the run was started with; a resume with other settings is refused. */
  settings: Record<string, unknown>;
}

function toEngine(t: HostTensor): EngineTensor {
  return { dtype: 'float32', shape: [...t.shape], data: t.data };
}

/** Trains (or resumes) the tiny model; returns where the final HF checkpoint is. */
export async function pretrainTinyModel(o: PretrainOptions): Promise<PretrainResult> {
  const shape = o.model ?? DEFAULT_TINY_MODEL;
  for (const [k, v] of Object.entries({ lr: o.lr, batchSize: o.batchSize, seqLen: o.seqLen })) {
    if (!(v > 0) || !Number.isFinite(v)) throw new PretrainError(`${k} must be a positive number, got ${v}`);
  }
  for (const kind of o.kinds ?? []) {
    if (!PRETRAIN_KINDS.includes(kind)) throw new PretrainError(`unknown corpus kind '${kind}' (kinds: ${PRETRAIN_KINDS.join(', ')})`);
  }
  const worldDir = path.join(o.out, 'world');
  const ckptDir = path.join(o.out, 'checkpoint');
  const initDir = o.init === undefined ? undefined : path.resolve(o.init);
  if (initDir && !existsSync(path.join(initDir, 'model.safetensors'))) throw new PretrainError(`--init: ${initDir} holds no model.safetensors`);
  // The init's weights are pinned by hash, so a resume against a changed folder is refused.
  const init = initDir ? { dir: initDir, sha256: createHash('sha256').update(readFileSync(path.join(initDir, 'model.safetensors'))).digest('hex') } : null;
  const settings = { init, worldSeed: o.worldSeed, worldOverrides: o.worldOverrides ?? {}, model: shape, lr: o.lr, warmup: o.warmup ?? 0, weightDecay: o.weightDecay ?? 0.01, batchSize: o.batchSize, seqLen: o.seqLen, seed: o.seed, steps: o.steps ?? null, epochs: o.epochs ?? null, ...(o.kinds ? { kinds: [...o.kinds] } : {}) };

  let state: TrainerState | null = null;
  if (o.resume) {
    const statePath = path.join(ckptDir, 'trainer_state.json');
    if (!existsSync(statePath)) throw new PretrainError(`--resume: ${statePath} not found (no checkpoint to resume from)`);
    state = JSON.parse(readFileSync(statePath, 'utf8')) as TrainerState;
    const was = JSON.stringify(state.settings);
    if (was !== JSON.stringify(settings)) throw new PretrainError(`--resume: settings differ from the checkpoint's\n  checkpoint: ${was}\n  now:        ${JSON.stringify(settings)}`);
  } else if (existsSync(path.join(ckptDir, 'trainer_state.json'))) {
    throw new PretrainError(`${ckptDir} already holds a checkpoint: pass --resume to continue it or choose another --out`);
  }

  // The world (and its tokenizer) is regenerated deterministically; its manifest pins the corpus sha256.
  const world = generateWorld(o.worldSeed, o.worldOverrides);
  const manifest = writeWorldFiles(world, worldDir, 'seal pretrain');
  // Continued pretraining keeps the init's token ids: the world's own tokenizer numbers its words by frequency in this corpus.
  const tokenizerDir = initDir ?? worldDir;
  const tokenizer = loadTokenizer(tokenizerDir);
  const docs = pretrainingCorpus(world).filter((d) => !o.kinds || o.kinds.includes(d.kind)).map((d) => tokenizer.encode(d.text, { addSpecialTokens: true }).concat(tokenizer.eosId!));
  if (docs.length === 0) throw new PretrainError(`the corpus has no documents of kinds ${o.kinds!.join(', ')} under this world config`);
  const padId = tokenizer.padId ?? 0;
  const { rows, truncated } = packDocuments(docs, o.seqLen, padId);
  const tokensPerEpoch = docs.reduce((n, d) => n + Math.min(d.length, o.seqLen), 0);
  const perEpoch = Math.ceil(rows.length / o.batchSize);
  const totalSteps = o.steps ?? Math.round((o.epochs ?? 1) * perEpoch);

  const hfConfig = initDir
    ? readInitConfig(initDir)
    : tinyLlamaConfig(shape, tokenizer.size, o.seqLen, { bos: tokenizer.bosId!, eos: tokenizer.eosId!, pad: padId });
  const config = parseConfig(hfConfig, initDir ? `${initDir}/config.json` : 'tiny model config');
  if (initDir && (config.vocabSize !== tokenizer.size || config.maxPositionEmbeddings < o.seqLen)) {
    throw new PretrainError(`--init: ${initDir} has vocab ${config.vocabSize} and ${config.maxPositionEmbeddings} positions; its tokenizer has ${tokenizer.size} tokens and --seq-len is ${o.seqLen}`);
  }
  const params = state ? loadCheckpoint(ckptDir).params : initDir ? loadCheckpoint(initDir).params : randomCheckpoint(config, o.seed).params;
  const paramCount = [...params.values()].reduce((n, t) => n + t.data.length, 0);

  const runtime: Runtime = createRuntime({ intraOpThreads: o.intraOpThreads ?? 2 });
  try {
    const model = new Llama(config, null);
    const loss = crossEntropy(model.sequenceLogits(), input('targets', ['B', 'T'], 'int64'), { ignoreIndex: IGNORE });
    const trainable = Object.fromEntries(model.baseInputs());
    const init = Object.fromEntries(Object.keys(trainable).map((n) => [n, toEngine(params.get(n)!)]));
    const resume = state ? { state: Object.fromEntries([...readAll(SafetensorsFile.open(path.join(ckptDir, 'optimizer.safetensors')))].map(([n, t]) => [n, toEngine(t)])), optimizerSteps: state.optimizerSteps } : undefined;
    const trainer = await createTrainer(
      runtime,
      { loss, params: trainable, optimizer: adamw({ weightDecay: settings.weightDecay }), maxGradNorm: 1 },
      init,
      cosineSchedule({ lr: o.lr, warmupSteps: settings.warmup, totalSteps, minLr: o.lr / 10 }),
      resume,
    );
    const losses = state?.losses ?? [];
    const startStep = state?.optimizerSteps ?? 0;
    const every = o.checkpointEvery ?? 200;
    const orders = new Map<number, number[]>();
    const started = performance.now();
    let tokens = 0;
    let stepsRun = 0;

    const writeCheckpoint = (step: number) => {
      const current = new Map(Object.entries(trainer.params()).map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }]));
      const optimizer = trainer.optimizerState();
      writeDirAtomically(ckptDir, CHECKPOINT_FILES, (tmp) => {
        // Weights in F32 so a resumed run continues bit-identically.
        writeFileSync(path.join(tmp, 'config.json'), `${JSON.stringify(hfConfig, null, 2)}\n`);
        writeSafetensors(path.join(tmp, 'model.safetensors'), toHfTensors(config, current), { metadata: { format: 'pt' } });
        for (const f of ['tokenizer.json', 'tokenizer_config.json']) writeFileSync(path.join(tmp, f), readFileSync(path.join(tokenizerDir, f)));
        writeSafetensors(path.join(tmp, 'optimizer.safetensors'), Object.entries(optimizer).map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }]));
        const s: TrainerState = { optimizerSteps: step, totalSteps, losses, settings };
        writeFileSync(path.join(tmp, 'trainer_state.json'), `${JSON.stringify(s)}\n`);
      });
    };

    try {
      for (let step = startStep; step < totalSteps; step++) {
        if (o.stopAfter !== undefined && stepsRun >= o.stopAfter) break;
        const batch = rowsForStep(rows, o.batchSize, o.seed, step, orders);
        const result = await trainer.step(batchFeeds(config, batch));
        if (!result.ok) throw new PretrainError(`step ${step + 1}: ${result.reason} (loss ${result.loss}); resume from the last checkpoint with a lower --lr`);
        stepsRun++;
        tokens += batch.reduce((n, r) => n + r.targets.filter((x) => x !== IGNORE).length, 0);
        losses.push({ step: step + 1, loss: result.loss });
        o.onStep?.({ step: step + 1, totalSteps, loss: result.loss, lr: result.lr, tokensPerSec: tokens / ((performance.now() - started) / 1000) });
        if ((step + 1) % every === 0 && step + 1 < totalSteps) writeCheckpoint(step + 1);
      }
      writeCheckpoint(startStep + stepsRun);
    } finally {
      await trainer.release();
    }
    const modelDir = path.join(o.out, 'model');
    if (startStep + stepsRun >= totalSteps) {
      mkdirSync(o.out, { recursive: true });
      const final = loadCheckpoint(ckptDir);
      saveCheckpoint(modelDir, config, final.params, { tokenizerFrom: tokenizerDir });
    }
    return { modelDir, totalSteps, stepsRun, losses, params: paramCount, tokensPerEpoch, corpusSha256: manifest.files['pretrain.jsonl']?.sha256 ?? '', truncatedDocuments: truncated, resumedFrom: startStep };
  } finally {
    await runtime.release();
  }
}

/** The init folder's HF config.json, with errors that name the file. */
function readInitConfig(initDir: string): Record<string, unknown> {
  const file = path.join(initDir, 'config.json');
  if (!existsSync(file)) throw new PretrainError(`--init: ${file} not found`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new PretrainError(`--init: ${file} is not valid JSON (${(e as Error).message})`);
  }
}

/** Loads the trained model for a quick check (tests, the CLI's summary). */
export function loadPretrained(dir: string, intraOpThreads = 1): LanguageModel {
  return LanguageModel.load(dir, { intraOpThreads });
}
