/**
 * @file The Teacher and Student roles and the domain values they exchange; in-process and gRPC
 * implementations (libs/rpc) share these exact semantics.
 */

// ---------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------

/**
 * Every role call takes these. `deadline` is an absolute time in ms since the epoch
 * (`Date.now()` clock) so it survives hops between processes unchanged; implementations stop
 * work and throw `deadline_exceeded` / `cancelled` (see errors.ts) when either fires.
 */
export interface CallOptions {
  signal?: AbortSignal;
  deadline?: number;
}

// ---------------------------------------------------------------------------------------------
// Contexts: what a self-edit is written about, and what it is checked against
// ---------------------------------------------------------------------------------------------

/** A question asked closed-book after the inner-loop update; `kind` lets reports split direct vs implied. */
export interface KnowledgeQuestion {
  id: string;
  question: string;
  answer: string;
  kind?: 'direct' | 'implied';
}

/** Knowledge incorporation (SQuAD format / tiny world): a passage and its questions. */
export interface KnowledgeContext {
  kind: 'knowledge';
  id: string;
  title: string;
  context: string;
  questions: KnowledgeQuestion[];
}

/** One input/output pair of a few-shot task (ARC grids are number[][]). */
export interface FewShotExample {
  input: number[][];
  output: number[][];
}

/** Few-shot abstraction (ARC format): demonstrations plus held-out test pairs. */
export interface FewShotContext {
  kind: 'fewshot';
  id: string;
  train: FewShotExample[];
  test: FewShotExample[];
}

export type Context = KnowledgeContext | FewShotContext;

/** Prompt templates from seal-reference §2.1 (knowledge) and §3.2 (few-shot configuration). */
export const PROMPT_STYLES = [
  'implications',
  'implications-long',
  'implications-very-long',
  'rewrite',
  'self-qa',
  'fewshot-config',
] as const;
export type PromptStyle = (typeof PROMPT_STYLES)[number];

// ---------------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------------

/** A complete, immutable model checkpoint, named by id and verified by the sha256 of its bytes. */
export interface CheckpointRef {
  id: string;
  /** lowercase hex sha256 of the serialized checkpoint (the concatenated chunk bytes). */
  sha256: string;
  /** byte size of the serialized checkpoint. */
  size: number;
}

/** One piece of a checkpoint stream; offsets are contiguous from 0 and every chunk names the checkpoint. */
export interface CheckpointChunk {
  checkpoint: CheckpointRef;
  offset: number;
  data: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Self-edits (E-step samples)
// ---------------------------------------------------------------------------------------------

/** Sampling settings for self-edit generation (reference: temperature 1, top-p 0.95). */
export interface SamplingConfig {
  temperature: number;
  topP: number;
  maxNewTokens: number;
}

export interface GenerateSelfEditsRequest {
  /** teacher checkpoint that writes the edits (the current policy). */
  checkpoint: CheckpointRef;
  contexts: Context[];
  promptStyle: PromptStyle;
  /** K: completions per context. */
  count: number;
  sampling: SamplingConfig;
  /** per-round seed; edit k of context c must be sampled with `selfEditSeed(seed, c.id, k)` (seeds.ts) so reruns match. */
  seed: number;
}

/** One sampled self-edit (see `selfEditId`). */
export interface SelfEdit {
  id: string;
  passageId: string;
  /** 0..K-1 within its passage for this generation request; `id` is `${checkpointId}/${passageId}/${index}`. */
  index: number;
  promptStyle: PromptStyle;
  /** the exact prompt text; the M-step trains on (prompt, completion). */
  prompt: string;
  /** stripped completion text; may be empty (the coordinator scores that as reward 0). */
  completion: string;
  seed: number;
  /** completion length in tokens, so the coordinator can reject edits too long for the student's context. */
  tokenCount: number;
  /** teacher checkpoint that wrote it. */
  checkpointId: string;
}

/** The id of self-edit `index` of `passageId` written by `checkpointId`: unique within a run, stable across reruns. */
export const selfEditId = (checkpointId: string, passageId: string, index: number) =>
  `${checkpointId}/${passageId}/${index}`;

// ---------------------------------------------------------------------------------------------
// Inner loop (student) and M-step (teacher) training settings
// ---------------------------------------------------------------------------------------------

/** LoRA SFT settings (reference §2.3 inner loop, §2.5 M-step). */
export interface SftConfig {
  rank: number;
  alpha: number;
  dropout: number;
  /** projection names LoRA wraps, e.g. ['q_proj','v_proj'] (inner) or all seven (M-step). */
  targets: string[];
  lr: number;
  epochs: number;
  batchSize: number;
  schedule: 'linear' | 'constant' | 'cosine';
  /** warmup steps before the schedule starts decaying. */
  warmup: number;
  /** 'all': loss on every token (reference inner loop); 'completion': only after the prompt (TRL M-step). */
  lossMask: 'all' | 'completion';
}

/** How a self-edit becomes training text and how the adapted model is checked (reference §2.2, §2.4). */
export interface EvalSpec {
  context: Context;
  /** split implications into one training sequence per line (reference: true for single-passage runs). */
  splitNewlines: boolean;
  /** append the raw passage as a final training sequence (reference: always). */
  appendPassage: boolean;
  /** greedy answer length (reference: 64). */
  maxAnswerTokens: number;
}

// ---------------------------------------------------------------------------------------------
// Evaluate (student)
// ---------------------------------------------------------------------------------------------

export interface EvaluateJob {
  /** unique per (run, round, self-edit); a student may answer a repeat from its cache, never train twice for the journal. */
  idempotencyKey: string;
  /** the student base θ the adapter is trained on; unknown to the student → failed_precondition. */
  baseCheckpoint: CheckpointRef;
  selfEdit: SelfEdit;
  sft: SftConfig;
  eval: EvalSpec;
  /** eval_times: independent train+score repeats averaged (reference: 3 in the E-step). */
  repeats: number;
  seed: number;
}

export interface QuestionResult {
  questionId: string;
  correctBefore: boolean;
  /** fraction of repeats in which the adapted model answered correctly. */
  correctAfter: number;
  /** the last repeat's answer, for reports and debugging. */
  answerAfter?: string;
}

export interface EvaluateTimings {
  queueMs: number;
  sftMs: number;
  evalMs: number;
  totalMs: number;
}

/** Why a self-edit earned reward 0 without being a transport error; the run goes on. */
export type EditFailureReason = 'empty' | 'garbage' | 'nan_loss' | 'too_long' | 'adapter_mismatch' | 'error';

export interface EditFailure {
  reason: EditFailureReason;
  message: string;
}

export interface EvaluateResult {
  idempotencyKey: string;
  /** sha256 of the base checkpoint the student actually trained on. */
  baseCheckpointSha256: string;
  /** accuracy of the base checkpoint on the questions (cached per (checkpoint, passage) by the student). */
  scoreBefore: number;
  /** mean accuracy over repeats after the inner-loop update. */
  scoreAfter: number;
  perQuestion: QuestionResult[];
  /** final inner-loop training loss (mean over repeats); NaN marks a diverged update. */
  trainLoss: number;
  /** sha256 of the adapter weights the student trained (last repeat). */
  adapterSha256: string;
  /** sha256 of the adapter weights bound in the scoring session; must equal adapterSha256. */
  evaluatedAdapterSha256: string;
  timings: EvaluateTimings;
  /** set when the edit could not be used (empty, NaN loss, too long…); scores are then the baseline. */
  failure?: EditFailure;
}

// ---------------------------------------------------------------------------------------------
// Update (teacher M-step)
// ---------------------------------------------------------------------------------------------

export interface TrainingPair {
  prompt: string;
  completion: string;
}

export interface UpdateRequest {
  /** unique per (run, round): a repeated update returns the same checkpoint instead of training again. */
  idempotencyKey: string;
  baseCheckpoint: CheckpointRef;
  pairs: TrainingPair[];
  sft: SftConfig;
  /** merge the LoRA into full weights (reference: merge_and_unload). */
  merge: boolean;
  seed: number;
}

export interface TeacherInfo {
  model: string;
  /** the checkpoint a fresh run starts from. */
  baseCheckpoint: CheckpointRef;
  checkpoints: CheckpointRef[];
}

export interface StudentInfo {
  /** stable name of this replica (host:port or a process id), for progress and the journal. */
  studentId: string;
  model: string;
  /** evaluations this student runs at once; the pool never sends more in flight. */
  capacity: number;
  /** the student's own base (used in 'separated' mode). */
  baseCheckpoint: CheckpointRef;
  checkpoints: CheckpointRef[];
  /** the student's context length in tokens; longer self-edits are refused with reward 0. */
  maxContextTokens: number;
}

// ---------------------------------------------------------------------------------------------
// The roles
// ---------------------------------------------------------------------------------------------

export interface Teacher {
  info(opts?: CallOptions): Promise<TeacherInfo>;
  /** Streams K edits per context, in any order; each is final once yielded. */
  generateSelfEdits(request: GenerateSelfEditsRequest, opts?: CallOptions): AsyncIterable<SelfEdit>;
  /** M-step: SFT on the kept pairs from `baseCheckpoint`; returns the new complete checkpoint. */
  update(request: UpdateRequest, opts?: CallOptions): Promise<CheckpointRef>;
  /** Streams a checkpoint's bytes; unknown id → not_found. */
  getCheckpoint(checkpointId: string, opts?: CallOptions): AsyncIterable<CheckpointChunk>;
  /**
   * Restores a checkpoint from the run's archive into a teacher that lost it (restarted), same
   * contract as Student.loadCheckpoint. Optional: a teacher that persists its checkpoints itself
   * never needs it; without it, resuming against a teacher that lost one fails with a clear error.
   */
  loadCheckpoint?(chunks: AsyncIterable<CheckpointChunk>, opts?: CallOptions): Promise<CheckpointRef>;
}

export interface Student {
  info(opts?: CallOptions): Promise<StudentInfo>;
  /** Inner loop + score; an unknown base checkpoint → failed_precondition with details.checkpointId. */
  evaluate(job: EvaluateJob, opts?: CallOptions): Promise<EvaluateResult>;
  /** Receives a checkpoint stream; verifies size and sha256 before holding it (mismatch → invalid_argument). */
  loadCheckpoint(chunks: AsyncIterable<CheckpointChunk>, opts?: CallOptions): Promise<CheckpointRef>;
  /**
   * Loads a checkpoint by reference from shared storage: `sharedPath` is relative to the student's
   * configured shared-storage root (escaping it → invalid_argument; no root configured →
   * failed_precondition). Verifies size and sha256 like loadCheckpoint. Optional: the coordinator
   * streams the bytes when it is absent or refuses.
   */
  loadSharedCheckpoint?(checkpoint: CheckpointRef, sharedPath: string, opts?: CallOptions): Promise<CheckpointRef>;
}
