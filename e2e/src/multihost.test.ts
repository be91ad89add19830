/**
 * @file A SEAL run across four hosts: coordinator, teacher and two students each in their own
 * network namespace (veth pairs into a bridge in a fifth, hub namespace; addresses exist only
 * inside these namespaces), one student killed mid-round. The coordinator knows the students by
 * one name resolving to both (the coordinator host's /etc/hosts, via /etc/netns), as behind a
 * headless Service. The round completes (E-step, M-step, push), the journal holds every
 * evaluation exactly once, the table equals a single-process run's with the same seed, and one
 * trace tree covers all four processes. Needs root and `ip netns`; elsewhere it is skipped with
 * the reason in its title.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '@seal/coordinator';
import { DEFAULT_STUDENT_PORT, DEFAULT_TEACHER_PORT } from '@seal/rpc';
import { readSpanDirectory } from '@seal/telemetry';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './seal-process';

const SEAL_ARGS = ['--import', 'tsx', '--import', './libs/telemetry/src/register.ts', 'apps/cli/src/main.ts'];
const suffix = process.pid.toString(36);
const HUB = `seal-hub-${suffix}`;
const HOSTS = ['coord', 'teacher', 'student1', 'student2'] as const;
type Host = (typeof HOSTS)[number];
const nsOf = (host: Host) => `seal-${host}-${suffix}`;
const ipOf = (host: Host) => `10.213.0.${HOSTS.indexOf(host) + 2}`;
/** The name both students answer to on the coordinator's host. */
const STUDENTS_NAME = 'seal-students';
/** `ip netns exec NS` bind-mounts the files of /etc/netns/NS over /etc: the coordinator's own hosts file. */
const netnsEtc = (host: Host) => `/etc/netns/${nsOf(host)}`;

/** Why this machine cannot run the test, or undefined when it can. */
function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces are Linux-only';
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  const probe = `seal-probe-${suffix}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `ip netns is not permitted here (${(error as Error).message.split('\n')[0]})`;
  }
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

function createNetwork(): void {
  ip('netns', 'add', HUB);
  ip('-n', HUB, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', HUB, 'link', 'set', 'br0', 'up');
  HOSTS.forEach((host, i) => {
    const ns = nsOf(host);
    ip('netns', 'add', ns);
    ip('-n', HUB, 'link', 'add', `vh${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('-n', HUB, 'link', 'set', `vh${i}`, 'master', 'br0', 'up');
    ip('-n', ns, 'addr', 'add', `${ipOf(host)}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  });
  mkdirSync(netnsEtc('coord'), { recursive: true });
  writeFileSync(join(netnsEtc('coord'), 'hosts'), `127.0.0.1 localhost\n${ipOf('student1')} ${STUDENTS_NAME}\n${ipOf('student2')} ${STUDENTS_NAME}\n`);
}

function deleteNetwork(): void {
  rmSync(netnsEtc('coord'), { recursive: true, force: true });
  for (const ns of [...HOSTS.map(nsOf), HUB]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone (setup failed part-way)
    }
  }
}

interface HostProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `seal …args` inside `host`'s namespace (ip netns exec execs, so the child's pid is seal's). */
function sealOn(host: Host, args: string[], env: Record<string, string>): HostProcess {
  const child = spawn('ip', ['netns', 'exec', nsOf(host), process.execPath, ...SEAL_ARGS, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitFor(p: HostProcess, pattern: RegExp, what: string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  // Progress lines go to stderr, results to stdout: look at both.
  while (!pattern.test(p.stdout() + p.stderr())) {
    if (p.child.exitCode !== null) throw new Error(`${what} exited (${p.child.exitCode}): ${p.stderr()}`);
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: no ${pattern} within ${timeoutMs} ms: ${p.stdout()} ${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const unavailable = netnsUnavailable();
const tmp = mkdtempSync(join(tmpdir(), 'seal-multihost-'));
const processes: HostProcess[] = [];
afterAll(async () => {
  for (const p of processes) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
    // Still running at teardown: the test stopped early (a timeout); show where each process was.
    console.error(`[${p.child.spawnargs.slice(4, 9).join(' ')}] ${p.stderr().slice(-1500)}`);
    p.child.kill('SIGKILL');
  }
  await Promise.all(processes.map((p) => p.exited));
  if (!unavailable) deleteNetwork();
  rmSync(tmp, { recursive: true, force: true });
});

describe('multi-host run (network namespaces)', () => {
  // The limit covers two whole runs (four hosts, and the single-process reference) on two cores.
  it.skipIf(unavailable)(`coordinator, teacher and two students on four hosts finish the round after a student is killed mid-round, with the single-process table${unavailable ? ` (skipped: ${unavailable})` : ''}`, async () => {
    createNetwork();
    const spans = join(tmp, 'spans');
    const env = { SEAL_TRACE_DIR: spans, NO_COLOR: '1' };
    // Plaintext off loopback must be allowed explicitly; these addresses exist only in our namespaces.
    const config = (port: number) => {
      const file = join(tmp, `server-${port}.yaml`);
      writeFileSync(file, `server:\n  host: 0.0.0.0\n  port: ${port}\n  allowInsecure: true\n`);
      return file;
    };
    const model = ['--model', 'models/tiny-world'];
    const teacher = sealOn('teacher', ['serve', 'teacher', '--config', config(DEFAULT_TEACHER_PORT), ...model], env);
    const student1 = sealOn('student1', ['serve', 'student', '--config', config(DEFAULT_STUDENT_PORT), ...model], env);
    const student2 = sealOn('student2', ['serve', 'student', '--config', config(DEFAULT_STUDENT_PORT), ...model], env);
    processes.push(teacher, student1, student2);
    await Promise.all([teacher, student1, student2].map((p, i) => waitFor(p, /^listening on /m, ['teacher', 'student1', 'student2'][i]!, 120_000)));

    const runDir = join(tmp, 'run');
    const sized = ['--rounds', '1', '--passages', '4', '--self-edits', '2', '--test-passages', '1'];
    const run = sealOn('coord', [
      'run', '--teacher', `${ipOf('teacher')}:${DEFAULT_TEACHER_PORT}`, '--students', `dns:///${STUDENTS_NAME}:${DEFAULT_STUDENT_PORT}`, ...sized, '--out', runDir,
    ], env);
    processes.push(run);
    // The same run in one process (in-process roles, same seed), side by side: the table must be the same.
    const singleDir = join(tmp, 'single');
    const single = sealOn('coord', ['run', '--model', 'models/tiny-world', ...sized, '--out', singleDir], { NO_COLOR: '1', SEAL_TELEMETRY: 'off' });
    processes.push(single);
    // Kill the second student while the round's evaluations are in flight.
    await waitFor(run, /round 1: \d+ evaluations/, 'seal run', 240_000);
    await new Promise((r) => setTimeout(r, 1500));
    student2.child.kill('SIGKILL');
    const runExit = await run.exited;
    // The kill landed while evaluations were in flight: the pool saw the student go down.
    expect(run.stderr()).toMatch(/down \(unavailable/);
    // One name, two pool members: each resolved address joined.
    for (const host of ['student1', 'student2'] as const) {
      expect(run.stderr()).toContain(`student ${ipOf(host)}:${DEFAULT_STUDENT_PORT} joined (dns:///${STUDENTS_NAME}:${DEFAULT_STUDENT_PORT})`);
    }

    // Every self-edit of the round evaluated exactly once (idempotency keys are unique by schema;
    // here no self-edit is missing or evaluated under two keys).
    const journal = Journal.open(runDir);
    try {
      expect(journal.round(1)?.status, `${run.stdout()}\n${run.stderr()}`).toBe('done');
      const edits = journal.selfEdits(1);
      expect(edits).toHaveLength(8);
      const evaluated = journal.evaluations(1).filter((e) => e.kind === 'self_edit');
      expect(evaluated.map((e) => e.selfEditId).sort()).toEqual(edits.map((e) => e.id).sort());
    } finally {
      journal.close();
    }

    // One trace tree: the run's root span, with spans from all four processes linked under it.
    for (const p of [teacher, student1]) p.child.kill('SIGTERM');
    await Promise.all([teacher.exited, student1.exited]);
    const all = readSpanDirectory(spans);
    const root = all.find((s) => s.name === 'run seal' && !s.parentSpanId);
    expect(root, 'a root "run seal" span').toBeDefined();
    const inTrace = all.filter((s) => s.traceId === root!.traceId);
    const byId = new Map(inTrace.map((s) => [s.spanId, s]));
    const reachesRoot = (s: (typeof inTrace)[number]): boolean => {
      for (let at: typeof s | undefined = s, hops = 0; at && hops < 100; at = at.parentSpanId ? byId.get(at.parentSpanId) : undefined, hops++) if (at === root) return true;
      return false;
    };
    const pids = new Set(inTrace.filter(reachesRoot).map((s) => s.pid));
    const expected = [run, teacher, student1, student2].map((p) => p.child.pid);
    expect([...pids].sort()).toEqual(expected.sort());
    // The whole run, table phase included, finished despite the lost student…
    expect(runExit, run.stderr()).toBe(0);
    // …and scored exactly what one process scores with the same seed (issue 7 and 8: same seed, same table).
    expect(await single.exited, single.stderr()).toBe(0);
    const results = (dir: string) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(results(runDir)).toEqual(results(singleDir));
  }, 900_000);
});
