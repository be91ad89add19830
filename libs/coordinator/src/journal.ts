/**
 * @file The run journal: one SQLite database per run (better-sqlite3, WAL) holding every decision
 * before it is acted on, so a run killed anywhere resumes without redoing or losing work.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { canonicalJson, configHash, diffConfigs, parseRunConfig, resultDefiningConfig, type RunConfig } from './config';
import { failedPrecondition, notFound } from './errors';
import type { CheckpointRef, Context, EditFailure, EvaluateTimings, QuestionResult, SelfEdit } from './roles';
import { SEED_SCHEME } from './seeds';

export const JOURNAL_FILE = 'journal.sqlite';
const SCHEMA_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Schema. Rows are append-only facts; a round's `status` says which phase has fully finished.
// ---------------------------------------------------------------------------------------------

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS config (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  hash TEXT NOT NULL,
  json TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  id TEXT PRIMARY KEY,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  role TEXT NOT NULL,          -- 'teacher-base' | 'student-base' | 'mstep'
  round INTEGER,               -- the round whose M-step produced it
  created_at TEXT NOT NULL
);
-- Written LAST, after the checkpoint is known complete; a checkpoint without one is not trusted.
CREATE TABLE IF NOT EXISTS checkpoint_manifests (
  checkpoint_id TEXT PRIMARY KEY REFERENCES checkpoints(id),
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  completed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rounds (
  round INTEGER PRIMARY KEY,
  status TEXT NOT NULL,        -- started → generated → evaluated → selected → updated → done
  teacher_checkpoint TEXT NOT NULL REFERENCES checkpoints(id),
  student_checkpoint TEXT NOT NULL REFERENCES checkpoints(id),
  started_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE TABLE IF NOT EXISTS passages (
  passage_id TEXT PRIMARY KEY, -- PRIMARY KEY: a passage is used in at most one round (disjoint rounds)
  round INTEGER NOT NULL REFERENCES rounds(round),
  position INTEGER NOT NULL,
  context_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS self_edits (
  id TEXT PRIMARY KEY,
  round INTEGER NOT NULL,
  passage_id TEXT NOT NULL REFERENCES passages(passage_id),
  idx INTEGER NOT NULL,
  prompt_style TEXT NOT NULL,
  prompt TEXT NOT NULL,
  completion TEXT NOT NULL,
  seed INTEGER NOT NULL,
  token_count INTEGER NOT NULL,
  checkpoint_id TEXT NOT NULL,
  UNIQUE (round, passage_id, idx)
);
CREATE TABLE IF NOT EXISTS evaluations (
  idempotency_key TEXT PRIMARY KEY,
  round INTEGER NOT NULL,
  kind TEXT NOT NULL,          -- 'self_edit' | 'passage_baseline'
  passage_id TEXT NOT NULL,
  self_edit_id TEXT,           -- NULL for a passage-only baseline
  base_checkpoint TEXT NOT NULL,
  student_id TEXT,             -- NULL when the coordinator refused the edit without sending it
  attempts INTEGER NOT NULL,
  score_before REAL,
  score_after REAL,
  train_loss REAL,
  per_question_json TEXT NOT NULL,
  adapter_sha256 TEXT,
  timings_json TEXT NOT NULL,
  failure_reason TEXT,
  failure_message TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS evaluation_failures (
  idempotency_key TEXT NOT NULL,
  student_id TEXT NOT NULL,
  error TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS baselines (
  checkpoint_id TEXT NOT NULL,
  passage_id TEXT NOT NULL,
  score REAL NOT NULL,
  source_key TEXT NOT NULL,
  PRIMARY KEY (checkpoint_id, passage_id)
);
CREATE TABLE IF NOT EXISTS rewards (
  self_edit_id TEXT PRIMARY KEY REFERENCES self_edits(id),
  round INTEGER NOT NULL,
  passage_id TEXT NOT NULL,
  reward REAL NOT NULL,
  baseline REAL,
  reason TEXT                  -- why the reward is 0 without a measurement (empty, nan_loss, too_long…)
);
CREATE TABLE IF NOT EXISTS selections (
  round INTEGER NOT NULL,
  self_edit_id TEXT NOT NULL REFERENCES self_edits(id),
  PRIMARY KEY (round, self_edit_id)
);
CREATE TABLE IF NOT EXISTS msteps (
  round INTEGER PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  base_checkpoint TEXT NOT NULL,
  pairs INTEGER NOT NULL,
  result_checkpoint TEXT,      -- NULL while the update is in flight (resume re-sends the same key)
  started_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE TABLE IF NOT EXISTS pushes (
  round INTEGER NOT NULL,
  student_id TEXT NOT NULL,
  checkpoint_id TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  ms REAL NOT NULL,
  at TEXT NOT NULL
);
`;

// ---------------------------------------------------------------------------------------------
// Row types
// ---------------------------------------------------------------------------------------------

export const ROUND_STATUSES = ['started', 'generated', 'evaluated', 'selected', 'updated', 'done'] as const;
export type RoundStatus = (typeof ROUND_STATUSES)[number];

export interface RoundRecord {
  round: number;
  status: RoundStatus;
  teacherCheckpoint: string;
  studentCheckpoint: string;
  passageIds: string[];
}

export interface EvaluationRecord {
  idempotencyKey: string;
  round: number;
  kind: 'self_edit' | 'passage_baseline';
  passageId: string;
  selfEditId: string | null;
  baseCheckpoint: string;
  studentId: string | null;
  attempts: number;
  scoreBefore: number | null;
  scoreAfter: number | null;
  trainLoss: number | null;
  perQuestion: QuestionResult[];
  adapterSha256: string | null;
  timings: EvaluateTimings | null;
  failure: EditFailure | null;
}

export interface RewardRecord {
  selfEditId: string;
  round: number;
  passageId: string;
  reward: number;
  baseline: number | null;
  reason: string | null;
}

export interface MStepRecord {
  round: number;
  idempotencyKey: string;
  baseCheckpoint: string;
  pairs: number;
  resultCheckpoint: string | null;
}

const now = () => new Date().toISOString();
// SQLite stores NaN as NULL; keep the distinction explicit through the failure columns instead.
const finiteOrNull = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? null : x);

// ---------------------------------------------------------------------------------------------
// Journal
// ---------------------------------------------------------------------------------------------

export class Journal {
  readonly path: string;
  readonly config: RunConfig;
  private readonly db: Database.Database;

  private constructor(path: string, db: Database.Database, config: RunConfig) {
    this.path = path;
    this.db = db;
    this.config = config;
  }

  /** Starts a new run in `runDir`; refuses a directory that already holds a journal. */
  static create(runDir: string, config: RunConfig, runId: string): Journal {
    mkdirSync(runDir, { recursive: true });
    const path = join(runDir, JOURNAL_FILE);
    if (existsSync(path)) throw failedPrecondition(`${path} already exists: resume that run or choose another --out`);
    const db = openDb(path);
    db.transaction(() => {
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?), (?, ?), (?, ?), (?, ?)').run(
        'schema_version', String(SCHEMA_VERSION), 'run_id', runId, 'status', 'running', 'seed_scheme', String(SEED_SCHEME),
      );
      db.prepare('INSERT INTO config (id, hash, json, created_at) VALUES (1, ?, ?, ?)').run(
        configHash(config), JSON.stringify(config), now(),
      );
    })();
    return new Journal(path, db, config);
  }

  /**
   * Reopens a run. With `config`, refuses when any result-defining field differs from the
   * journaled one, listing each changed field; operational fields (addresses, deadlines) may change,
   * `rounds` may grow, and the given values are used from then on.
   */
  static open(runDir: string, config?: RunConfig): Journal {
    const path = join(runDir, JOURNAL_FILE);
    if (!existsSync(path)) throw notFound(`no run journal at ${path}`);
    const db = openDb(path);
    const version = (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined)?.value;
    if (version !== String(SCHEMA_VERSION)) {
      db.close();
      throw failedPrecondition(`${path}: journal schema version ${version ?? '(none)'} is not ${SCHEMA_VERSION}`);
    }
    const row = db.prepare('SELECT json FROM config WHERE id = 1').get() as { json: string };
    const journaled = parseRunConfig(JSON.parse(row.json), `${path} (journaled config)`);
    if (config) {
      // A journal from before the scheme was journaled used scheme 1.
      const seedScheme = (db.prepare("SELECT value FROM meta WHERE key = 'seed_scheme'").get() as { value: string } | undefined)?.value ?? '1';
      if (seedScheme !== String(SEED_SCHEME)) {
        db.close();
        throw failedPrecondition(
          `cannot resume ${runDir}: it was started with seed scheme ${seedScheme} and this SEAL-TS derives seeds with scheme ${SEED_SCHEME}, so its remaining work would not equal a straight run's; start a new run (or finish it with the SEAL-TS that started it)`,
        );
      }
      const changed = diffConfigs(resultDefiningConfig(journaled), resultDefiningConfig(config));
      if (changed.length > 0) {
        db.close();
        throw failedPrecondition(
          `cannot resume ${runDir} with a changed config; changed fields:\n  ${changed.join('\n  ')}`,
          { changed },
        );
      }
    }
    if (config) {
      const started = (db.prepare('SELECT COUNT(*) AS n FROM rounds').get() as { n: number }).n;
      if (config.rounds < started) {
        db.close();
        throw failedPrecondition(`cannot resume ${runDir} with rounds ${config.rounds}: ${started} rounds already started`);
      }
      // The latest operational settings and round count are kept; the hash does not cover them.
      db.prepare('UPDATE config SET json = ? WHERE id = 1').run(JSON.stringify(config));
    }
    return new Journal(path, db, config ?? journaled);
  }

  close(): void {
    this.db.close();
  }

  get runId(): string {
    return this.meta('run_id')!;
  }

  meta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // ----- checkpoints ---------------------------------------------------------------------------

  /** Records a checkpoint and its manifest; the manifest row goes last, in the same transaction. */
  recordCheckpoint(ref: CheckpointRef, role: 'teacher-base' | 'student-base' | 'mstep', round: number | null): void {
    this.db.transaction(() => {
      const existing = this.checkpoint(ref.id);
      if (existing && (existing.sha256 !== ref.sha256 || existing.size !== ref.size)) {
        throw failedPrecondition(`checkpoint ${ref.id} was journaled with sha256 ${existing.sha256}, now reported as ${ref.sha256}`);
      }
      this.db
        .prepare('INSERT OR IGNORE INTO checkpoints (id, sha256, size, role, round, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(ref.id, ref.sha256, ref.size, role, round, now());
      this.db
        .prepare('INSERT OR IGNORE INTO checkpoint_manifests (checkpoint_id, sha256, size, completed_at) VALUES (?, ?, ?, ?)')
        .run(ref.id, ref.sha256, ref.size, now());
    })();
  }

  /** A checkpoint with a manifest (complete); undefined otherwise. */
  checkpoint(id: string): CheckpointRef | undefined {
    const row = this.db
      .prepare('SELECT c.id, c.sha256, c.size FROM checkpoints c JOIN checkpoint_manifests m ON m.checkpoint_id = c.id WHERE c.id = ?')
      .get(id) as CheckpointRef | undefined;
    return row ? { id: row.id, sha256: row.sha256, size: row.size } : undefined;
  }

  requireCheckpoint(id: string): CheckpointRef {
    const ref = this.checkpoint(id);
    if (!ref) throw failedPrecondition(`${this.path}: checkpoint ${id} has no manifest (incomplete)`);
    return ref;
  }

  // ----- rounds and passages -------------------------------------------------------------------

  startRound(round: number, contexts: Context[], teacherCheckpoint: string, studentCheckpoint: string): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO rounds (round, status, teacher_checkpoint, student_checkpoint, started_at) VALUES (?, ?, ?, ?, ?)')
        .run(round, 'started', teacherCheckpoint, studentCheckpoint, now());
      const insert = this.db.prepare('INSERT INTO passages (passage_id, round, position, context_json) VALUES (?, ?, ?, ?)');
      contexts.forEach((context, position) => {
        try {
          insert.run(context.id, round, position, JSON.stringify(context));
        } catch (error) {
          if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
            throw failedPrecondition(`passage ${context.id} was already used in an earlier round; rounds need disjoint passages`);
          }
          throw error;
        }
      });
    })();
  }

  setRoundStatus(round: number, status: RoundStatus): void {
    this.db
      .prepare('UPDATE rounds SET status = ?, finished_at = CASE WHEN ? = \'done\' THEN ? ELSE finished_at END WHERE round = ?')
      .run(status, status, now(), round);
  }

  round(round: number): RoundRecord | undefined {
    const row = this.db.prepare('SELECT * FROM rounds WHERE round = ?').get(round) as
      | { round: number; status: RoundStatus; teacher_checkpoint: string; student_checkpoint: string }
      | undefined;
    if (!row) return undefined;
    return {
      round: row.round,
      status: row.status,
      teacherCheckpoint: row.teacher_checkpoint,
      studentCheckpoint: row.student_checkpoint,
      passageIds: this.contexts(round).map((c) => c.id),
    };
  }

  rounds(): RoundRecord[] {
    const ids = this.db.prepare('SELECT round FROM rounds ORDER BY round').all() as { round: number }[];
    return ids.map(({ round }) => this.round(round)!);
  }

  contexts(round: number): Context[] {
    const rows = this.db.prepare('SELECT context_json FROM passages WHERE round = ? ORDER BY position').all(round) as { context_json: string }[];
    return rows.map((r) => JSON.parse(r.context_json) as Context);
  }

  /** Every passage id used by any round, for choosing fresh disjoint passages. */
  usedPassageIds(): Set<string> {
    return new Set((this.db.prepare('SELECT passage_id FROM passages').all() as { passage_id: string }[]).map((r) => r.passage_id));
  }

  // ----- self-edits ----------------------------------------------------------------------------

  /** Inserts a self-edit; a repeat of the same id is ignored (a resumed generation re-yields it). */
  recordSelfEdit(round: number, edit: SelfEdit): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO self_edits (id, round, passage_id, idx, prompt_style, prompt, completion, seed, token_count, checkpoint_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(edit.id, round, edit.passageId, edit.index, edit.promptStyle, edit.prompt, edit.completion, edit.seed, edit.tokenCount, edit.checkpointId);
  }

  selfEdits(round: number): SelfEdit[] {
    const rows = this.db.prepare('SELECT * FROM self_edits WHERE round = ? ORDER BY passage_id, idx').all(round) as SelfEditRow[];
    return rows.map(fromSelfEditRow);
  }

  // ----- evaluations ---------------------------------------------------------------------------

  /** Inserts an evaluation once; returns false when its idempotency key is already journaled. */
  recordEvaluation(record: EvaluationRecord): boolean {
    const info = this.db
      .prepare(
        `INSERT OR IGNORE INTO evaluations (idempotency_key, round, kind, passage_id, self_edit_id, base_checkpoint, student_id, attempts,
           score_before, score_after, train_loss, per_question_json, adapter_sha256, timings_json, failure_reason, failure_message, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        record.idempotencyKey, record.round, record.kind, record.passageId, record.selfEditId, record.baseCheckpoint, record.studentId,
        record.attempts, finiteOrNull(record.scoreBefore), finiteOrNull(record.scoreAfter), finiteOrNull(record.trainLoss),
        JSON.stringify(record.perQuestion), record.adapterSha256, JSON.stringify(record.timings), record.failure?.reason ?? null,
        record.failure?.message ?? null, now(),
      );
    return info.changes === 1;
  }

  evaluations(round: number): EvaluationRecord[] {
    const rows = this.db.prepare('SELECT * FROM evaluations WHERE round = ? ORDER BY idempotency_key').all(round) as EvaluationRow[];
    return rows.map(fromEvaluationRow);
  }

  evaluatedKeys(round: number): Set<string> {
    const rows = this.db.prepare('SELECT idempotency_key FROM evaluations WHERE round = ?').all(round) as { idempotency_key: string }[];
    return new Set(rows.map((r) => r.idempotency_key));
  }

  recordEvaluationFailure(idempotencyKey: string, studentId: string, error: string): void {
    this.db.prepare('INSERT INTO evaluation_failures (idempotency_key, student_id, error, at) VALUES (?, ?, ?, ?)').run(idempotencyKey, studentId, error, now());
  }

  evaluationFailures(): { idempotencyKey: string; studentId: string; error: string }[] {
    return (this.db.prepare('SELECT idempotency_key, student_id, error FROM evaluation_failures ORDER BY rowid').all() as {
      idempotency_key: string;
      student_id: string;
      error: string;
    }[]).map((r) => ({ idempotencyKey: r.idempotency_key, studentId: r.student_id, error: r.error }));
  }

  // ----- baselines, rewards, selections --------------------------------------------------------

  /** The cached baseline score of (checkpoint, passage), set once; later calls return the first value. */
  cacheBaseline(checkpointId: string, passageId: string, score: number, sourceKey: string): number {
    this.db
      .prepare('INSERT OR IGNORE INTO baselines (checkpoint_id, passage_id, score, source_key) VALUES (?, ?, ?, ?)')
      .run(checkpointId, passageId, score, sourceKey);
    return this.baseline(checkpointId, passageId)!;
  }

  baseline(checkpointId: string, passageId: string): number | undefined {
    return (this.db.prepare('SELECT score FROM baselines WHERE checkpoint_id = ? AND passage_id = ?').get(checkpointId, passageId) as
      | { score: number }
      | undefined)?.score;
  }

  /** Rewards, the kept edits and the round status move together: one transaction. */
  recordSelection(round: number, rewards: RewardRecord[], keptSelfEditIds: string[]): void {
    this.db.transaction(() => {
      const insertReward = this.db.prepare(
        'INSERT OR REPLACE INTO rewards (self_edit_id, round, passage_id, reward, baseline, reason) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const r of rewards) insertReward.run(r.selfEditId, round, r.passageId, r.reward, r.baseline, r.reason);
      const insertSelection = this.db.prepare('INSERT OR IGNORE INTO selections (round, self_edit_id) VALUES (?, ?)');
      for (const id of keptSelfEditIds) insertSelection.run(round, id);
      this.setRoundStatus(round, 'selected');
    })();
  }

  rewards(round: number): RewardRecord[] {
    const rows = this.db.prepare('SELECT * FROM rewards WHERE round = ? ORDER BY self_edit_id').all(round) as {
      self_edit_id: string;
      round: number;
      passage_id: string;
      reward: number;
      baseline: number | null;
      reason: string | null;
    }[];
    return rows.map((r) => ({ selfEditId: r.self_edit_id, round: r.round, passageId: r.passage_id, reward: r.reward, baseline: r.baseline, reason: r.reason }));
  }

  selections(round: number): SelfEdit[] {
    const rows = this.db
      .prepare('SELECT e.* FROM selections s JOIN self_edits e ON e.id = s.self_edit_id WHERE s.round = ? ORDER BY e.passage_id, e.idx')
      .all(round) as SelfEditRow[];
    return rows.map(fromSelfEditRow);
  }

  // ----- M-steps and pushes --------------------------------------------------------------------

  /** Journals the intent to update before the teacher is called; a repeat keeps the first row. */
  startMStep(round: number, idempotencyKey: string, baseCheckpoint: string, pairs: number): void {
    this.db
      .prepare('INSERT OR IGNORE INTO msteps (round, idempotency_key, base_checkpoint, pairs, started_at) VALUES (?, ?, ?, ?, ?)')
      .run(round, idempotencyKey, baseCheckpoint, pairs, now());
  }

  /** Records the new checkpoint (with manifest), the M-step result and the round status together. */
  finishMStep(round: number, result: CheckpointRef, isNew: boolean): void {
    this.db.transaction(() => {
      if (isNew) this.recordCheckpoint(result, 'mstep', round);
      this.db.prepare('UPDATE msteps SET result_checkpoint = ?, finished_at = ? WHERE round = ?').run(result.id, now(), round);
      this.setRoundStatus(round, 'updated');
    })();
  }

  mstep(round: number): MStepRecord | undefined {
    const row = this.db.prepare('SELECT * FROM msteps WHERE round = ?').get(round) as
      | { round: number; idempotency_key: string; base_checkpoint: string; pairs: number; result_checkpoint: string | null }
      | undefined;
    return row && {
      round: row.round,
      idempotencyKey: row.idempotency_key,
      baseCheckpoint: row.base_checkpoint,
      pairs: row.pairs,
      resultCheckpoint: row.result_checkpoint,
    };
  }

  recordPush(round: number, studentId: string, checkpointId: string, bytes: number, ms: number): void {
    this.db.prepare('INSERT INTO pushes (round, student_id, checkpoint_id, bytes, ms, at) VALUES (?, ?, ?, ?, ?, ?)').run(round, studentId, checkpointId, bytes, ms, now());
  }

  pushes(): { round: number; studentId: string; checkpointId: string; bytes: number; ms: number }[] {
    return (this.db.prepare('SELECT * FROM pushes ORDER BY rowid').all() as { round: number; student_id: string; checkpoint_id: string; bytes: number; ms: number }[]).map(
      (r) => ({ round: r.round, studentId: r.student_id, checkpointId: r.checkpoint_id, bytes: r.bytes, ms: r.ms }),
    );
  }

  // ----- comparison ----------------------------------------------------------------------------

  /**
   * Everything that decides the run's results, without timestamps, timings, student ids or
   * attempt counts — two runs with the same seed (one straight, one killed and resumed) must give
   * equal snapshots.
   */
  snapshot(): Record<string, unknown[]> {
    const all = (sql: string) => this.db.prepare(sql).all();
    return {
      // the result-defining part only: addresses, deadlines and retries may differ between sessions
      config: [{ hash: configHash(this.config), resultDefining: canonicalJson(resultDefiningConfig(this.config)) }],
      checkpoints: all('SELECT id, sha256, size, role, round FROM checkpoints ORDER BY id'),
      manifests: all('SELECT checkpoint_id, sha256, size FROM checkpoint_manifests ORDER BY checkpoint_id'),
      rounds: all('SELECT round, status, teacher_checkpoint, student_checkpoint FROM rounds ORDER BY round'),
      passages: all('SELECT passage_id, round, position, context_json FROM passages ORDER BY passage_id'),
      selfEdits: all('SELECT * FROM self_edits ORDER BY id'),
      evaluations: all(
        `SELECT idempotency_key, round, kind, passage_id, self_edit_id, base_checkpoint, score_before, score_after, train_loss,
                per_question_json, adapter_sha256, failure_reason, failure_message FROM evaluations ORDER BY idempotency_key`,
      ),
      baselines: all('SELECT * FROM baselines ORDER BY checkpoint_id, passage_id'),
      rewards: all('SELECT * FROM rewards ORDER BY self_edit_id'),
      selections: all('SELECT * FROM selections ORDER BY round, self_edit_id'),
      msteps: all('SELECT round, idempotency_key, base_checkpoint, pairs, result_checkpoint FROM msteps ORDER BY round'),
      status: all("SELECT value FROM meta WHERE key = 'status'"),
    };
  }

  /** Canonical JSON of `snapshot()`, handy for equality assertions with readable diffs. */
  snapshotJson(): string {
    return canonicalJson(this.snapshot());
  }
}

function openDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // FULL: a committed decision survives a power cut too, not only a killed process; the journal is small.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  return db;
}

interface SelfEditRow {
  id: string;
  round: number;
  passage_id: string;
  idx: number;
  prompt_style: SelfEdit['promptStyle'];
  prompt: string;
  completion: string;
  seed: number;
  token_count: number;
  checkpoint_id: string;
}

function fromSelfEditRow(r: SelfEditRow): SelfEdit {
  return {
    id: r.id,
    passageId: r.passage_id,
    index: r.idx,
    promptStyle: r.prompt_style,
    prompt: r.prompt,
    completion: r.completion,
    seed: r.seed,
    tokenCount: r.token_count,
    checkpointId: r.checkpoint_id,
  };
}

interface EvaluationRow {
  idempotency_key: string;
  round: number;
  kind: 'self_edit' | 'passage_baseline';
  passage_id: string;
  self_edit_id: string | null;
  base_checkpoint: string;
  student_id: string | null;
  attempts: number;
  score_before: number | null;
  score_after: number | null;
  train_loss: number | null;
  per_question_json: string;
  adapter_sha256: string | null;
  timings_json: string;
  failure_reason: EditFailure['reason'] | null;
  failure_message: string | null;
}

function fromEvaluationRow(r: EvaluationRow): EvaluationRecord {
  return {
    idempotencyKey: r.idempotency_key,
    round: r.round,
    kind: r.kind,
    passageId: r.passage_id,
    selfEditId: r.self_edit_id,
    baseCheckpoint: r.base_checkpoint,
    studentId: r.student_id,
    attempts: r.attempts,
    scoreBefore: r.score_before,
    scoreAfter: r.score_after,
    trainLoss: r.train_loss,
    perQuestion: JSON.parse(r.per_question_json) as QuestionResult[],
    adapterSha256: r.adapter_sha256,
    timings: JSON.parse(r.timings_json) as EvaluateTimings | null,
    failure: r.failure_reason ? { reason: r.failure_reason, message: r.failure_message ?? '' } : null,
  };
}
