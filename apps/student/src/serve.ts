/** @file Starts a StudentService server from a config: the entry point behind `seal serve student`. */
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { Student } from '@seal/coordinator';
import { StudentServiceService } from '@seal/proto';
import { DEFAULT_STUDENT_PORT, startServer, type RunningServer } from '@seal/rpc';
import type { StudentConfig } from './config';
import { createStudentService } from './student-service';

export const STUDENT_VERSION: string = createRequire(import.meta.url)('../package.json').version;

/** Starts serving; the returned server's `port` is the bound one (useful with port 0). */
export async function serveStudent(config: StudentConfig, student?: Student): Promise<RunningServer> {
  const startedAt = Date.now();
  // The service needs the bound port for its default id, and the server needs the service: resolve lazily.
  let studentId = config.studentId ?? '';
  const service = createStudentService({
    config,
    get studentId() {
      return studentId;
    },
    student,
    version: STUDENT_VERSION,
    hostname: hostname(),
    startedAt,
  });
  const server = await startServer({
    host: config.server.host,
    port: config.server.port ?? DEFAULT_STUDENT_PORT,
    maxMessageBytes: config.server.maxMessageBytes,
    shutdownTimeoutMs: config.server.shutdownTimeoutMs,
    tls: config.server.tls,
    token: config.server.token ?? process.env.SEAL_TOKEN,
    allowInsecure: config.server.allowInsecure,
    services: [{ name: 'seal.v1.StudentService', definition: StudentServiceService, implementation: service }],
  });
  studentId ||= `${hostname()}:${server.port}`;
  return server;
}
