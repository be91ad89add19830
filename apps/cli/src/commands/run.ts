/**
 * @file `seal run`, the main job: SEAL on the tiny world (merged, in-process, 2 rounds by default)
 * or against teacher/student services, writing the journal, results.json and the report into the
 * run directory. Thin: flags → settings → report/main-job.ts.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { diffConfigs, formatResolvedConfig, Journal, JOURNAL_FILE, resultDefiningConfig, type RunConfigInput } from '@seal/coordinator';
import { runMainJob } from '../report/main-job';
import { readExtras, resolveSettings, type MainJobSettings } from '../report/main-job-settings';
import { createRunProgress } from '../report/progress';
import { formatSummary } from '../report/summary';

interface RunCliOptions {
  config?: string;
  model?: string;
  studentModel?: string;
  teacher?: string;
  students?: string;
  out?: string;
  rounds?: number;
  passages?: number;
  selfEdits?: number;
  testPassages?: number;
  seed?: number;
  mode?: string;
  dryRun?: boolean;
  resume?: string;
  continue?: boolean;
}

function integer(min: number) {
  return (value: string, _previous: unknown, flag = 'value'): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}

const positive = (flag: string) => (value: string) => integer(1)(value, undefined, flag);

/** A run directory given as a path, or as an id under runs/. */
function runDirOf(run: string): string {
  if (existsSync(run)) return resolve(run);
  const underRuns = resolve('runs', run);
  if (existsSync(underRuns)) return underRuns;
  throw new Error(`--resume: no run directory ${run} (nor runs/${run})`);
}

function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '');
  return `${stamp}-${Math.random().toString(16).slice(2, 8)}`;
}

function overridesOf(o: RunCliOptions): RunConfigInput {
  if (o.mode !== undefined && o.mode !== 'merged' && o.mode !== 'separated') throw new Error(`--mode must be merged or separated, got "${o.mode}"`);
  const addresses = o.students?.split(',').map((a) => a.trim());
  // host:port, or dns:///host:port: a name is one pool member per address it resolves to.
  if (addresses?.some((a) => !/^(dns:\/\/\/)?([^\s:/[\]]+|\[[0-9a-fA-F:.]+\]):\d+$/.test(a))) throw new Error(`--students must be host:port[,host:port…] (or dns:///host:port), got "${o.students}"`);
  if (o.teacher !== undefined && !/^[^\s:]+:\d+$/.test(o.teacher)) throw new Error(`--teacher must be host:port, got "${o.teacher}"`);
  return {
    seed: o.seed,
    mode: o.mode as 'merged' | 'separated' | undefined,
    rounds: o.rounds,
    data: { passagesPerRound: o.passages },
    selfEdits: { perPassage: o.selfEdits },
    teacher: { address: o.teacher },
    students: { addresses },
  };
}

async function run(o: RunCliOptions): Promise<void> {
  if (o.resume && o.out) throw new Error('give --resume RUN or --out DIR, not both');
  if (o.continue && !o.out) throw new Error('--continue needs --out DIR');
  // --continue: an experiment target re-run picks up its own run directory instead of refusing it.
  const resuming = Boolean(o.resume) || Boolean(o.continue && existsSync(join(resolve(o.out!), JOURNAL_FILE)));
  const runDir = o.resume ? runDirOf(o.resume) : resolve(o.out ?? join('runs', newRunId()));
  let base: MainJobSettings | undefined;
  if (resuming) {
    const journal = Journal.open(runDir);
    try {
      base = { config: journal.config, extras: readExtras(runDir) };
    } finally {
      journal.close();
    }
  }
  const settings = resolveSettings({
    configFile: o.config,
    overrides: overridesOf(o),
    extras: { model: o.model, studentModel: o.studentModel, testPassages: o.testPassages },
    base,
  });
  if (base) {
    // Refused before any model loads: the journal would refuse it too, after the roles started.
    const changed = diffConfigs(resultDefiningConfig(base.config), resultDefiningConfig(settings.config));
    if (changed.length > 0) throw new Error(`cannot resume ${runDir} with a changed config: ${changed.join('; ')}`);
    readExtras(runDir, settings.extras);
  }
  if (o.dryRun) {
    process.stdout.write(formatResolvedConfig(settings.config));
    process.stdout.write(`# seal run settings\nmodel: ${settings.extras.model}\n${settings.extras.studentModel ? `studentModel: ${settings.extras.studentModel}\n` : ''}table:\n  testPassages: ${settings.extras.table.testPassages}\nout: ${runDir}\n`);
    return;
  }
  // A fully remote run needs no local model: the services hold theirs (the world comes from world.json beside it, if present).
  const allRemote = Boolean(settings.config.teacher.address) && settings.config.students.addresses.length > 0;
  if (!allRemote && !existsSync(join(settings.extras.model, 'config.json'))) {
    throw new Error(`model: ${settings.extras.model} has no config.json (pretrain the tiny-world model, or pass --model DIR)`);
  }
  // This process's spans land in the run folder, where `seal trace RUN` looks first, unless the
  // operator points every process at one place (the telemetry exporter reads this at each export).
  if (!process.env.SEAL_TRACE_DIR && !process.env.OTEL_EXPORTER_OTLP_ENDPOINT) process.env.SEAL_TRACE_DIR = join(runDir, 'spans');
  const progress = createRunProgress();
  // Ctrl-C stops at the next safe point; the journal keeps everything finished for --resume.
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error(`interrupted: continue with seal run --resume ${runDir}`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await runMainJob({ runDir, config: settings.config, extras: settings.extras, resume: resuming, runId: resuming ? undefined : runDir.split('/').at(-1), progress, signal: controller.signal });
    progress.stop();
    process.stdout.write(formatSummary(runDir, result));
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run SEAL (the main job): rounds of self-edits, rewards and teacher updates, then the paper-style table and report')
    .option('--config <file>', 'run config (YAML/JSON): every setting; flags override it')
    .option('--model <dir>', 'base model folder (default models/tiny-world)')
    .option('--student-model <dir>', 'separated mode: the in-process students\' own base model')
    .option('--teacher <addr>', 'TeacherService host:port (default: in-process)')
    .option('--students <addrs>', 'StudentService host:port list, comma-separated; a name (or dns:///name:port) counts once per address it resolves to (default: in-process)')
    .option('--out <dir>', 'run directory (default runs/<id>)')
    .option('--rounds <n>', 'ReST-EM rounds', positive('--rounds'))
    .option('--passages <n>', 'fresh RL-train passages per round', positive('--passages'))
    .option('--self-edits <k>', 'self-edits sampled per passage', positive('--self-edits'))
    .option('--test-passages <n>', 'test passages scored for the table', positive('--test-passages'))
    .option('--seed <s>', 'run seed', (v) => integer(0)(v, undefined, '--seed'))
    .option('--mode <mode>', 'merged (the paper) or separated (teacher ≠ student)')
    .option('--dry-run', 'print the resolved config and exit')
    .option('--resume <run>', 'continue a stopped run (its directory, or its id under runs/)')
    .option('--continue', 'with --out: resume the run already there (same config), else start it')
    .action(async (o: RunCliOptions) => {
      try {
        await run(o);
      } catch (error) {
        // The CLI prints one line: fold multi-line errors (config issues, changed fields) into it.
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(message.split('\n').map((line) => line.trim()).filter(Boolean).join('; '), { cause: error });
      }
    });
}
