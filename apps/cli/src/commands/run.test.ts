/**
 * @file `seal run` as a child process on libs/model's tiny Llama fixture: the dry run, a real
 * 1-round run writing results.json (exact schema), the report and its PNG curves; a run killed
 * mid-round and resumed gives the same table as the straight run (same seed); resuming a finished
 * run redoes nothing; a changed config on resume and garbage flags fail in one line.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '@seal/coordinator';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from './run-cli';

const root = join(import.meta.dirname, '..', '..', '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'seal-cli-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The fixture says 64 positions; RoPE has no learned positions, so a longer context is the same model
// (tiny-world passages are a few hundred of its byte-level tokens).
const model = join(tmp, 'model');
cpSync(join(root, 'libs', 'model', 'src', 'fixtures', 'llama-fp32'), model, { recursive: true });
const hf = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
writeFileSync(join(model, 'config.json'), JSON.stringify({ ...hf, max_position_embeddings: 1024 }));

const config = join(tmp, 'small.yaml');
writeFileSync(
  config,
  ['seed: 7', 'selfEdits: { maxNewTokens: 12 }', 'inner: { evalTimes: 1, maxAnswerTokens: 4, sft: { epochs: 1 } }', 'mstep: { sft: { epochs: 1, rank: 4, alpha: 8 } }', 'table: { testPassages: 2 }', ''].join('\n'),
);
const sized = ['--model', model, '--config', config, '--rounds', '1', '--passages', '2', '--self-edits', '2'];
// CLI starts dominate; on a shared, loaded machine they take far longer than the work itself.
vi.setConfig({ testTimeout: 300_000 });
const CONDITIONS = ['base', 'passage', 'base-self-edits', 'seal-round-1', 'oracle'];

/** Starts `seal run` and SIGKILLs it once stderr shows `marker`. */
function runUntil(args: string[], marker: RegExp): Promise<{ killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    // NOTE: node --import tsx, not the tsx binary: tsx runs the program in a grandchild a SIGKILL would miss.
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'apps', 'cli', 'src', 'main.ts'), ...args], { cwd: root });
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!killed && marker.test(stderr)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve({ killed, stderr }));
  });
}

const journalSnapshot = (dir: string) => {
  const journal = Journal.open(dir);
  try {
    return journal.snapshotJson();
  } finally {
    journal.close();
  }
};

describe('seal run', () => {
  it('--dry-run prints the resolved config (defaults < file < flags) and writes nothing', async () => {
    const out = join(tmp, 'dry');
    const res = await runCli(['run', ...sized, '--seed', '3', '--mode', 'separated', '--out', out, '--dry-run']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^# resolved SEAL run config \(config hash [0-9a-f]{16}\)/);
    expect(res.stdout).toMatch(/^seed: 3$/m);
    expect(res.stdout).toMatch(/^mode: separated$/m);
    expect(res.stdout).toMatch(/^rounds: 1$/m);
    expect(res.stdout).toMatch(/^ {2}passagesPerRound: 2$/m);
    expect(res.stdout).toMatch(/^ {2}maxNewTokens: 12$/m);
    expect(res.stdout).toMatch(/^ {2}testPassages: 2$/m);
    expect(existsSync(out)).toBe(false);
  });

  it('runs SEAL end to end, resumes a killed run to the same table, and redoes nothing on a finished one', async () => {
    const straight = join(tmp, 'straight');
    const killedDir = join(tmp, 'killed');
    // The straight run and the run to be killed go side by side (two cores).
    const [res, killed] = await Promise.all([
      runCli(['run', ...sized, '--out', straight]),
      runUntil(['run', ...sized, '--out', killedDir], /evaluate done/),
    ]);
    expect(res.code, res.stderr).toBe(0);

    const results = JSON.parse(readFileSync(join(straight, 'results.json'), 'utf8'));
    expect(Object.keys(results)).toEqual(['table', 'rounds']);
    expect(results.table.map((r: { condition: string }) => r.condition)).toEqual(CONDITIONS);
    for (const row of results.table) {
      expect(Object.keys(row)).toEqual(['condition', 'accuracy', 'n_questions']);
      expect(row.accuracy).toBeGreaterThanOrEqual(0);
      expect(row.accuracy).toBeLessThanOrEqual(1);
      expect(row.n_questions).toBeGreaterThan(0);
    }
    expect(results.rounds).toHaveLength(1);
    expect(Object.keys(results.rounds[0])).toEqual(['round', 'mean_reward', 'kept']);
    expect(results.rounds[0].kept).toBeGreaterThanOrEqual(0);
    expect(res.stdout).toMatch(/seal-round-1 +\d+\.\d%/);
    expect(res.stdout).toMatch(/timings: generate [\d.]+s, inner SFT [\d.]+s, eval [\d.]+s/);
    const report = readFileSync(join(straight, 'report.md'), 'utf8');
    for (const condition of CONDITIONS) expect(report).toContain(`| ${condition} |`);
    expect(report).toContain('![mean reward per round](reward.png)');
    expect(readFileSync(join(straight, 'report.html'), 'utf8')).toContain('<img src="accuracy.png"');
    for (const png of ['reward.png', 'accuracy.png']) expect(readFileSync(join(straight, png)).subarray(1, 4).toString()).toBe('PNG');

    // killed after the E-step, before the table: resume finishes it, to the straight run's table
    expect(killed.killed, killed.stderr).toBe(true);
    expect(existsSync(join(killedDir, 'results.json'))).toBe(false);
    const resumed = await runCli(['run', '--resume', killedDir]);
    expect(resumed.code, resumed.stderr).toBe(0);
    // the journaled E-step is not redone: the resumed session starts at selection
    expect(resumed.stderr).not.toMatch(/round 1: (generate|evaluate) done/);
    expect(resumed.stderr).toMatch(/round 1: update done/);
    expect(JSON.parse(readFileSync(join(killedDir, 'results.json'), 'utf8'))).toEqual(results);

    // resuming a finished run: no evaluation, update or table row is redone
    const journalBefore = journalSnapshot(straight);
    const tableBefore = statSync(join(straight, 'table.json')).mtimeMs;
    const again = await runCli(['run', '--resume', straight]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/table: /);
    expect(journalSnapshot(straight)).toBe(journalBefore);
    expect(statSync(join(straight, 'table.json')).mtimeMs).toBe(tableBefore);
    expect(JSON.parse(readFileSync(join(straight, 'results.json'), 'utf8'))).toEqual(results);

    // a changed config on resume is refused, naming the field, before any work
    const [seed, table] = await Promise.all([
      runCli(['run', '--resume', straight, '--seed', '8']),
      runCli(['run', '--resume', straight, '--test-passages', '3']),
    ]);
    expect(seed.code).toBe(1);
    expect(seed.stderr.trim()).toMatch(/^seal: error: cannot resume .* with a changed config: seed: 7 → 8$/);
    expect(table.code).toBe(1);
    expect(table.stderr.trim()).toMatch(/^seal: error: cannot resume .* with changed settings: table\.testPassages: 2 → 3$/);
  });

  it('garbage flags and configs fail in one line with a non-zero exit', async () => {
    // More bad-input cases run in-process in report/main-job-settings.test.ts; each child costs a CLI start.
    const badRun = join(tmp, 'bad-run.yaml');
    writeFileSync(badRun, 'rounds: 0\ninner: { evalTimes: x }\n');
    const cases: [string[], RegExp][] = [
      [['run', '--rounds', 'abc'], /--rounds must be an integer ≥ 1, got "abc"/],
      [['run', '--bogus'], /unknown option '--bogus'/],
      [['run', '--mode', 'fused', '--students', 'a:1', '--dry-run'], /--mode must be merged or separated, got "fused"/],
      [['run', '--config', badRun, '--dry-run'], /invalid run config; .*bad-run\.yaml: (rounds: .*; .*bad-run\.yaml: inner\.evalTimes: |inner\.evalTimes: .*; .*bad-run\.yaml: rounds: )/],
      [['run', '--model', join(tmp, 'nowhere'), '--resume', join(tmp, 'no-such-run')], /--resume: no run directory/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((res, i) => {
      const [args, pattern] = cases[i]!;
      expect(res.code, args.join(' ')).not.toBe(0);
      expect(res.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(res.stderr, args.join(' ')).toMatch(pattern);
    });
  });
});
