/** @file Adapters and the server builder over real grpc-js on loopback: statuses, deadlines, cancellation, streams, shutdown, auth. */
import { createServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { RpcError } from './errors';
import * as pb from '@seal/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { bidiStream, clientStream, serverStream, unary, type CallContext } from './adapters';
import { checkHealth } from './health';
import { startServer, type RunningServer } from './server';

const insecure = grpc.credentials.createInsecure();
const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.shutdown()));
});

/** What the test handlers saw, so tests can assert that work was aborted. */
const seen: { signal?: AbortSignal; deadline?: number } = {};

function student(overrides: Partial<pb.StudentServiceServer> = {}): pb.StudentServiceServer {
  return {
    info: unary(async (_req, ctx: CallContext) => {
      seen.signal = ctx.signal;
      seen.deadline = ctx.deadline;
      const wait = Number(ctx.metadata.get('wait-ms')[0] ?? 0);
      if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
      return pb.StudentServiceInfoResponse.fromPartial({ capacity: 2, studentId: 's1' });
    }),
    evaluate: unary(async (req) => {
      if (!req.idempotencyKey) throw new RpcError('invalid_argument', 'idempotency_key must be non-empty');
      throw new RpcError('failed_precondition', `checkpoint ${req.baseCheckpoint?.id} is not loaded`, { checkpointId: req.baseCheckpoint?.id });
    }),
    loadCheckpoint: clientStream(async (requests) => {
      let bytes = 0;
      for await (const r of requests) if (r.part?.$case === 'chunk') bytes += r.part.value.data.length;
      return pb.LoadCheckpointResponse.fromPartial({ bytesReceived: bytes });
    }),
    evaluateStream: bidiStream(async function* (requests) {
      for await (const r of requests) yield pb.EvaluateStreamResponse.fromPartial({ idempotencyKey: r.request?.idempotencyKey ?? '' });
    }),
    ...overrides,
  };
}

const teacher: pb.TeacherServiceServer = {
  generateSelfEdits: serverStream(async function* (req) {
    for (let i = 0; i < req.n; i++) yield pb.GenerateSelfEditsResponse.fromPartial({ selfEdit: { index: i, completion: `edit ${i}` } });
  }),
  update: unary(async () => {
    throw new Error('disk on fire');
  }),
  getCheckpoint: serverStream(async function* () {
    yield* [];
  }),
  info: unary(async () => pb.TeacherServiceInfoResponse.fromPartial({})),
  loadCheckpoint: clientStream(async (requests) => {
    for await (const _ of requests);
    return pb.TeacherServiceLoadCheckpointResponse.fromPartial({});
  }),
};

async function serve(options: { token?: string; student?: Partial<pb.StudentServiceServer>; shutdownTimeoutMs?: number } = {}) {
  const server = await startServer({
    port: 0,
    token: options.token,
    shutdownTimeoutMs: options.shutdownTimeoutMs,
    services: [
      { name: 'seal.v1.StudentService', definition: pb.StudentServiceService, implementation: student(options.student) },
      { name: 'seal.v1.TeacherService', definition: pb.TeacherServiceService, implementation: teacher },
    ],
  });
  running.push(server);
  return { server, student: new pb.StudentServiceClient(server.address, insecure), teacher: new pb.TeacherServiceClient(server.address, insecure) };
}

function call<Res>(fn: (cb: (error: grpc.ServiceError | null, response?: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => fn((error, response) => (error ? reject(error) : resolve(response as Res))));
}

/** The error a call failed with; fails the test if it succeeded. */
async function failure(pending: Promise<unknown>): Promise<grpc.ServiceError> {
  return pending.then(
    () => expect.fail('the call succeeded'),
    (error: grpc.ServiceError) => error,
  );
}

describe('adapters and server', () => {
  it('answers unary calls and maps thrown domain codes to statuses with details', async () => {
    const { student } = await serve();
    expect((await call<pb.StudentServiceInfoResponse>((cb) => student.info({}, cb))).capacity).toBe(2);
    await expect(call((cb) => student.evaluate(pb.EvaluateRequest.fromPartial({}), cb))).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'idempotency_key must be non-empty' });
    const error = await failure(call((cb) => student.evaluate(pb.EvaluateRequest.fromPartial({ idempotencyKey: 'k', baseCheckpoint: { id: 'c9' } }), cb)));
    expect(error).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: 'checkpoint c9 is not loaded' });
    expect(error.metadata.get('seal-error-details')[0]).toBe('{"checkpointId":"c9"}');
  });

  it('reports unknown failures as INTERNAL with the message', async () => {
    const { teacher } = await serve();
    await expect(call((cb) => teacher.update(pb.UpdateRequest.fromPartial({}), cb))).rejects.toMatchObject({ code: grpc.status.INTERNAL, details: 'disk on fire' });
  });

  it('passes the deadline through and aborts the handler when it passes', async () => {
    const { student } = await serve();
    const metadata = new grpc.Metadata();
    metadata.set('wait-ms', '400');
    const deadline = Date.now() + 150;
    await expect(call((cb) => student.info({}, metadata, { deadline }, cb))).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    expect(Math.abs(seen.deadline! - deadline)).toBeLessThan(50);
    await expect.poll(() => seen.signal!.aborted, { timeout: 1000 }).toBe(true);
    expect((seen.signal!.reason as RpcError).code).toBe('deadline_exceeded');
  });

  it('aborts the handler when the client cancels', async () => {
    const { student } = await serve();
    const metadata = new grpc.Metadata();
    metadata.set('wait-ms', '2000');
    const pending = student.info({}, metadata, () => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    pending.cancel();
    await expect.poll(() => seen.signal?.aborted, { timeout: 1000 }).toBe(true);
    expect((seen.signal!.reason as RpcError).code).toBe('cancelled');
  });

  it('streams: server, client and bidi', async () => {
    const { student, teacher } = await serve();
    const edits: string[] = [];
    for await (const r of teacher.generateSelfEdits(pb.GenerateSelfEditsRequest.fromPartial({ n: 3 })) as AsyncIterable<pb.GenerateSelfEditsResponse>) edits.push(r.selfEdit!.completion);
    expect(edits).toEqual(['edit 0', 'edit 1', 'edit 2']);

    const loaded = await call<pb.LoadCheckpointResponse>((cb) => {
      const stream = student.loadCheckpoint(cb);
      stream.write(pb.LoadCheckpointRequest.fromPartial({ part: { $case: 'header', value: {} } }));
      for (let i = 0; i < 3; i++) stream.write(pb.LoadCheckpointRequest.fromPartial({ part: { $case: 'chunk', value: { offset: i * 5, data: Buffer.alloc(5) } } }));
      stream.end();
    });
    expect(loaded.bytesReceived).toBe(15);

    const duplex = student.evaluateStream();
    const keys: string[] = [];
    const done = (async () => {
      for await (const r of duplex as AsyncIterable<pb.EvaluateStreamResponse>) keys.push(r.idempotencyKey);
    })();
    for (const k of ['a', 'b']) duplex.write(pb.EvaluateStreamRequest.fromPartial({ request: { idempotencyKey: k } }));
    duplex.end();
    await done;
    expect(keys).toEqual(['a', 'b']);
  });

  it('answers undecodable request bytes with INVALID_ARGUMENT, not INTERNAL', async () => {
    const { server } = await serve();
    const raw = new grpc.Client(server.address, insecure);
    const error = await failure(
      call((cb) => raw.makeUnaryRequest('/seal.v1.StudentService/Evaluate', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x0a, 0x05, 0x01]), cb)),
    );
    raw.close();
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/^request could not be decoded/);
  });


  it('refuses string fields that are not UTF-8 in every RPC, naming the field, and keeps valid non-ASCII text', async () => {
    const { server } = await serve();
    const raw = new grpc.Client(server.address, insecure);
    const bytes = (b: Buffer) => b;
    /** Encodes with MARKER in one string field, then overwrites the marker with bytes that are not UTF-8. */
    const MARKER = 'ZQZQZQ';
    const spoil = (encoded: Uint8Array) => {
      const out = Buffer.from(encoded);
      const at = out.indexOf(MARKER);
      expect(at, 'marker in the encoding').toBeGreaterThanOrEqual(0);
      Buffer.from([0xc3, 0x28, 0xff, 0xed, 0xa0, 0x80]).copy(out, at);
      return out;
    };
    const unaryStatus = (path: string, message: Buffer) =>
      new Promise<grpc.ServiceError | null>((resolve) => raw.makeUnaryRequest(path, bytes, bytes, message, (error) => resolve(error)));
    const streamStatus = (call: grpc.ClientWritableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>, messages: Buffer[]) => {
      for (const m of messages) call.write(m);
      call.end();
    };
    const clientStreamStatus = (path: string, messages: Buffer[]) =>
      new Promise<grpc.ServiceError | null>((resolve) => streamStatus(raw.makeClientStreamRequest(path, bytes, bytes, (error) => resolve(error)), messages));
    const otherStatus = (make: () => grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>, messages: Buffer[]) =>
      new Promise<grpc.ServiceError | null>((resolve) => {
        const call = make();
        call.on('data', () => {});
        call.on('error', (error: grpc.ServiceError) => resolve(error));
        call.on('end', () => resolve(null));
        if ('write' in call) streamStatus(call, messages);
      });
    const header = (id: string) => ({ $case: 'header' as const, value: { idempotencyKey: 'load/x', sharedPath: '', checkpoint: { id, sha256: 'a'.repeat(64), sizeBytes: 1 } } });
    const passage = (text: string) => ({ id: 'p1', kind: { $case: 'knowledge' as const, value: { title: 't', passage: text, questions: [] } } });
    const cases: [string, Promise<grpc.ServiceError | null>, string][] = [
      ['StudentService/Evaluate', unaryStatus('/seal.v1.StudentService/Evaluate', spoil(pb.EvaluateRequest.encode(pb.EvaluateRequest.fromPartial({ idempotencyKey: MARKER })).finish())), 'idempotency_key'],
      [
        'StudentService/EvaluateStream',
        otherStatus(() => raw.makeBidiStreamRequest('/seal.v1.StudentService/EvaluateStream', bytes, bytes), [spoil(pb.EvaluateStreamRequest.encode(pb.EvaluateStreamRequest.fromPartial({ request: { idempotencyKey: 'k', context: passage(`Varn ${MARKER}`) } })).finish())]),
        'request.context.knowledge.passage',
      ],
      ['StudentService/LoadCheckpoint', clientStreamStatus('/seal.v1.StudentService/LoadCheckpoint', [spoil(pb.LoadCheckpointRequest.encode({ part: header(MARKER) }).finish())]), 'header.checkpoint.id'],
      [
        'TeacherService/GenerateSelfEdits',
        otherStatus(() => raw.makeServerStreamRequest('/seal.v1.TeacherService/GenerateSelfEdits', bytes, bytes, spoil(pb.GenerateSelfEditsRequest.encode(pb.GenerateSelfEditsRequest.fromPartial({ n: 1, contexts: [passage('ok'), passage(MARKER)] })).finish())), []),
        'contexts[1].knowledge.passage',
      ],
      ['TeacherService/Update', unaryStatus('/seal.v1.TeacherService/Update', spoil(pb.UpdateRequest.encode(pb.UpdateRequest.fromPartial({ idempotencyKey: 'u', pairs: [{ prompt: 'p', completion: MARKER }] })).finish())), 'pairs[0].completion'],
      ['TeacherService/GetCheckpoint', otherStatus(() => raw.makeServerStreamRequest('/seal.v1.TeacherService/GetCheckpoint', bytes, bytes, spoil(pb.GetCheckpointRequest.encode({ checkpointId: MARKER, maxChunkBytes: 0 }).finish())), []), 'checkpoint_id'],
      ['TeacherService/LoadCheckpoint', clientStreamStatus('/seal.v1.TeacherService/LoadCheckpoint', [spoil(pb.TeacherServiceLoadCheckpointRequest.encode({ part: header(MARKER) }).finish())]), 'header.checkpoint.id'],
    ];
    for (const [rpc, pending, field] of cases) {
      const error = await pending;
      expect(error?.code, rpc).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error?.details, rpc).toBe(`${field} is not valid UTF-8`);
      expect(error?.metadata.get('seal-error-details')[0], rpc).toBe(JSON.stringify({ field }));
    }
    // Valid non-ASCII text (and a genuine U+FFFD) decodes unchanged and reaches the handler.
    const text = 'Zoë ✓ \u{1D518} \uFFFD';
    const echoed = await new Promise<string>((resolve, reject) => {
      const duplex = raw.makeBidiStreamRequest('/seal.v1.StudentService/EvaluateStream', bytes, bytes);
      duplex.on('data', (b: Buffer) => resolve(pb.EvaluateStreamResponse.decode(b).idempotencyKey));
      duplex.on('error', reject);
      duplex.write(Buffer.from(pb.EvaluateStreamRequest.encode(pb.EvaluateStreamRequest.fromPartial({ request: { idempotencyKey: text } })).finish()));
      duplex.end();
    });
    raw.close();
    expect(echoed).toBe(text);
  });

  it('drains on shutdown: health NOT_SERVING, new calls UNAVAILABLE, in-flight calls finish', async () => {
    const { server, student } = await serve();
    expect(await checkHealth(server.address, 'seal.v1.StudentService')).toBe('SERVING');
    const metadata = new grpc.Metadata();
    metadata.set('wait-ms', '300');
    const inFlight = call<pb.StudentServiceInfoResponse>((cb) => student.info({}, metadata, cb));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopped = server.shutdown();
    await expect(call((cb) => student.info({}, cb))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect((await inFlight).studentId).toBe('s1');
    expect(await stopped).toBe('graceful');
  });

  it('forces shutdown after the timeout, cancelling stuck calls', async () => {
    const { server, student } = await serve({ shutdownTimeoutMs: 100 });
    const metadata = new grpc.Metadata();
    metadata.set('wait-ms', '5000');
    const stuck = failure(call((cb) => student.info({}, metadata, cb)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await server.shutdown()).toBe('forced');
    expect((await stuck).code).toBe(grpc.status.UNAVAILABLE);
    expect(seen.signal!.aborted).toBe(true);
  });

  it('requires the shared token when configured', async () => {
    const { server } = await serve({ token: 's3cret' });
    const plain = new pb.StudentServiceClient(server.address, insecure);
    await expect(call((cb) => plain.info({}, cb))).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer s3cret');
    expect((await call<pb.StudentServiceInfoResponse>((cb) => plain.info({}, metadata, cb))).studentId).toBe('s1');
  });

  it('refuses a busy port and plaintext on a public address with one clear line', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    await expect(startServer({ port, services: [] })).rejects.toThrow(`cannot listen on 127.0.0.1:${port}: address already in use`);
    blocker.close();
    await expect(startServer({ host: '0.0.0.0', port: 0, services: [] })).rejects.toThrow('refusing to serve plaintext on 0.0.0.0');
  });
});
