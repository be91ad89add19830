/**
 * @file A SEAL run across processes on loopback: `seal serve teacher`, two `seal serve student`
 * (one reached by name through the system resolver, one by IP), `seal run` against them killed
 * mid-run and resumed. Every span any process wrote for the run is in ONE trace: `seal trace RUN
 * --summary` shows one trace id for every service, and the resumed session's root is a child of
 * the first session's journaled root. Runs on libs/model's tiny fixture model (seconds of work).
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, RUN_TRACE_PARENT } from '@seal/coordinator';
import { readSpanDirectory } from '@seal/telemetry';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runSeal, serveSeal, type ServingSeal } from './seal-process';

const tmp = mkdtempSync(join(tmpdir(), 'seal-loopback-run-'));
const servers: ServingSeal[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => (s.child.exitCode === null ? s.stop('SIGKILL') : undefined)));
  rmSync(tmp, { recursive: true, force: true });
});

/** The fixture Llama with a context wide enough for tiny-world passages (RoPE has no learned positions). */
function fixtureModel(): string {
  const model = join(tmp, 'model');
  cpSync(join(REPO_ROOT, 'libs/model/src/fixtures/llama-fp32'), model, { recursive: true });
  const hf = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
  writeFileSync(join(model, 'config.json'), JSON.stringify({ ...hf, max_position_embeddings: 1024 }));
  return model;
}

/** `seal run …` with telemetry preloaded, SIGKILLed once its output shows `marker`. */
function runUntil(args: string[], env: Record<string, string>, marker: RegExp): Promise<{ killed: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', './libs/telemetry/src/register.ts', 'apps/cli/src/main.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    let output = '';
    let killed = false;
    const watch = (d: Buffer) => {
      output += d;
      if (!killed && marker.test(output)) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    child.on('error', reject);
    child.on('close', () => resolve({ killed, output }));
  });
}

describe('seal run against served roles on loopback', () => {
  it('is one trace across every process, across a kill and --resume', async () => {
    const model = fixtureModel();
    const runDir = join(tmp, 'run');
    const spans = join(runDir, 'spans');
    mkdirSync(spans, { recursive: true });
    const env = { SEAL_TRACE_DIR: spans, NO_COLOR: '1' };
    const config = join(tmp, 'small.yaml');
    writeFileSync(config, ['seed: 7', 'selfEdits: { maxNewTokens: 12 }', 'inner: { evalTimes: 1, maxAnswerTokens: 4, sft: { epochs: 1 } }', 'mstep: { sft: { epochs: 1, rank: 4, alpha: 8 } }', ''].join('\n'));

    // Started one after another: each start compiles graphs, and the machine has two cores.
    const teacher = await serveSeal('teacher', ['--model', model], env);
    servers.push(teacher);
    for (let i = 0; i < 2; i++) servers.push(await serveSeal('student', ['--model', model], env));
    const [, byName, byIp] = servers;
    const studentPort = (s: ServingSeal) => s.address.split(':').at(-1);
    const args = [
      'run', '--teacher', teacher.address, '--students', `localhost:${studentPort(byName!)},${byIp!.address}`,
      '--model', model, '--config', config, '--rounds', '1', '--passages', '4', '--self-edits', '2', '--test-passages', '2', '--out', runDir,
    ];

    const first = await runUntil(args, env, /round 1: evaluate done/);
    expect(first.killed, first.output).toBe(true);
    const resumed = await runSeal(['run', '--resume', runDir], env, 600_000);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/seal-round-1 +\d+\.\d%/);

    // Both students did the round's work: the name and the IP are two members.
    const journal = Journal.open(runDir);
    let traceparent: string;
    try {
      const studentIds = new Set(journal.evaluations(1).map((e) => e.studentId));
      expect(studentIds.size, [...studentIds].join(', ')).toBe(2);
      traceparent = journal.meta(RUN_TRACE_PARENT)!;
    } finally {
      journal.close();
    }
    for (const s of servers) await s.stop('SIGTERM');

    const summary = await runSeal(['trace', runDir, '--summary'], {}, 120_000);
    expect(summary.code, summary.stderr).toBe(0);
    const lines = summary.stdout.trim().split('\n').map((l) => /^(\S+)\t(\d+) spans\ttraces=([0-9a-f,]+)$/.exec(l));
    expect(lines.every(Boolean), summary.stdout).toBe(true);
    expect(lines.map((m) => m![1])).toEqual(['seal-cli', 'seal-student', 'seal-teacher']);
    const traceId = traceparent.split('-')[1]!;
    for (const m of lines) expect(m![3], summary.stdout).toBe(traceId);

    // The resumed session's root continues the first session's (which a SIGKILL never let end).
    const all = readSpanDirectory(spans);
    const roots = all.filter((s) => s.name === 'run seal');
    const firstRootId = traceparent.split('-')[2];
    const resumedRoot = roots.find((s) => s.attributes['seal.resumed'] === true)!;
    expect(resumedRoot.parentSpanId).toBe(firstRootId);
    // …and its work reached both students and the teacher (table evaluations, pushes, generation).
    const pids = new Set(all.filter((s) => s.kind === 'SERVER').map((s) => s.pid));
    for (const s of servers) expect(pids.has(s.child.pid!)).toBe(true);
  }, 900_000);
});
