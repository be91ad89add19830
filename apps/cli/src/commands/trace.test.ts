/**
 * @file `seal trace` on spans written by real processes: a `seal serve student` child and a
 * `seal info` client, both with telemetry preloaded and SEAL_TRACE_DIR set, give one trace across
 * the two services; bad input (missing folder, no span files, corrupted lines) is handled.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trace } from './trace';

const root = join(import.meta.dirname, '..', '..', '..', '..');
/** The root `seal` script: node with tsx and the telemetry SDK preloaded. */
const SEAL = ['--import', 'tsx', '--import', './libs/telemetry/src/register.ts', 'apps/cli/src/main.ts'];
const tmp = mkdtempSync(join(tmpdir(), 'seal-trace-'));
const run = join(tmp, 'run');
const spansDir = join(run, 'spans');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function seal(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...SEAL, ...args], { cwd: root, env: { ...childEnv(), ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete env.OTEL_SERVICE_NAME;
  return env;
}

beforeAll(async () => {
  mkdirSync(spansDir, { recursive: true });
  const env = { SEAL_TRACE_DIR: spansDir };
  const student = spawn(process.execPath, [...SEAL, 'serve', 'student', '--port', '0'], { cwd: root, env: { ...childEnv(), ...env } });
  let stderr = '';
  student.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => student.on('exit', () => resolve()));
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let seen = '';
      student.stdout.on('data', (d) => {
        seen += d;
        const match = /^listening on (\S+)$/m.exec(seen);
        if (match) resolve(match[1]!);
      });
      student.on('exit', (code) => reject(new Error(`seal serve student exited (${code}): ${stderr}`)));
    });
    const info = await seal(['info', address], env);
    expect(info.code, info.stderr).toBe(0);
  } finally {
    student.kill('SIGTERM');
    await exited;
  }
}, 120_000);

describe('seal trace', () => {
  it('--summary prints one line per service with its span count and the one trace id both share', async () => {
    const res = await seal(['trace', run, '--summary']);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines.map((l) => l.split('\t')[0])).toEqual(['seal-cli', 'seal-student']);
    const parsed = lines.map((l) => /^(\S+)\t(\d+) spans\ttraces=([0-9a-f,]+)$/.exec(l));
    expect(parsed.every(Boolean), res.stdout).toBe(true);
    for (const m of parsed) expect(Number(m![2])).toBeGreaterThan(0);
    // `seal info` makes one traced Info call: the client's trace id reaches the student's server span.
    const cliTraces = parsed[0]![3]!.split(',');
    const studentTraces = parsed[1]![3]!.split(',');
    expect(cliTraces).toHaveLength(1);
    expect(studentTraces).toEqual(cliTraces);
  });

  it('writes a self-contained HTML waterfall with the cross-process tree and its critical path', () => {
    const out = join(tmp, 'w.html');
    const res = trace(run, { spans: [], out });
    expect(res.warnings).toEqual([]);
    expect(res.stdout).toContain('1 trace(s)');
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(html).toContain('query info');
    expect(html).toContain('grpc.seal.v1.StudentService/Info');
    expect(html).toContain('seal-student');
    // The root and the server span it waited for are both on the critical path.
    expect((html.match(/class="span critical"/g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(html).toContain('Per-phase totals');
  });

  it('skips corrupted lines with a warning count and still draws', () => {
    const copy = join(tmp, 'corrupt');
    mkdirSync(copy);
    for (const name of readdirSync(spansDir).filter((n) => n.endsWith('.jsonl'))) appendFileSync(join(copy, name), readFileSync(join(spansDir, name)));
    appendFileSync(join(copy, 'seal-student-1.jsonl'), '{"traceId": "oops"\nnot json\n{"half":');
    const res = trace(undefined, { spans: [copy], summary: true });
    expect(res.warnings.join('\n')).toMatch(/skipped 3 corrupted line\(s\)/);
    expect(res.stdout).toContain('seal-student');
  });

  it('names the problem for a missing directory and a folder without span files', () => {
    expect(() => trace(join(tmp, 'nope'), { spans: [] })).toThrow(`${join(tmp, 'nope')}: no such directory`);
    expect(() => trace(undefined, { spans: [join(tmp, 'nope')] })).toThrow(`--spans ${join(tmp, 'nope')}: no such directory`);
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    expect(() => trace(empty, { spans: [] })).toThrow(/no span files .*pass --spans DIR/);
  });
});
