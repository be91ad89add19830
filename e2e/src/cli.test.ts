/** @file The `seal` command's surface as a user meets it: help, version, and bad input as one line on stderr with exit 1. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSeal, type SealResult } from './seal-process';

const dir = mkdtempSync(join(tmpdir(), 'seal-e2e-cli-'));
let blocker: Server;
let busyPort: number;
const results: Record<string, SealResult> = {};

/** The one-line error contract: exit 1, nothing on stdout, exactly one stderr line, no stack. */
function expectOneLineError(result: SealResult, message: string | RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(typeof message === 'string' ? new RegExp(`^seal: error: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) : message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

beforeAll(async () => {
  blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  busyPort = (blocker.address() as { port: number }).port;
  const badYaml = join(dir, 'bad.yaml');
  writeFileSync(badYaml, 'server:\n  port: [1\n');
  const badField = join(dir, 'bad-field.yaml');
  writeFileSync(badField, 'workers: 0\n');
  // Independent processes, two at a time: more would only fight over this machine's cores.
  const runs: [string, string[]][] = [
    ['help', ['--help']],
    ['version', ['version']],
    ['unknown', ['frobnicate']],
    ['badRole', ['serve', 'wizard']],
    ['busy', ['serve', 'student', '--port', String(busyPort)]],
    ['badYaml', ['serve', 'teacher', '--config', badYaml]],
    ['badField', ['serve', 'student', '--config', badField]],
    ['badPort', ['serve', 'student', '--port', '70000']],
  ];
  const next = async (): Promise<void> => {
    const run = runs.shift();
    if (!run) return;
    results[run[0]] = await runSeal(run[1], {}, 180_000);
    await next();
  };
  await Promise.all([next(), next()]);
}, 900_000);
afterAll(() => {
  blocker.close();
});

describe('seal CLI', () => {
  it('--help lists the commands', () => {
    expect(results.help.code).toBe(0);
    for (const command of ['demo', 'info', 'serve', 'version']) expect(results.help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('version prints the versions', () => {
    expect(results.version.code).toBe(0);
    expect(results.version.stdout).toMatch(/^seal \d+\.\d+\.\d+\ncontracts seal\.v1\.TeacherService, seal\.v1\.StudentService\nnode v\d+/);
  });

  it('rejects an unknown subcommand or role in one line', () => {
    expectOneLineError(results.unknown, "unknown command 'frobnicate'");
    expectOneLineError(results.badRole, "command-argument value 'wizard' is invalid for argument 'role'. Allowed choices are teacher, student.");
    expectOneLineError(results.badPort, "option '--port <port>' argument '70000' is invalid. expected an integer in 0..65535");
  });

  it('reports a busy port in one line', () => {
    expectOneLineError(results.busy, `cannot listen on 127.0.0.1:${busyPort}: address already in use`);
  });

  it('reports a malformed config file in one line naming the file and field', () => {
    expectOneLineError(results.badYaml, `config ${join(dir, 'bad.yaml')}: not valid YAML or JSON`);
    expectOneLineError(results.badField, `config ${join(dir, 'bad-field.yaml')}: workers: Too small`);
  });
});
