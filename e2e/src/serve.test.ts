/**
 * @file `seal serve student` as a child process: health, Info and reflection over real gRPC, a
 * malformed request named in INVALID_ARGUMENT, one trace across a CLI client process and the
 * server process, and a graceful stop on SIGTERM.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as pb from '@seal/proto';
import { checkHealth } from '@seal/rpc';
import { readSpanDirectory } from '@seal/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listServices } from './reflection';
import { runSeal, serveSeal, type ServingSeal } from './seal-process';

const traceDir = mkdtempSync(join(tmpdir(), 'seal-e2e-traces-'));
let student: ServingSeal;

beforeAll(async () => {
  student = await serveSeal('student', [], { SEAL_TRACE_DIR: traceDir });
}, 180_000);
afterAll(async () => {
  if (student.child.exitCode === null) await student.stop('SIGKILL');
  rmSync(traceDir, { recursive: true, force: true });
});

describe('seal serve student (child process)', () => {
  it('prints a parseable listening line and reports SERVING', async () => {
    expect(student.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await checkHealth(student.address)).toBe('SERVING');
    expect(await checkHealth(student.address, 'seal.v1.StudentService')).toBe('SERVING');
  });

  it('answers Info over gRPC, serving the embedded tiny-world model by default', async () => {
    const client = new pb.StudentServiceClient(student.address, grpc.credentials.createInsecure());
    const info = await new Promise<pb.StudentServiceInfoResponse>((resolve, reject) => client.info({}, (e, r) => (e ? reject(e) : resolve(r))));
    client.close();
    expect(info.capacity).toBe(1);
    // No --model: the embedded models/tiny-world (a Llama) is loaded, its base checkpoint held.
    expect(info.model?.name).toBe('llama');
    expect(info.loadedCheckpoints).toHaveLength(1);
    expect(info.loadedCheckpoints[0]!.id).toMatch(/^base-[0-9a-f]{12}$/);
    expect(info.server?.pid).toBe(student.child.pid);
    // A model-serving student names itself by host and process (serve.ts), unique per replica.
    expect(info.studentId).toBe(`${hostname()}-${student.child.pid}`);
  });

  it('lists its services through reflection, as grpcurl list would', async () => {
    expect(await listServices(student.address)).toEqual(['seal.v1.StudentService']);
  });

  it('answers a malformed request with INVALID_ARGUMENT naming the field', async () => {
    const client = new pb.StudentServiceClient(student.address, grpc.credentials.createInsecure());
    const request = pb.EvaluateRequest.fromPartial({ idempotencyKey: 'k', baseCheckpoint: { id: 'c', sha256: 'f'.repeat(64), sizeBytes: 0 } });
    const error = await new Promise<grpc.ServiceError>((resolve) => client.evaluate(request, (e) => resolve(e!)));
    client.close();
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toBe('context is required');
  });

  it('puts a CLI client call and the server handler, in two processes, in one trace', async () => {
    const cli = await runSeal(['info', student.address], { SEAL_TRACE_DIR: traceDir });
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout).student.capacity).toBe(1);
    expect(readdirSync(traceDir).some((f) => f.startsWith('seal-cli-'))).toBe(true);
    // The server writes each span as it ends, so its file is complete without stopping it.
    const spans = readSpanDirectory(traceDir).filter((s) => s.name === 'grpc.seal.v1.StudentService/Info' || s.name === 'query info');
    const root = spans.find((s) => s.name === 'query info' && s.service === 'seal-cli')!;
    expect(root).toBeDefined();
    const client = spans.find((s) => s.kind === 'CLIENT' && s.traceId === root.traceId)!;
    const server = spans.find((s) => s.kind === 'SERVER' && s.traceId === root.traceId)!;
    expect(client.parentSpanId).toBe(root.spanId);
    expect(server.parentSpanId).toBe(client.spanId);
    expect(server.service).toBe('seal-student');
    expect(server.pid).toBe(student.child.pid);
    expect(client.pid).not.toBe(server.pid);
    expect(server.attributes['rpc.grpc.status_code']).toBe(0);
  });

  it('drains and exits 0 on SIGTERM', async () => {
    const result = await student.stop('SIGTERM');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('stopped (SIGTERM, graceful)');
    expect(result.stderr).toBe('');
    await expect(checkHealth(student.address, '', 500)).rejects.toThrow();
  });
});
