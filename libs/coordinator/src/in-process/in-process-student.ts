/**
 * @file The Student role on libs/model in this process: for each job, LoRA-train on the self-edit's
 * sequences (reference §2.2–2.3), answer the passage's questions closed-book greedily (§2.4), grade,
 * and report the sha256 of the adapter trained and of the adapter actually used for scoring.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createRuntime, type Runtime } from '@seal/engine';
import { generate, IGNORE_INDEX, initLoraAdapter, LanguageModel, trainLora, type LoraAdapter, type SftExample } from '@seal/model';
import { buildTrainSequences, createMatchGrader, questionPrompt, type Grader } from '@seal/tasks';
import { SealError, throwIfAborted } from '../errors';
import type { CallOptions, CheckpointChunk, CheckpointRef, EditFailure, EvaluateJob, EvaluateResult, KnowledgeContext, QuestionResult, Student, StudentInfo } from '../roles';
import { deriveSeed } from '../seeds';
import { ModelStore } from './model-store';

export interface InProcessStudentOptions {
  /** the model family's base checkpoint directory (config.json, model.safetensors, tokenizer.json). */
  modelDir: string;
  /** where pushed checkpoints are kept. */
  storeDir: string;
  studentId?: string;
  /** evaluations at once (default 1: two CPU cores are busy enough with one). */
  capacity?: number;
  grader?: Grader;
  runtime?: Runtime;
}

/** sha256 over an adapter's tensors as they are fed to a graph (sorted names, raw float32 bytes, scale). */
export function adapterFeedsSha256(lm: LanguageModel, adapter: LoraAdapter): string {
  const feeds = lm.adapterFeeds(adapter);
  const hash = createHash('sha256');
  for (const name of Object.keys(feeds).sort()) {
    const data = feeds[name]!.data as Float32Array;
    hash.update(name).update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest('hex');
}

export class InProcessStudent implements Student {
  readonly store: ModelStore;
  private readonly options: InProcessStudentOptions;
  private readonly runtime: Runtime;
  private readonly models = new Map<string, LanguageModel>();
  private readonly inUse = new Map<string, number>();
  /** accuracy before any update, per (checkpoint sha256, passage id): the reference re-measures it per request. */
  private readonly baselines = new Map<string, Promise<boolean[]>>();
  private readonly grader: Grader;

  constructor(options: InProcessStudentOptions) {
    this.options = options;
    this.store = new ModelStore(options.modelDir, options.storeDir);
    this.runtime = options.runtime ?? createRuntime({ intraOpThreads: 1 });
    this.grader = options.grader ?? createMatchGrader('contains');
  }

  async info(opts?: CallOptions): Promise<StudentInfo> {
    throwIfAborted(opts?.signal);
    const lm = this.model(this.store.base);
    return {
      studentId: this.options.studentId ?? 'in-process-student',
      model: lm.config.architecture,
      capacity: this.options.capacity ?? 1,
      baseCheckpoint: this.store.base,
      checkpoints: this.store.refs(),
      maxContextTokens: lm.config.maxPositionEmbeddings,
    };
  }

  async loadCheckpoint(chunks: AsyncIterable<CheckpointChunk>, opts?: CallOptions): Promise<CheckpointRef> {
    return this.store.receive(chunks, opts);
  }

  async evaluate(job: EvaluateJob, opts?: CallOptions): Promise<EvaluateResult> {
    return this.using(job.baseCheckpoint, (lm) => this.evaluateOn(lm, job, opts));
  }

  private async evaluateOn(lm: LanguageModel, job: EvaluateJob, opts?: CallOptions): Promise<EvaluateResult> {
    const started = performance.now();
    const context = job.eval.context;
    if (context.kind !== 'knowledge') throw new SealError('unimplemented', 'the in-process student scores knowledge contexts; few-shot arrives later');
    const tokenizer = lm.tokenizer;
    if (!tokenizer) throw new SealError('failed_precondition', `${lm.dir}: the student needs tokenizer.json`);

    const before = await this.baseline(lm, job.baseCheckpoint, context, job.eval.maxAnswerTokens);
    throwIfAborted(opts?.signal);
    const result = (failure: EditFailure, after: number[] = before.map((b) => (b ? 1 : 0)), loss = 0, sha = ''): EvaluateResult => ({
      idempotencyKey: job.idempotencyKey,
      baseCheckpointSha256: job.baseCheckpoint.sha256,
      scoreBefore: mean(before.map((b) => (b ? 1 : 0))),
      scoreAfter: mean(after),
      perQuestion: perQuestion(context, before, after),
      trainLoss: loss,
      adapterSha256: sha,
      evaluatedAdapterSha256: sha,
      timings: { queueMs: 0, sftMs: 0, evalMs: 0, totalMs: performance.now() - started },
      failure,
    });

    // 1. The self-edit becomes training sequences (reference §2.2), tokenized with EOS.
    let texts = buildTrainSequences(context, job.selfEdit.completion, { splitNewlines: job.eval.splitNewlines });
    if (!job.eval.appendPassage && texts.length > 1) texts = texts.slice(0, -1);
    const limit = lm.config.maxPositionEmbeddings;
    const examples: SftExample[] = texts.map((text) => {
      const ids = tokenizer.encode(text);
      const withEos = tokenizer.eosId === null ? ids : [...ids, tokenizer.eosId];
      return { inputIds: withEos, labels: withEos };
    });
    const longest = Math.max(...examples.map((e) => e.inputIds.length));
    if (longest > limit) return result({ reason: 'too_long', message: `a training sequence has ${longest} tokens; the model's context is ${limit}` });

    // 2. eval_times repeats: fresh adapter, train, answer, grade.
    const afterCorrect = context.questions.map(() => 0);
    let lossSum = 0;
    let trainedSha = '';
    let scoredSha = '';
    let lastAnswers: string[] = [];
    let sftMs = 0;
    let evalMs = 0;
    for (let repeat = 0; repeat < job.repeats; repeat++) {
      throwIfAborted(opts?.signal);
      const t0 = performance.now();
      const fresh = initLoraAdapter(lm.config, { r: job.sft.rank, alpha: job.sft.alpha, targetModules: job.sft.targets }, deriveSeed(job.seed, 'adapter', repeat));
      const steps = job.sft.epochs * Math.ceil(examples.length / job.sft.batchSize);
      const { trained, losses } = await trainLora(lm, fresh, examples.map(maskedFor(job.sft.lossMask)), {
        steps,
        lr: job.sft.lr,
        schedule: job.sft.schedule,
        warmup: job.sft.warmup,
        batchSize: job.sft.batchSize,
      });
      sftMs += performance.now() - t0;
      const finalLoss = losses.at(-1) ?? Number.NaN;
      if (!Number.isFinite(finalLoss)) return result({ reason: 'nan_loss', message: `inner-loop loss became ${finalLoss} (repeat ${repeat})` }, undefined, Number.NaN);
      lossSum += finalLoss;
      trainedSha = adapterFeedsSha256(lm, trained);
      throwIfAborted(opts?.signal);
      const t1 = performance.now();
      const scoring = trained;
      scoredSha = adapterFeedsSha256(lm, scoring);
      lastAnswers = await this.answer(lm, context, job.eval.maxAnswerTokens, scoring);
      const verdicts = await this.grader.grade(context.questions.map((q, i) => ({ question: q.question, gold: q.answer, prediction: lastAnswers[i]! })), { signal: opts?.signal });
      verdicts.forEach((ok, i) => (afterCorrect[i]! += ok ? 1 : 0));
      evalMs += performance.now() - t1;
    }
    const after = afterCorrect.map((c) => c / job.repeats);
    return {
      idempotencyKey: job.idempotencyKey,
      baseCheckpointSha256: job.baseCheckpoint.sha256,
      scoreBefore: mean(before.map((b) => (b ? 1 : 0))),
      scoreAfter: mean(after),
      perQuestion: perQuestion(context, before, after, lastAnswers),
      trainLoss: lossSum / job.repeats,
      adapterSha256: trainedSha,
      evaluatedAdapterSha256: scoredSha,
      timings: { queueMs: 0, sftMs, evalMs, totalMs: performance.now() - started },
    };
  }

  async release(): Promise<void> {
    for (const lm of this.models.values()) await lm.release();
    this.models.clear();
    if (!this.options.runtime) await this.runtime.release();
  }

  // ----- internals -----------------------------------------------------------------------------

  /** One loaded model per checkpoint; idle older ones are released so a long run holds about two. */
  private model(ref: CheckpointRef): LanguageModel {
    const dir = this.store.dirOf(ref);
    let lm = this.models.get(ref.id);
    if (!lm) {
      lm = LanguageModel.load(dir, { runtime: this.runtime });
      this.models.set(ref.id, lm);
      for (const [id, old] of this.models) {
        if (this.models.size <= 2) break;
        // NOTE: never release a model an evaluation still uses (capacity > 1 across a checkpoint change)
        if (id === ref.id || (this.inUse.get(id) ?? 0) > 0) continue;
        this.models.delete(id);
        void old.release();
      }
    }
    return lm;
  }

  private async using<T>(ref: CheckpointRef, fn: (lm: LanguageModel) => Promise<T>): Promise<T> {
    const lm = this.model(ref);
    this.inUse.set(ref.id, (this.inUse.get(ref.id) ?? 0) + 1);
    try {
      return await fn(lm);
    } finally {
      this.inUse.set(ref.id, this.inUse.get(ref.id)! - 1);
    }
  }

  private baseline(lm: LanguageModel, ref: CheckpointRef, context: KnowledgeContext, maxAnswerTokens: number): Promise<boolean[]> {
    const key = `${ref.sha256}|${context.id}`;
    let cached = this.baselines.get(key);
    if (!cached) {
      cached = this.answer(lm, context, maxAnswerTokens, null).then((answers) =>
        this.grader.grade(context.questions.map((q, i) => ({ question: q.question, gold: q.answer, prediction: answers[i]! }))),
      );
      cached.catch(() => this.baselines.delete(key));
      this.baselines.set(key, cached);
    }
    return cached;
  }

  /** Closed-book greedy answers (reference §2.4: temperature 0, stop at EOS or a newline pair). */
  private async answer(lm: LanguageModel, context: KnowledgeContext, maxNewTokens: number, adapter: LoraAdapter | null): Promise<string[]> {
    const prompts = context.questions.map((q) => lm.tokenizer!.encode(questionPrompt(context.title, q.question)));
    const room = lm.config.maxPositionEmbeddings - Math.max(...prompts.map((p) => p.length));
    if (room < 1) throw new SealError('invalid_argument', `passage ${context.id}: a question prompt does not fit the model's context of ${lm.config.maxPositionEmbeddings} tokens`);
    const out = await generate(lm, prompts, { temperature: 0, maxNewTokens: Math.min(maxNewTokens, room), adapter, stopStrings: ['\n\n'] });
    return out.texts.map((t) => t.trim());
  }
}

function maskedFor(lossMask: 'all' | 'completion'): (e: SftExample) => SftExample {
  // The inner loop's sequences have no prompt part; 'completion' still drops the EOS-only tail from the loss.
  return (e) => (lossMask === 'all' ? e : { inputIds: e.inputIds, labels: e.labels.map((l, i) => (i === e.labels.length - 1 ? IGNORE_INDEX : l)) });
}

function perQuestion(context: KnowledgeContext, before: boolean[], after: number[], answers: string[] = []): QuestionResult[] {
  return context.questions.map((q, i) => ({ questionId: q.id, correctBefore: before[i]!, correctAfter: after[i]!, ...(answers[i] !== undefined ? { answerAfter: answers[i] } : {}) }));
}

const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
