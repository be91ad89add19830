/**
 * @file `seal serve teacher|student`: runs one service until SIGTERM/SIGINT, then drains
 * (health NOT_SERVING → finish in-flight calls → force after the shutdown timeout).
 * Prints `listening on HOST:PORT` once ready, so scripts and tests can use port 0.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfigFile, parseConfig, shutdownOnSignals, type RunningServer } from '@seal/rpc';
import { serveStudent, studentConfigSchema } from '@seal/student';
import { serveTeacher, teacherConfigSchema } from '@seal/teacher';
import { flushTelemetry } from '@seal/telemetry';

interface ServeOptions {
  config?: string;
  host?: string;
  port?: number;
  maxMessageBytes?: number;
}

/** A commander parser for an integer option within [min, max]. */
export function integerIn(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    return n;
  };
}

/** Flags override the config file's `server:` section. */
function withOverrides<C extends { server: { host: string; port?: number; maxMessageBytes: number } }>(config: C, options: ServeOptions): C {
  return {
    ...config,
    server: {
      ...config.server,
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.maxMessageBytes !== undefined ? { maxMessageBytes: options.maxMessageBytes } : {}),
    },
  };
}

export async function serve(role: 'teacher' | 'student', options: ServeOptions): Promise<RunningServer> {
  if (role === 'teacher') {
    const config = options.config ? loadConfigFile(options.config, teacherConfigSchema) : parseConfig({}, teacherConfigSchema);
    return serveTeacher(withOverrides(config, options));
  }
  const config = options.config ? loadConfigFile(options.config, studentConfigSchema) : parseConfig({}, studentConfigSchema);
  return serveStudent(withOverrides(config, options));
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the TeacherService or StudentService over gRPC until SIGTERM')
    .addArgument(program.createArgument('<role>', 'which service').choices(['teacher', 'student']))
    .option('--config <file>', 'YAML or JSON config (server, model, workers…)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .addOption(new Option('--port <port>', 'port to listen on; 0 picks a free one (default 50051 teacher, 50052 student)').argParser(integerIn(0, 65535)))
    .addOption(new Option('--max-message-bytes <bytes>', 'largest request or response (default 32 MiB)').argParser(integerIn(1024, 2 ** 31 - 1)))
    .action(async (role: 'teacher' | 'student', options: ServeOptions) => {
      const server = await serve(role, options);
      console.log(`listening on ${server.address}`);
      shutdownOnSignals(server, (how, signal) => {
        console.log(`stopped (${signal}, ${how})`);
        void flushTelemetry().finally(() => process.exit(0));
      });
    });
}
