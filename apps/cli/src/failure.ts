/** @file What every command shares: the CLI version and how a failure is printed (one line, no stack). */
import { createRequire } from 'node:module';

export const CLI_VERSION: string = createRequire(import.meta.url)('../package.json').version;

/** The one-line description of a failure, for stderr. */
export function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] || (error instanceof Error ? error.name : 'unknown failure');
}
