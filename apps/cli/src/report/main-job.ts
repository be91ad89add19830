/**
 * @file `seal run` end to end: the SEAL rounds (runSeal / resumeSeal, journaled), then the
 * paper-style table on the test passages (each row cached in `<run>/table.json`, so a resumed run
 * never scores a condition twice), then results.json, timings and the report.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CheckpointArchive,
  evaluateTable,
  formatResolvedConfig,
  Journal,
  JOURNAL_FILE,
  resumeSeal,
  runSeal,
  runTraceParent,
  StudentPool,
  summarizeRounds,
  type CheckpointRef,
  type RunConfig,
  type RunSummary,
  type TableCondition,
  type TableRow,
} from '@seal/coordinator';
import { withExtractedContext, withSpan, type TraceCarrier } from '@seal/telemetry';
import type { MainJobExtras } from './main-job-settings';
import { readExtras, writeExtras } from './main-job-settings';
import type { RunProgress } from './progress';
import { buildResults, writeResults, type Results } from './results';
import { writeReport } from './report-files';
import { createRunRoles, type RunRoles } from './run-roles';
import { addSession, readTimings, writeTimings, type Timings } from './timings';
import { loadWorldContexts, type WorldContexts } from './world-contexts';

export const TABLE_FILE = 'table.json';

export interface MainJobOptions {
  runDir: string;
  config: RunConfig;
  extras: MainJobExtras;
  /** continue the run in runDir (config and extras are checked against what it was started with). */
  resume: boolean;
  /** a new run's id (default: a random UUID). */
  runId?: string;
  progress: RunProgress;
  signal?: AbortSignal;
}

export interface MainJobResult {
  runId: string;
  results: Results;
  timings: Timings;
  files: string[];
}

export async function runMainJob(options: MainJobOptions): Promise<MainJobResult> {
  const { runDir, config, extras } = options;
  const started = Date.now();
  if (options.resume) {
    readExtras(runDir, extras);
  } else {
    if (existsSync(join(runDir, JOURNAL_FILE))) throw new Error(`${runDir} already holds a run: continue it with --resume ${runDir}, or choose another --out`);
    mkdirSync(runDir, { recursive: true });
    writeExtras(runDir, extras);
  }
  const world = loadWorldContexts(config.data.source, extras.model);
  checkSizes(config, extras, world);

  // One trace per run: every span this job causes, in every process it calls, hangs under this root;
  // a resumed session's root is a child of the first session's (its traceparent is journaled).
  const continued = options.resume ? journaledTraceParent(runDir) : undefined;
  return withExtractedContext(continued, () =>
    withSpan('run seal', { 'seal.run_dir': runDir, 'seal.resumed': options.resume }, (span) => mainJob(options, world, started, (runId) => span.setAttribute('seal.run_id', runId))),
  );
}

function journaledTraceParent(runDir: string): TraceCarrier | undefined {
  const journal = Journal.open(runDir);
  try {
    return runTraceParent(journal);
  } finally {
    journal.close();
  }
}

async function mainJob(options: MainJobOptions, world: WorldContexts, started: number, onRunId: (runId: string) => void): Promise<MainJobResult> {
  const { runDir, config, extras, progress, signal } = options;
  const roles = await createRunRoles(config, extras, runDir);
  try {
    const common = { runDir, teacher: roles.teacher, students: roles.students, trainContexts: world.train, signal, onEvent: (e: Parameters<RunProgress['onEvent']>[0]) => progress.onEvent(e) };
    const summary: RunSummary = options.resume ? await resumeSeal({ ...common, config }) : await runSeal({ ...common, config, runId: options.runId });
    onRunId(summary.runId);

    const tableStarted = Date.now();
    const table = await withSpan('score table', { 'seal.run_id': summary.runId, 'seal.test_passages': extras.table.testPassages }, () =>
      scoreTable({ runDir, config, extras, roles, world, progress, signal }),
    );
    const tableMs = Date.now() - tableStarted;

    const results = buildResults(table, summary.rounds);
    writeResults(runDir, results);
    const timings = addSession(readTimings(runDir), { phaseMs: summary.phaseMs, tableMs, wallMs: Date.now() - started }, summary.rounds);
    writeTimings(runDir, timings);
    const zeroReasons: Record<string, number> = {};
    for (const round of summary.rounds) for (const [k, v] of Object.entries(round.zeroReasons)) zeroReasons[k] = (zeroReasons[k] ?? 0) + v;
    const files = await writeReport(runDir, { runId: summary.runId, results, timings, configYaml: formatResolvedConfig(config), zeroReasons });
    return { runId: summary.runId, results, timings, files };
  } finally {
    await roles.release();
  }
}

function checkSizes(config: RunConfig, extras: MainJobExtras, world: WorldContexts): void {
  const needed = config.rounds * config.data.passagesPerRound;
  if (needed > world.train.length) {
    throw new Error(`rounds × data.passagesPerRound = ${needed} exceeds the ${world.train.length} RL-train passages of the world`);
  }
  if (extras.table.testPassages > world.test.length) {
    throw new Error(`table.testPassages ${extras.table.testPassages} exceeds the ${world.test.length} test passages of the world`);
  }
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

interface TableParams {
  runDir: string;
  config: RunConfig;
  extras: MainJobExtras;
  roles: RunRoles;
  world: WorldContexts;
  progress: RunProgress;
  signal?: AbortSignal;
}

/**
 * Rows: base and passage on the student base; base-self-edits from the base teacher; seal-round-r
 * from round r's teacher, scored on round r's student (merged: the same model) or the student base
 * (separated); oracle on the student base. All on the first `table.testPassages` test passages.
 */
function tableConditions(journal: Journal, config: RunConfig, oracle: Record<string, string>): TableCondition[][] {
  const teacherBase = journal.requireCheckpoint(journal.meta('teacher_base')!);
  const studentBase = journal.requireCheckpoint(journal.meta('student_base')!);
  const rounds = summarizeRounds(journal);
  const studentOf = (teacher: CheckpointRef) => (config.mode === 'merged' ? teacher : studentBase);
  return [
    // base and passage share their evaluations (the no-update score is the passage job's scoreBefore)
    [
      { name: 'base', kind: 'no-update', studentCheckpoint: studentBase },
      { name: 'passage', kind: 'passage', studentCheckpoint: studentBase },
    ],
    [{ name: 'base-self-edits', kind: 'self-edits', studentCheckpoint: studentBase, teacherCheckpoint: teacherBase }],
    ...rounds.map((r): TableCondition[] => {
      const teacher = journal.requireCheckpoint(r.resultCheckpoint);
      return [{ name: `seal-round-${r.round}`, kind: 'self-edits', studentCheckpoint: studentOf(teacher), teacherCheckpoint: teacher }];
    }),
    [{ name: 'oracle', kind: 'given', studentCheckpoint: studentBase, completions: oracle }],
  ];
}

/** A row is reused only for the same condition, checkpoints and test set. */
function rowKey(condition: TableCondition, testPassages: number): string {
  const teacher = condition.kind === 'self-edits' ? condition.teacherCheckpoint.id : '-';
  return `${condition.name}|${condition.studentCheckpoint.id}|${teacher}|${testPassages}`;
}

async function scoreTable(params: TableParams): Promise<TableRow[]> {
  const { runDir, config, extras, roles, world, progress, signal } = params;
  const testPassages = extras.table.testPassages;
  const contexts = world.test.slice(0, testPassages);
  const oracle = Object.fromEntries(contexts.map((c) => [c.id, world.oracle[c.id]!]));
  const journal = Journal.open(runDir);
  let groups: TableCondition[][];
  let runId: string;
  try {
    groups = tableConditions(journal, config, oracle);
    runId = journal.runId;
  } finally {
    journal.close();
  }

  const cachePath = join(runDir, TABLE_FILE);
  const cache: Record<string, TableRow> = existsSync(cachePath) ? JSON.parse(readFileSync(cachePath, 'utf8')) : {};
  const pool = new StudentPool(roles.students, {
    retry: config.rpc.retry,
    evaluateDeadlineMs: config.rpc.evaluateDeadlineMs,
    infoDeadlineMs: config.rpc.infoDeadlineMs,
    maxEvaluateAttempts: config.rpc.maxEvaluateAttempts,
    resolveIntervalMs: config.rpc.resolveIntervalMs,
    onEvent: (event) => progress.onEvent(event),
  });
  await pool.connect(signal);
  const archive = new CheckpointArchive(runDir);
  const rows: TableRow[] = [];
  for (const group of groups) {
    const todo = group.filter((c) => !cache[rowKey(c, testPassages)]);
    if (todo.length > 0) {
      progress.startTask(todo.map((c) => c.name).join('+'));
      const scored = await evaluateTable({
        config,
        teacher: roles.teacher,
        pool,
        contexts,
        conditions: todo,
        label: `${runId}/table`,
        checkpointSource: (ref, opts) => (archive.has(ref) ? archive.read(ref, config.rpc.checkpointChunkBytes) : roles.teacher.getCheckpoint(ref.id, opts)),
        signal,
      });
      todo.forEach((condition, i) => (cache[rowKey(condition, testPassages)] = scored[i]!));
      writeFileSync(cachePath, `${JSON.stringify(cache, null, 2)}\n`);
    }
    rows.push(...group.map((c) => cache[rowKey(c, testPassages)]!));
  }
  return rows;
}
