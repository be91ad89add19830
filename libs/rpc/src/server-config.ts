/**
 * @file The `server:` section every service config file shares (host, port, message size, TLS,
 * token, shutdown), and loading a config file (YAML or JSON) against a zod schema with one-line
 * errors that name the file and the field.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RpcError } from './errors';
import { DEFAULT_HOST, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_SHUTDOWN_TIMEOUT_MS } from './server';

export const serverConfigSchema = z
  .object({
    host: z.string().min(1).default(DEFAULT_HOST),
    /** Filled by each role's default port when absent. */
    port: z.number().int().min(0).max(65535).optional(),
    maxMessageBytes: z.number().int().min(1024).default(DEFAULT_MAX_MESSAGE_BYTES),
    shutdownTimeoutMs: z.number().int().min(0).default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
    tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1), clientCaFile: z.string().min(1).optional() }).strict().optional(),
    /** Shared bearer token; prefer the SEAL_TOKEN environment variable over writing it in a file. */
    token: z.string().min(8).optional(),
    allowInsecure: z.boolean().default(false),
  })
  .strict();
export type ServerConfig = z.infer<typeof serverConfigSchema>;

/** Reads `path` (YAML or JSON; YAML is a superset) and validates it; every failure is one line naming the file. */
export function loadConfigFile<S extends z.ZodType>(path: string, schema: S): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RpcError('invalid_argument', `config ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new RpcError('invalid_argument', `config ${path}: not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseConfig(raw, schema, `config ${path}`);
}

/** Validates an already-parsed config; `source` prefixes the one-line error. */
export function parseConfig<S extends z.ZodType>(raw: unknown, schema: S, source = 'config'): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  throw new RpcError('invalid_argument', `${source}: ${field}: ${issue.message}`);
}
