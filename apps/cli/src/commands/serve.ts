/**
 * @file `seal serve teacher|student`: runs one service until SIGTERM/SIGINT, then drains
 * (health NOT_SERVING → finish in-flight calls → force after the shutdown timeout).
 * Prints `listening on HOST:PORT` once ready, so scripts and tests can use port 0. The service runs
 * the real in-process role on a model folder (`--model`, `model.path`, else the embedded
 * models/tiny-world); with `--no-model` it answers Info only (the loop RPCs say FAILED_PRECONDITION:
 * this role serves no model).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfigFile, parseConfig, shutdownOnSignals, type RunningServer } from '@seal/rpc';
import { serveStudent, studentConfigSchema } from '@seal/student';
import { serveTeacher, teacherConfigSchema } from '@seal/teacher';
import { flushTelemetry } from '@seal/telemetry';
import { EMBEDDED_MODEL_DIR } from '../embedded-model';

interface ServeOptions {
  config?: string;
  /** A folder; false for `--no-model` (Info-only service); true (commander's default for a negatable option) when unset. */
  model?: string | boolean;
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

/** A serving role: the server, and what to release after it stops. */
export interface Serving {
  server: RunningServer;
  release(): Promise<void>;
}

function modelDirFor(option: string | boolean | undefined, configured: string | undefined): string | undefined {
  if (option === false) return undefined;
  if (typeof option === 'string') return option;
  return configured || (existsSync(join(EMBEDDED_MODEL_DIR, 'config.json')) ? EMBEDDED_MODEL_DIR : undefined);
}

const storeFor = (configured: string, role: string) => configured || mkdtempSync(join(tmpdir(), `seal-${role}-store-`));

export async function serve(role: 'teacher' | 'student', options: ServeOptions): Promise<Serving> {
  if (role === 'teacher') {
    const config = withOverrides(options.config ? loadConfigFile(options.config, teacherConfigSchema) : parseConfig({}, teacherConfigSchema), options);
    const modelDir = modelDirFor(options.model, config.model.path);
    if (!modelDir) return { server: await serveTeacher(config), release: async () => {} };
    // Loaded only when serving a model: the engine and onnxruntime are heavy to import.
    const { InProcessTeacher } = await import('@seal/coordinator/in-process');
    const teacher = new InProcessTeacher({ modelDir, storeDir: storeFor(config.checkpointDir, 'teacher') });
    await teacher.info(); // fails here, in one line, if the model folder is unusable
    return { server: await serveTeacher({ ...config, model: { ...config.model, path: modelDir } }, teacher), release: () => teacher.release() };
  }
  const config = withOverrides(options.config ? loadConfigFile(options.config, studentConfigSchema) : parseConfig({}, studentConfigSchema), options);
  const modelDir = modelDirFor(options.model, config.model.path);
  if (!modelDir) return { server: await serveStudent(config), release: async () => {} };
  const [{ InProcessStudent }, { createRuntime }] = await Promise.all([import('@seal/coordinator/in-process'), import('@seal/engine')]);
  // One ORT thread per worker: `workers` evaluations run side by side.
  const runtime = createRuntime({ intraOpThreads: 1, workers: config.workers });
  const student = new InProcessStudent({ modelDir, storeDir: storeFor(config.storeDir, 'student'), studentId: config.studentId ?? `${hostname()}-${process.pid}`, capacity: config.workers, runtime });
  await student.info();
  const server = await serveStudent({ ...config, model: { ...config.model, path: modelDir } }, student);
  return {
    server,
    release: async () => {
      await student.release();
      await runtime.release();
    },
  };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the TeacherService or StudentService over gRPC until SIGTERM')
    .addArgument(program.createArgument('<role>', 'which service').choices(['teacher', 'student']))
    .option('--config <file>', 'YAML or JSON config (server, model, workers…)')
    .option('--model <dir>', 'model folder (config.json, model.safetensors, tokenizer.json) to serve; default: the embedded models/tiny-world')
    .option('--no-model', 'serve without a model: health and Info only, the loop RPCs answer FAILED_PRECONDITION')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .addOption(new Option('--port <port>', 'port to listen on; 0 picks a free one (default 50051 teacher, 50052 student)').argParser(integerIn(0, 65535)))
    .addOption(new Option('--max-message-bytes <bytes>', 'largest request or response (default 32 MiB)').argParser(integerIn(1024, 2 ** 31 - 1)))
    .action(async (role: 'teacher' | 'student', options: ServeOptions) => {
      const { server, release } = await serve(role, options);
      console.log(`listening on ${server.address}`);
      shutdownOnSignals(server, (how, signal) => {
        console.log(`stopped (${signal}, ${how})`);
        void release()
          .then(flushTelemetry)
          .finally(() => process.exit(0));
      });
    });
}
