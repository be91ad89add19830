/** @file TLS and mutual TLS on the server builder, with test-only certificates from testdata/tls/generate.sh. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as pb from '@seal/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unary } from './adapters';
import { RemoteStudent } from './remote-student';
import { startServer, type RunningServer } from './server';

const TLS = join(import.meta.dirname, 'testdata/tls');
const file = (name: string) => join(TLS, name);
const read = (name: string) => readFileSync(file(name));

const service = {
  info: unary(async () => pb.StudentServiceInfoResponse.fromPartial({ studentId: 'tls', capacity: 1 })),
  evaluate: unary(async () => pb.EvaluateResponse.fromPartial({})),
  evaluateStream: unary(async () => pb.EvaluateStreamResponse.fromPartial({})),
  loadCheckpoint: unary(async () => pb.LoadCheckpointResponse.fromPartial({})),
} as unknown as pb.StudentServiceServer;

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    tls: { certFile: file('server.pem'), keyFile: file('server-key.pem'), clientCaFile: file('ca.pem') },
    services: [{ name: 'seal.v1.StudentService', definition: pb.StudentServiceService, implementation: service }],
  });
});
afterAll(async () => {
  await server.shutdown();
});

describe('mutual TLS', () => {
  it('serves a client that presents a certificate signed by the configured CA', async () => {
    const client = new RemoteStudent(server.address, { credentials: grpc.credentials.createSsl(read('ca.pem'), read('client-key.pem'), read('client.pem')) });
    expect((await client.info()).studentId).toBe('tls');
    client.close();
  });

  it('refuses a client without a certificate, and a plaintext client', async () => {
    const anonymous = new RemoteStudent(server.address, { credentials: grpc.credentials.createSsl(read('ca.pem')) });
    await expect(anonymous.info({ deadline: Date.now() + 3000 })).rejects.toMatchObject({ code: 'unavailable' });
    anonymous.close();
    const plaintext = new RemoteStudent(server.address);
    await expect(plaintext.info({ deadline: Date.now() + 3000 })).rejects.toMatchObject({ code: expect.stringMatching(/unavailable|deadline_exceeded/) });
    plaintext.close();
  });

  it('names an unreadable certificate file in one line', async () => {
    await expect(startServer({ port: 0, tls: { certFile: file('missing.pem'), keyFile: file('server-key.pem') }, services: [] })).rejects.toThrow(
      `cannot read tls.certFile ${file('missing.pem')}: ENOENT`,
    );
  });
});
