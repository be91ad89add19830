/** @file How a process is named in traces, and where its span files go (read by ./register). */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `seal serve student` → seal-student; any other `seal …` command → seal-cli. */
export function serviceNameFromArgv(argv: readonly string[]): string {
  const serve = argv.indexOf('serve');
  const role = serve >= 0 ? argv[serve + 1] : undefined;
  return role === 'teacher' || role === 'student' ? `seal-${role}` : 'seal-cli';
}

/** Where span and metric files go; read at every export so a command may set it after preload. */
export function traceDirectory(): string {
  return process.env.SEAL_TRACE_DIR || join(tmpdir(), 'seal-traces');
}
