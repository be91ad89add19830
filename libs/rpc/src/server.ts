/**
 * @file Builds a SEAL gRPC server: our services plus standard health checking and reflection,
 * host/port/max-message-size/TLS/token options, and graceful shutdown
 * (health NOT_SERVING → refuse new calls with UNAVAILABLE → tryShutdown → forceShutdown).
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { reflectionPackageDefinition } from '@seal/proto';
import { HealthImplementation } from 'grpc-health-check';
import { MALFORMED_REQUEST, SHUTDOWN_SIGNAL, type MalformedRequest } from './adapters';
import { findInvalidUtf8, strictUtf8Reader } from './strict-utf8';
import { toStatus } from './status';
import { RpcError } from './errors';

/** Defaults shared by the CLI, the deployment manifests and their test. */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_TEACHER_PORT = 50051;
export const DEFAULT_STUDENT_PORT = 50052;
/** Largest message either way; checkpoints travel in chunks well below it. */
export const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
/** How long in-flight calls get to finish after SIGTERM before they are cancelled. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** One of our services and its implementation. */
export interface ServiceBinding {
  /** Fully qualified name, e.g. "seal.v1.StudentService" (health status is reported under it). */
  name: string;
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

/** TLS for the listening socket; with `clientCaFile` clients must present a certificate (mTLS). */
export interface TlsOptions {
  certFile: string;
  keyFile: string;
  clientCaFile?: string;
}

export interface ServerOptions {
  host?: string;
  /** 0 picks a free port; the bound one is on the returned server. */
  port?: number;
  maxMessageBytes?: number;
  shutdownTimeoutMs?: number;
  tls?: TlsOptions;
  /** When set, every call to our services must carry `authorization: Bearer <token>`. */
  token?: string;
  /** Serve plaintext on a non-loopback address (otherwise refused: use TLS there). */
  allowInsecure?: boolean;
  services: ServiceBinding[];
}

export interface RunningServer {
  host: string;
  port: number;
  /** host:port as clients should dial it. */
  address: string;
  server: grpc.Server;
  health: HealthImplementation;
  /** Drains and stops; resolves 'graceful' or 'forced'. Idempotent. */
  shutdown(): Promise<'graceful' | 'forced'>;
}

/** Time between aborting handlers and tearing connections down on a forced shutdown. */
const FORCE_GRACE_MS = 200;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

/** An error with a string code, for the CLI to print as one line. */
function configError(message: string): RpcError {
  return new RpcError('invalid_argument', message);
}

let loggerInstalled = false;

/**
 * grpc-js logs a failed bind on its own, in a multi-line form, before we report it in one clean
 * line; drop just that message and keep everything else grpc-js has to say.
 */
function installGrpcLogger(): void {
  if (loggerInstalled) return;
  loggerInstalled = true;
  grpc.setLogger({
    error: (...args: unknown[]) => {
      if (!args.some((a) => typeof a === 'string' && a.includes('No address added out of total'))) console.error(...args);
    },
  });
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  installGrpcLogger();
  const host = options.host ?? DEFAULT_HOST;
  const requestedPort = options.port ?? 0;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) throw configError(`port must be an integer in 0..65535, got ${requestedPort}`);
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1024) throw configError(`max message bytes must be an integer ≥ 1024, got ${maxMessageBytes}`);
  if (!options.tls && !LOOPBACK.has(host) && !options.allowInsecure) {
    throw configError(`refusing to serve plaintext on ${host}: configure TLS (tls.certFile/keyFile) or allow insecure serving explicitly`);
  }

  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    // NOTE: grpc-js enables SO_REUSEPORT by default, which lets a second server bind a busy
    // port silently and split traffic with the first; we want "address in use" instead.
    'grpc.so_reuseport': 0,
  });
  let draining = false;
  // Aborted when the drain timeout passes: handlers stop and answer UNAVAILABLE (retry elsewhere)
  // just before forceShutdown tears the connections down.
  const forced = new AbortController();
  const health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries(options.services.map((s) => [s.name, 'SERVING' as const])) });
  health.addToServer(server);
  // Reflection lists only the services this server actually serves (the descriptor set holds both).
  new ReflectionService(reflectionPackageDefinition() as never, { services: options.services.map((s) => s.name) }).addToServer(server);
  for (const service of options.services) {
    server.addService(tolerantDefinition(service.definition), guardImplementation(service, () => draining, forced.signal, options.token));
  }

  const port = await bind(server, host, requestedPort, credentialsFor(options.tls));
  const address = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;

  let stopping: Promise<'graceful' | 'forced'> | undefined;
  const shutdown = () =>
    (stopping ??= new Promise((resolve) => {
      draining = true;
      for (const name of ['', ...options.services.map((s) => s.name)]) health.setStatus(name, 'NOT_SERVING');
      let graceTimer: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        forced.abort(new RpcError('unavailable', 'the server is shutting down; call aborted, retry elsewhere'));
        // One short beat for the aborted handlers' UNAVAILABLE statuses to reach the wire.
        graceTimer = setTimeout(() => {
          server.forceShutdown();
          resolve('forced');
        }, FORCE_GRACE_MS);
      }, shutdownTimeoutMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        clearTimeout(graceTimer);
        // 'forced' whenever in-flight calls had to be aborted, even if they then ended cleanly.
        resolve(forced.signal.aborted ? 'forced' : 'graceful');
      });
    }));
  return { host, port, address, server, health, shutdown };
}

/** Stops `server` on the first of `signals`; `onStopped` runs after (e.g. flush telemetry and exit). */
export function shutdownOnSignals(server: RunningServer, onStopped: (how: 'graceful' | 'forced', signal: NodeJS.Signals) => void, signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
  const handler = (signal: NodeJS.Signals) => {
    for (const s of signals) process.removeListener(s, handler);
    void server.shutdown().then((how) => onStopped(how, signal));
  };
  for (const s of signals) process.on(s, handler);
}

function credentialsFor(tls: TlsOptions | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const read = (label: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw configError(`cannot read ${label} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  const clientCa = tls.clientCaFile ? read('tls.clientCaFile', tls.clientCaFile) : null;
  return grpc.ServerCredentials.createSsl(clientCa, [{ cert_chain: read('tls.certFile', tls.certFile), private_key: read('tls.keyFile', tls.keyFile) }], clientCa !== null);
}

function bind(server: grpc.Server, host: string, port: number, credentials: grpc.ServerCredentials): Promise<number> {
  const target = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) =>
    server.bindAsync(target, credentials, (error, boundPort) => {
      if (!error) return resolve(boundPort);
      const reason = /EADDRINUSE/.test(error.message)
        ? 'address already in use'
        : /EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN/.test(error.message)
          ? 'no such local address'
          : /EACCES/.test(error.message)
            ? 'permission denied'
            : error.message;
      reject(new RpcError('unavailable', `cannot listen on ${target}: ${reason}`));
    }),
  );
}

/**
 * Wraps each deserializer, the one place every request of every service is decoded: undecodable
 * bytes and string fields that are not UTF-8 reach the adapter as a marker (→ INVALID_ARGUMENT
 * naming the field, not INTERNAL, and not text silently altered to U+FFFD).
 */
function tolerantDefinition(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer): unknown => {
          let message: unknown;
          try {
            // ts-proto's decode takes a reader as well as bytes: ours decodes strings strictly.
            message = method.requestDeserialize(strictUtf8Reader(bytes) as unknown as Buffer);
          } catch (error) {
            return malformed(`request could not be decoded: ${(error as Error).message}`);
          }
          const field = findInvalidUtf8(message);
          return field ? malformed(`${field} is not valid UTF-8`, field) : message;
        },
      },
    ]),
  );
}

const malformed = (message: string, field?: string): MalformedRequest => ({ [MALFORMED_REQUEST]: { message, field } });

/** Refuses calls while draining (UNAVAILABLE) or without the shared token (UNAUTHENTICATED), before any handler runs. */
function guardImplementation(service: ServiceBinding, isDraining: () => boolean, forced: AbortSignal, token: string | undefined): grpc.UntypedServiceImplementation {
  const refusal = (metadata: grpc.Metadata): Partial<grpc.StatusObject> | undefined => {
    if (isDraining()) return toStatus(new RpcError('unavailable', `${service.name} is shutting down`));
    if (token !== undefined && metadata.get('authorization')[0] !== `Bearer ${token}`) {
      return { code: grpc.status.UNAUTHENTICATED, details: 'missing or wrong bearer token (authorization metadata)' };
    }
    return undefined;
  };
  return Object.fromEntries(
    Object.entries(service.definition).map(([name, method]) => {
      const handler = service.implementation[name] as (...args: unknown[]) => void;
      if (!handler) throw new Error(`${service.name}: no handler for ${name}`);
      const guarded = (call: grpc.ServerUnaryCall<unknown, unknown>, callback?: grpc.sendUnaryData<unknown>) => {
        const refused = refusal(call.metadata);
        if (!refused) {
          (call as unknown as { [SHUTDOWN_SIGNAL]: AbortSignal })[SHUTDOWN_SIGNAL] = forced;
          return handler(call, callback);
        }
        if (!method.responseStream && callback) return callback(refused);
        (call as unknown as NodeJS.EventEmitter).emit('error', refused);
      };
      return [name, guarded];
    }),
  ) as grpc.UntypedServiceImplementation;
}
