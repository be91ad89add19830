/**
 * @file Runs the real `seal` command as a child process, exactly as the root script does
 * (node with the tsx loader and telemetry preloaded), for cross-process tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
/** One node process with tsx's loader (not the tsx wrapper, which would fork a second process). */
const NODE = process.execPath;
const SEAL_ARGS = ['--import', 'tsx', '--import', './libs/telemetry/src/register.ts', 'apps/cli/src/main.ts'];

export interface SealResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a child: ours minus anything that would send its telemetry elsewhere. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  delete base.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete base.OTEL_SERVICE_NAME;
  return { ...base, ...env };
}

/** Runs `seal …args` to completion. */
export function runSeal(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<SealResult> {
  const child = spawn(NODE, [...SEAL_ARGS, ...args], { cwd: REPO_ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  return collect(child, timeoutMs);
}

function collect(child: ChildProcess, timeoutMs: number): Promise<SealResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`seal did not exit within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // 'exit' can precede the last 'data' events; give the pipes a moment to drain.
      setImmediate(() => resolvePromise({ code, signal, stdout, stderr }));
    });
  });
}

/** A `seal serve …` child that printed its `listening on HOST:PORT` line. */
export interface ServingSeal {
  child: ChildProcess;
  address: string;
  /** Sends `signal` and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<SealResult>;
}

/** Starts `seal serve <role> --port 0 …` and resolves once it is listening. */
export function serveSeal(role: 'teacher' | 'student', extraArgs: string[] = [], env: Record<string, string> = {}, readyTimeoutMs = 150_000): Promise<ServingSeal> {
  const child = spawn(NODE, [...SEAL_ARGS, 'serve', role, '--port', '0', ...extraArgs], { cwd: REPO_ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const finished = collect(child, 10 * 60_000);
  return new Promise((resolvePromise, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`seal serve ${role} did not print "listening on" within ${readyTimeoutMs} ms: ${seen}`));
    }, readyTimeoutMs);
    const onData = (d: Buffer) => {
      seen += d;
      const match = /^listening on (\S+)$/m.exec(seen);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolvePromise({
        child,
        address: match[1],
        stop: (signal = 'SIGTERM') => {
          child.kill(signal);
          return finished;
        },
      });
    };
    child.stdout!.on('data', onData);
    void finished.then((result) => {
      clearTimeout(timer);
      reject(new Error(`seal serve ${role} exited before listening (code ${result.code}): ${result.stderr}`));
    });
  });
}
