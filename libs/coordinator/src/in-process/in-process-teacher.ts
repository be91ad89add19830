/**
 * @file The Teacher role on libs/model in this process: self-edits sampled one per seed (so a
 * resumed run regenerates the same text), and the M-step — LoRA SFT on kept (prompt, completion)
 * pairs, loss on the completion (TRL's default), merged into a new checkpoint (reference §2.5).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRuntime, type Runtime } from '@seal/engine';
import { generate, IGNORE_INDEX, initLoraAdapter, LanguageModel, mergeAdapter, saveCheckpoint, trainLora, type HostTensor as ModelHostTensor, type SftExample } from '@seal/model';
import { isSelfEditStyle, selfEditPrompt } from '@seal/tasks';
import { invalidArgument, SealError, throwIfAborted } from '../errors';
import type { CallOptions, CheckpointChunk, CheckpointRef, GenerateSelfEditsRequest, SelfEdit, Teacher, TeacherInfo, UpdateRequest } from '../roles';
import { selfEditId } from '../roles';
import { selfEditSeed } from '../seeds';
import { ModelStore } from './model-store';

export interface InProcessTeacherOptions {
  /** the base checkpoint directory (config.json, model.safetensors, tokenizer.json). */
  modelDir: string;
  /** where M-step checkpoints (and restored ones) are kept, across restarts. */
  storeDir: string;
  runtime?: Runtime;
}

export class InProcessTeacher implements Teacher {
  readonly store: ModelStore;
  private readonly options: InProcessTeacherOptions;
  private readonly runtime: Runtime;
  private readonly models = new Map<string, LanguageModel>();
  private readonly updatesFile: string;

  constructor(options: InProcessTeacherOptions) {
    this.options = options;
    this.store = new ModelStore(options.modelDir, options.storeDir);
    this.runtime = options.runtime ?? createRuntime({ intraOpThreads: 1 });
    this.updatesFile = join(options.storeDir, 'updates.json');
  }

  async info(opts?: CallOptions): Promise<TeacherInfo> {
    throwIfAborted(opts?.signal);
    return { model: this.model(this.store.base).config.architecture, baseCheckpoint: this.store.base, checkpoints: this.store.refs() };
  }

  async *generateSelfEdits(request: GenerateSelfEditsRequest, opts?: CallOptions): AsyncIterable<SelfEdit> {
    const style = request.promptStyle;
    if (!isSelfEditStyle(style)) throw new SealError('unimplemented', `prompt style ${style} is not supported by the in-process teacher`);
    const lm = this.model(request.checkpoint);
    const tokenizer = lm.tokenizer;
    if (!tokenizer) throw new SealError('failed_precondition', `${lm.dir}: the teacher needs tokenizer.json`);
    for (const context of request.contexts) {
      if (context.kind !== 'knowledge') throw new SealError('unimplemented', 'the in-process teacher writes knowledge self-edits only');
      const prompt = selfEditPrompt(context, style);
      const ids = tokenizer.encode(prompt);
      const room = lm.config.maxPositionEmbeddings - ids.length;
      if (room < 1) throw invalidArgument(`passage ${context.id}: the self-edit prompt (${ids.length} tokens) fills the model's context`);
      for (let index = 0; index < request.count; index++) {
        throwIfAborted(opts?.signal);
        // One prompt per call: batch composition (padding) must not change what a seed samples.
        const seed = selfEditSeed(request.seed, context.id, index);
        const out = await generate(lm, [ids], {
          temperature: request.sampling.temperature,
          topP: request.sampling.topP,
          maxNewTokens: Math.min(request.sampling.maxNewTokens, room),
          seed,
        });
        yield {
          id: selfEditId(request.checkpoint.id, context.id, index),
          passageId: context.id,
          index,
          promptStyle: style,
          prompt,
          completion: out.texts[0]!.trim(),
          seed,
          tokenCount: out.tokens[0]!.length,
          checkpointId: request.checkpoint.id,
        };
      }
    }
  }

  async update(request: UpdateRequest, opts?: CallOptions): Promise<CheckpointRef> {
    const done = this.readUpdates()[request.idempotencyKey];
    if (done && this.store.has(done)) return done;
    if (!request.merge) throw invalidArgument('update.merge: the in-process teacher keeps checkpoints as merged weights; set mstep.merge true');
    if (request.pairs.length === 0) throw invalidArgument('update.pairs is empty');
    const lm = this.model(request.baseCheckpoint);
    const tokenizer = lm.tokenizer;
    if (!tokenizer) throw new SealError('failed_precondition', `${lm.dir}: the teacher needs tokenizer.json`);
    const eos = tokenizer.eosId === null ? [] : [tokenizer.eosId];
    const examples: SftExample[] = request.pairs.map((pair) => {
      const promptIds = tokenizer.encode(pair.prompt);
      const completionIds = [...tokenizer.encode(pair.completion, { addSpecialTokens: false }), ...eos];
      const promptLabels = request.sft.lossMask === 'completion' ? promptIds.map(() => IGNORE_INDEX) : promptIds;
      return { inputIds: [...promptIds, ...completionIds], labels: [...promptLabels, ...completionIds] };
    });
    const longest = Math.max(...examples.map((e) => e.inputIds.length));
    if (longest > lm.config.maxPositionEmbeddings) {
      throw invalidArgument(`update.pairs: a (prompt, completion) pair has ${longest} tokens; the model's context is ${lm.config.maxPositionEmbeddings}`);
    }
    throwIfAborted(opts?.signal);
    const adapter = initLoraAdapter(lm.config, { r: request.sft.rank, alpha: request.sft.alpha, targetModules: request.sft.targets }, request.seed);
    const { trained, losses } = await trainLora(lm, adapter, examples, {
      steps: request.sft.epochs * Math.ceil(examples.length / request.sft.batchSize),
      lr: request.sft.lr,
      schedule: request.sft.schedule,
      warmup: request.sft.warmup,
      batchSize: request.sft.batchSize,
    });
    if (!losses.every(Number.isFinite)) throw new SealError('internal', `M-step loss diverged (${losses.find((l) => !Number.isFinite(l))})`);
    throwIfAborted(opts?.signal);
    const staging = join(this.store.root, `.mstep-${process.pid}-${Date.now()}`);
    // NOTE: LanguageModel keeps its params as float32 engine tensors, which is what mergeAdapter reads.
    const params = lm.params as ReadonlyMap<string, ModelHostTensor>;
    saveCheckpoint(staging, lm.config, mergeAdapter(lm.config, params, trained), { tokenizerFrom: this.store.baseDir });
    const ref = this.store.adopt(staging, 'ckpt');
    this.writeUpdates({ ...this.readUpdates(), [request.idempotencyKey]: ref });
    return ref;
  }

  async *getCheckpoint(checkpointId: string, opts?: CallOptions): AsyncIterable<CheckpointChunk> {
    for await (const chunk of this.store.read(checkpointId)) {
      throwIfAborted(opts?.signal);
      yield chunk;
    }
  }

  async loadCheckpoint(chunks: AsyncIterable<CheckpointChunk>, opts?: CallOptions): Promise<CheckpointRef> {
    return this.store.receive(chunks, opts);
  }

  async release(): Promise<void> {
    for (const lm of this.models.values()) await lm.release();
    this.models.clear();
    if (!this.options.runtime) await this.runtime.release();
  }

  private model(ref: CheckpointRef): LanguageModel {
    const dir = this.store.dirOf(ref);
    let lm = this.models.get(ref.id);
    if (!lm) {
      // the policy moves forward each round: the previous checkpoint is not needed again
      for (const [id, old] of this.models) {
        void old.release();
        this.models.delete(id);
      }
      lm = LanguageModel.load(dir, { runtime: this.runtime });
      this.models.set(ref.id, lm);
    }
    return lm;
  }

  private readUpdates(): Record<string, CheckpointRef> {
    return existsSync(this.updatesFile) ? (JSON.parse(readFileSync(this.updatesFile, 'utf8')) as Record<string, CheckpointRef>) : {};
  }

  private writeUpdates(updates: Record<string, CheckpointRef>): void {
    writeFileSync(`${this.updatesFile}.tmp`, JSON.stringify(updates, null, 1));
    // rename is atomic: a crash leaves the old map or the new one, never half of it
    renameSync(`${this.updatesFile}.tmp`, this.updatesFile);
  }
}
