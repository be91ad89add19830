/**
 * @file Public API of @seal/rpc: gRPC handler adapters, the error-code ⇄ status table, the server
 * builder (health, reflection, shutdown, TLS, token), and proto ⇄ domain conversion.
 */
export { bidiStream, clientStream, notYetImplemented, serverStream, unary, type CallContext } from './adapters';
export { invalidArgument, RpcError } from './errors';
export { ERROR_DETAILS_KEY, fromServiceError, RemoteError, STATUS_BY_CODE, toStatus } from './status';
export {
  DEFAULT_HOST,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_STUDENT_PORT,
  DEFAULT_TEACHER_PORT,
  shutdownOnSignals,
  startServer,
  type RunningServer,
  type ServerOptions,
  type ServiceBinding,
  type TlsOptions,
} from './server';
export { checkHealth, waitForServing } from './health';
export { loadConfigFile, parseConfig, serverConfigSchema, type ServerConfig } from './server-config';
export { type RemoteOptions } from './client-calls';
export { RemoteStudent, loadIdempotencyKey } from './remote-student';
export { RemoteTeacher } from './remote-teacher';
export { DnsStudentGroup, parseStudentAddress, remoteStudentSources, type ResolveHost } from './student-group';
export * as fromProto from './from-proto';
export * as toProto from './to-proto';
