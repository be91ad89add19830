/**
 * @file Starts and stops student (and teacher) processes on loopback for the load tool, and reads their
 * resident memory: each is `student-server.ts` in its own node process (tsx loader, telemetry off
 * so the numbers measure serving, not tracing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const FIXTURE_MODEL = join(REPO_ROOT, 'libs/model/src/fixtures/llama-fp32');

export interface StudentProcess {
  address: string;
  child: ChildProcess;
  /** Resident set size in bytes, from /proc (Linux). */
  rssBytes(): number;
  alive(): boolean;
  stop(): Promise<void>;
}

export interface FleetOptions {
  threads: number;
  workers: number;
  maxMessageBytes: number;
}

/** A scratch folder with the fixture model (context widened: RoPE has no learned positions). */
export function prepareWorkdir(): { root: string; modelDir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'seal-load-'));
  const modelDir = join(root, 'model');
  cpSync(FIXTURE_MODEL, modelDir, { recursive: true });
  const hf = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(modelDir, 'config.json'), JSON.stringify({ ...hf, max_position_embeddings: 384 }));
  return { root, modelDir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(match[1]) * 1024;
}

export async function startStudent(modelDir: string, storeDir: string, options: FleetOptions): Promise<StudentProcess> {
  mkdirSync(storeDir, { recursive: true });
  return startServerProcess('student', [join(REPO_ROOT, 'tools/load/src/student-server.ts'), modelDir, storeDir, String(options.threads), String(options.workers), String(options.maxMessageBytes)]);
}

/**
 * A teacher process for the hostile part: `seal serve teacher` itself (one ORT thread) on the
 * model, its store in `storeDir`, with the same life cycle as a student's.
 */
export async function startTeacher(modelDir: string, storeDir: string, maxMessageBytes: number): Promise<StudentProcess> {
  mkdirSync(storeDir, { recursive: true });
  const config = join(storeDir, 'teacher.json');
  writeFileSync(config, JSON.stringify({ checkpointDir: storeDir }));
  const cli = join(REPO_ROOT, 'apps/cli/src/main.ts');
  return startServerProcess('teacher', [cli, 'serve', 'teacher', '--config', config, '--model', modelDir, '--port', '0', '--max-message-bytes', String(maxMessageBytes)]);
}

async function startServerProcess(what: string, scriptArgs: string[]): Promise<StudentProcess> {
  const args = ['--import', 'tsx', ...scriptArgs];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, SEAL_TELEMETRY: 'off' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const address = await new Promise<string>((resolvePromise, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not listen within 120 s: ${stderr}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      seen += d;
      const match = /^listening on (\S+)$/m.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before listening: ${stderr}`));
    });
  });
  return {
    address,
    child,
    rssBytes: () => rssOf(child.pid!),
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export async function startFleet(count: number, modelDir: string, root: string, options: FleetOptions): Promise<StudentProcess[]> {
  // One at a time: start-up compiles graphs, and parallel starts only fight over two cores.
  const fleet: StudentProcess[] = [];
  for (let i = 0; i < count; i++) fleet.push(await startStudent(modelDir, join(root, `store-${i}-${Date.now()}`), options));
  return fleet;
}
