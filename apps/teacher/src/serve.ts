/** @file Starts a TeacherService server from a config: the entry point behind `seal serve teacher`. */
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { Teacher } from '@seal/coordinator';
import { TeacherServiceService } from '@seal/proto';
import { DEFAULT_TEACHER_PORT, startServer, type RunningServer } from '@seal/rpc';
import type { TeacherConfig } from './config';
import { createTeacherService } from './teacher-service';

export const TEACHER_VERSION: string = createRequire(import.meta.url)('../package.json').version;

/** Starts serving; the returned server's `port` is the bound one (useful with port 0). */
export async function serveTeacher(config: TeacherConfig, teacher?: Teacher): Promise<RunningServer> {
  const service = createTeacherService({ config, teacher, version: TEACHER_VERSION, hostname: hostname(), startedAt: Date.now() });
  return startServer({
    host: config.server.host,
    port: config.server.port ?? DEFAULT_TEACHER_PORT,
    maxMessageBytes: config.server.maxMessageBytes,
    shutdownTimeoutMs: config.server.shutdownTimeoutMs,
    tls: config.server.tls,
    token: config.server.token ?? process.env.SEAL_TOKEN,
    allowInsecure: config.server.allowInsecure,
    services: [{ name: 'seal.v1.TeacherService', definition: TeacherServiceService, implementation: service }],
  });
}
