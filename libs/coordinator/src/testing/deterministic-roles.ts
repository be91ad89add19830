/**
 * @file Deterministic Teacher and Student implementations for orchestration tests (coordinator,
 * rpc, e2e): seeded pseudo-text and pseudo-scores, real checkpoint byte streams and sha256s, and
 * fault hooks. They test the loop's bookkeeping, not the ML; the real roles come from libs/model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { failedPrecondition, invalidArgument, notFound, SealError, throwIfAborted } from '../errors';
import type {
  CallOptions,
  CheckpointChunk,
  CheckpointRef,
  Context,
  EvaluateJob,
  EvaluateResult,
  GenerateSelfEditsRequest,
  KnowledgeContext,
  SelfEdit,
  Student,
  StudentInfo,
  Teacher,
  TeacherInfo,
  UpdateRequest,
} from '../roles';
import { selfEditId } from '../roles';
import { deriveSeed, selfEditSeed, sha256Hex } from '../seeds';

/** mulberry32: a tiny seeded PRNG, enough to make pseudo-text reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` small knowledge passages with 4 questions each, ids `p000`…; stable across calls. */
export function tinyContexts(n: number, prefix = 'p'): KnowledgeContext[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `${prefix}${String(i).padStart(3, '0')}`;
    const rng = prng(deriveSeed(7, id));
    const city = ['Varn', 'Osk', 'Telba', 'Miro'][Math.floor(rng() * 4)]!;
    const country = ['Ardenia', 'Belmar', 'Cotra', 'Duvia'][Math.floor(rng() * 4)]!;
    return {
      kind: 'knowledge',
      id,
      title: `Person ${id}`,
      context: `Person ${id} was born in ${city} and works at Guild-${i}.`,
      questions: [
        { id: `${id}-q0`, question: `Where was Person ${id} born?`, answer: city, kind: 'direct' },
        { id: `${id}-q1`, question: `Which country is Person ${id} from?`, answer: country, kind: 'implied' },
        { id: `${id}-q2`, question: `Where does Person ${id} work?`, answer: `Guild-${i}`, kind: 'direct' },
        { id: `${id}-q3`, question: `Which industry does Person ${id} work in?`, answer: `industry-${i % 3}`, kind: 'implied' },
      ],
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Checkpoints as real bytes
// ---------------------------------------------------------------------------------------------

/** A pretend checkpoint: its JSON payload padded with newlines to `size` bytes, so a loader can read it back. */
export function checkpointBytes(content: string, quality = 0.35, size = 4096): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ content, quality }));
  if (json.byteLength > size) throw new Error(`checkpoint payload of ${json.byteLength} bytes exceeds ${size}`);
  const out = new Uint8Array(size).fill(10);
  out.set(json);
  return out;
}

function qualityOf(bytes: Uint8Array): number {
  return (JSON.parse(new TextDecoder().decode(bytes).trim()) as { quality: number }).quality;
}

export function refOf(id: string, bytes: Uint8Array): CheckpointRef {
  return { id, sha256: sha256Hex(bytes), size: bytes.byteLength };
}

async function* chunksOf(ref: CheckpointRef, bytes: Uint8Array, chunkBytes: number): AsyncIterable<CheckpointChunk> {
  for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) {
    yield { checkpoint: ref, offset, data: bytes.subarray(offset, Math.min(bytes.byteLength, offset + chunkBytes)) };
  }
}

// ---------------------------------------------------------------------------------------------
// Teacher
// ---------------------------------------------------------------------------------------------

export interface DeterministicTeacherOptions {
  /** probability a generated edit states each answer, for the base checkpoint (default 0.35). */
  baseQuality?: number;
  /** whether edits sometimes come out empty / garbage / NaN-inducing / too long (default true). */
  pathologies?: boolean;
  chunkBytes?: number;
  /** called before each yielded self-edit; throw to simulate a failing stream. */
  beforeYield?: (edit: SelfEdit) => void | Promise<void>;
}

export class DeterministicTeacher implements Teacher {
  readonly checkpoints = new Map<string, { ref: CheckpointRef; bytes: Uint8Array; quality: number }>();
  readonly updates = new Map<string, CheckpointRef>();
  updateCalls = 0;
  private readonly base: CheckpointRef;
  private readonly options: DeterministicTeacherOptions;

  constructor(options: DeterministicTeacherOptions = {}) {
    this.options = options;
    const quality = options.baseQuality ?? 0.35;
    const bytes = checkpointBytes('teacher-base', quality);
    this.base = refOf('base', bytes);
    this.checkpoints.set('base', { ref: this.base, bytes, quality });
  }

  async info(opts?: CallOptions): Promise<TeacherInfo> {
    throwIfAborted(opts?.signal);
    return { model: 'deterministic-teacher', baseCheckpoint: this.base, checkpoints: [...this.checkpoints.values()].map((c) => c.ref) };
  }

  async *generateSelfEdits(request: GenerateSelfEditsRequest, opts?: CallOptions): AsyncIterable<SelfEdit> {
    const checkpoint = this.checkpoints.get(request.checkpoint.id);
    if (!checkpoint) throw failedPrecondition(`unknown teacher checkpoint ${request.checkpoint.id}`, { checkpointId: request.checkpoint.id });
    for (const context of request.contexts) {
      for (let index = 0; index < request.count; index++) {
        throwIfAborted(opts?.signal);
        const seed = selfEditSeed(request.seed, context.id, index);
        const completion = this.write(context, seed, checkpoint.quality);
        const edit: SelfEdit = {
          id: selfEditId(request.checkpoint.id, context.id, index),
          passageId: context.id,
          index,
          promptStyle: request.promptStyle,
          prompt: `Passage:\n${context.kind === 'knowledge' ? `${context.title}\n${context.context}` : context.id}\n\nImplications:\n`,
          completion,
          seed,
          tokenCount: completion.split(/\s+/).filter(Boolean).length,
          checkpointId: request.checkpoint.id,
        };
        await this.options.beforeYield?.(edit);
        yield edit;
      }
    }
  }

  async update(request: UpdateRequest, opts?: CallOptions): Promise<CheckpointRef> {
    throwIfAborted(opts?.signal);
    const known = this.updates.get(request.idempotencyKey);
    if (known) return known;
    const base = this.checkpoints.get(request.baseCheckpoint.id);
    if (!base) throw failedPrecondition(`unknown teacher checkpoint ${request.baseCheckpoint.id}`);
    if (request.pairs.length === 0) throw invalidArgument('update: pairs is empty');
    this.updateCalls += 1;
    const content = sha256Hex(JSON.stringify({ base: base.ref.sha256, pairs: request.pairs, seed: request.seed, lr: request.sft.lr }));
    // "Learning": the policy states answers more often the more kept edits did.
    const stated = request.pairs.filter((p) => p.completion.includes('answer')).length / request.pairs.length;
    const quality = Math.min(0.95, base.quality + 0.25 * stated);
    const bytes = checkpointBytes(content, quality);
    const ref = refOf(`ckpt-${content.slice(0, 12)}`, bytes);
    this.checkpoints.set(ref.id, { ref, bytes, quality });
    this.updates.set(request.idempotencyKey, ref);
    return ref;
  }

  async *getCheckpoint(checkpointId: string, opts?: CallOptions): AsyncIterable<CheckpointChunk> {
    const checkpoint = this.checkpoints.get(checkpointId);
    if (!checkpoint) throw notFound(`unknown checkpoint ${checkpointId}`);
    for await (const chunk of chunksOf(checkpoint.ref, checkpoint.bytes, this.options.chunkBytes ?? 1000)) {
      throwIfAborted(opts?.signal);
      yield chunk;
    }
  }

  async loadCheckpoint(chunks: AsyncIterable<CheckpointChunk>, opts?: CallOptions): Promise<CheckpointRef> {
    const { ref, bytes } = await receive(chunks, opts);
    this.checkpoints.set(ref.id, { ref, bytes, quality: qualityOf(bytes) });
    return ref;
  }

  /** Seeded pseudo-implications: each answer stated with probability `quality`, plus filler. */
  private write(context: Context, seed: number, quality: number): string {
    const rng = prng(seed);
    if (this.options.pathologies ?? true) {
      const roll = rng();
      if (roll < 0.04) return '';
      if (roll < 0.07) return '### *** ---';
      if (roll < 0.1) return 'NaN! the update diverges';
      if (roll < 0.12) return Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    }
    if (context.kind !== 'knowledge') return `augment: ${rng() < 0.5 ? 'rotate' : 'flip'}`;
    const lines = context.questions.filter(() => rng() < quality).map((q) => `The answer to "${q.question}" is ${q.answer}.`);
    lines.push(`${context.title} is mentioned in the passage.`);
    return lines.join('\n');
  }
}

// ---------------------------------------------------------------------------------------------
// Student
// ---------------------------------------------------------------------------------------------

export interface DeterministicStudentOptions {
  studentId?: string;
  capacity?: number;
  maxContextTokens?: number;
  /** checkpoints held from the start; others must be pushed (default: none). */
  holds?: { ref: CheckpointRef; bytes: Uint8Array }[];
  /** own base for 'separated' mode (default: a fixed "student-base" checkpoint it holds). */
  baseCheckpoint?: { ref: CheckpointRef; bytes: Uint8Array };
  /** simulated work per evaluation, so concurrency is real (default 1 ms). */
  workMs?: number;
  /** runs at the start of each call (evaluate/info/loadCheckpoint); throw to inject faults. */
  fault?: (call: 'evaluate' | 'info' | 'loadCheckpoint', student: DeterministicStudent, job?: EvaluateJob) => void | Promise<void>;
  /** report an evaluated adapter different from the trained one (the "adapter never applied" bug). */
  breakAdapter?: boolean;
  /** shared-storage root for loadSharedCheckpoint; without it such loads answer failed_precondition. */
  sharedRoot?: string;
}

export class DeterministicStudent implements Student {
  readonly id: string;
  readonly held = new Map<string, CheckpointRef>();
  readonly options: DeterministicStudentOptions;
  evaluateCalls = 0;
  streamedLoads = 0;
  inFlight = 0;
  maxInFlight = 0;
  readonly base: { ref: CheckpointRef; bytes: Uint8Array };

  constructor(options: DeterministicStudentOptions = {}) {
    this.options = options;
    this.id = options.studentId ?? 'student';
    const bytes = checkpointBytes('student-base', 0);
    this.base = options.baseCheckpoint ?? { ref: refOf('student-base', bytes), bytes };
    this.held.set(this.base.ref.id, this.base.ref);
    for (const h of options.holds ?? []) this.held.set(h.ref.id, h.ref);
  }

  /** Forgets every pushed checkpoint, like a restarted process. */
  restart(): void {
    this.held.clear();
    this.held.set(this.base.ref.id, this.base.ref);
  }

  async info(opts?: CallOptions): Promise<StudentInfo> {
    throwIfAborted(opts?.signal);
    await this.options.fault?.('info', this);
    return {
      studentId: this.id,
      model: 'deterministic-student',
      capacity: this.options.capacity ?? 2,
      baseCheckpoint: this.base.ref,
      checkpoints: [...this.held.values()],
      maxContextTokens: this.options.maxContextTokens ?? 200,
    };
  }

  async evaluate(job: EvaluateJob, opts?: CallOptions): Promise<EvaluateResult> {
    this.evaluateCalls += 1;
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      throwIfAborted(opts?.signal);
      await this.options.fault?.('evaluate', this, job);
      const held = this.held.get(job.baseCheckpoint.id);
      if (!held || held.sha256 !== job.baseCheckpoint.sha256) {
        throw failedPrecondition(`student ${this.id} does not hold checkpoint ${job.baseCheckpoint.id}`, { checkpointId: job.baseCheckpoint.id });
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.workMs ?? 1));
      throwIfAborted(opts?.signal);
      return scoreDeterministically(job, this.options.breakAdapter ?? false);
    } finally {
      this.inFlight -= 1;
    }
  }

  async loadCheckpoint(chunks: AsyncIterable<CheckpointChunk>, opts?: CallOptions): Promise<CheckpointRef> {
    await this.options.fault?.('loadCheckpoint', this);
    const { ref } = await receive(chunks, opts);
    this.held.set(ref.id, ref);
    this.streamedLoads += 1;
    return ref;
  }

  async loadSharedCheckpoint(checkpoint: CheckpointRef, sharedPath: string, opts?: CallOptions): Promise<CheckpointRef> {
    throwIfAborted(opts?.signal);
    const ref = readShared(this.options.sharedRoot, checkpoint, sharedPath);
    this.held.set(ref.id, ref);
    return ref;
  }
}

/** Reads `sharedPath` under `root` (refusing escapes) and checks it against `ref`, like a real student. */
export function readShared(root: string | undefined, ref: CheckpointRef, sharedPath: string): CheckpointRef {
  if (!root) throw failedPrecondition('this student has no shared-storage root');
  const full = resolve(root, sharedPath);
  if (relative(resolve(root), full).startsWith('..') || isAbsolute(sharedPath)) throw invalidArgument(`shared path ${sharedPath} escapes the shared-storage root`);
  if (!existsSync(full)) throw notFound(`shared path ${sharedPath} does not exist under the shared-storage root`);
  const bytes = readFileSync(full);
  if (bytes.byteLength !== ref.size || sha256Hex(bytes) !== ref.sha256) throw invalidArgument(`shared checkpoint ${sharedPath} does not match ${ref.id}`);
  return ref;
}

/** Collects a checkpoint stream and checks its size and sha256 against the ref it names. */
async function receive(chunks: AsyncIterable<CheckpointChunk>, opts?: CallOptions): Promise<{ ref: CheckpointRef; bytes: Uint8Array }> {
  let ref: CheckpointRef | undefined;
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) {
    throwIfAborted(opts?.signal);
    ref ??= chunk.checkpoint;
    parts.push(chunk.data);
  }
  if (!ref) throw invalidArgument('loadCheckpoint: empty stream');
  const bytes = new Uint8Array(Buffer.concat(parts));
  const sha256 = sha256Hex(bytes);
  if (bytes.byteLength !== ref.size || sha256 !== ref.sha256) {
    throw invalidArgument(`loadCheckpoint ${ref.id}: got ${bytes.byteLength} bytes with sha256 ${sha256}, expected ${ref.size} / ${ref.sha256}`);
  }
  return { ref, bytes };
}

/**
 * Pseudo-scores: before the update a question is right with a seeded 25% chance per (checkpoint,
 * question); after it, right if the edit states the answer, else with a seeded 30% chance per repeat.
 */
function scoreDeterministically(job: EvaluateJob, breakAdapter: boolean): EvaluateResult {
  const context = job.eval.context;
  if (context.kind !== 'knowledge') throw new SealError('unimplemented', 'the deterministic student scores knowledge contexts only');
  const completion = job.selfEdit.completion;
  const adapterSha256 = sha256Hex(`${job.baseCheckpoint.sha256}\n${completion}\n${job.seed}`);
  const nan = completion.includes('NaN!');
  const perQuestion = context.questions.map((q) => {
    const correctBefore = prng(deriveSeed(0, job.baseCheckpoint.sha256, q.id))() < 0.25;
    let correct = 0;
    for (let r = 0; r < job.repeats; r++) {
      if (completion.includes(`is ${q.answer}.`) || prng(deriveSeed(job.seed, q.id, r))() < 0.3) correct += 1;
    }
    return { questionId: q.id, correctBefore, correctAfter: correct / job.repeats, answerAfter: q.answer };
  });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    idempotencyKey: job.idempotencyKey,
    baseCheckpointSha256: job.baseCheckpoint.sha256,
    scoreBefore: mean(perQuestion.map((p) => (p.correctBefore ? 1 : 0))),
    scoreAfter: nan ? Number.NaN : mean(perQuestion.map((p) => p.correctAfter)),
    perQuestion,
    trainLoss: nan ? Number.NaN : 0.5 / (1 + completion.length / 100),
    adapterSha256,
    evaluatedAdapterSha256: breakAdapter ? sha256Hex('some other adapter') : adapterSha256,
    timings: { queueMs: 0, sftMs: 1, evalMs: 1, totalMs: 2 },
  };
}
