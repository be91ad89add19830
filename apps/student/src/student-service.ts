/**
 * @file StudentService over gRPC: proto ⇄ domain, nothing else. Info works from the config;
 * Evaluate, EvaluateStream and LoadCheckpoint validate their input (INVALID_ARGUMENT naming the
 * field) and, until a domain Student is plugged in (issue 7), answer UNIMPLEMENTED saying so.
 */
import type { CheckpointRef, Student } from '@seal/coordinator';
import * as pb from '@seal/proto';
import { bidiStream, clientStream, fromProto, invalidArgument, notYetImplemented, RpcError, toProto, toStatus, unary } from '@seal/rpc';
import type { StudentConfig } from './config';

const ARRIVES_WITH = 'issue 7 (the SEAL loop)';

export interface StudentServiceDeps {
  config: StudentConfig;
  /** Name of this replica (config.studentId or host:port). */
  studentId: string;
  /** The domain student; absent until issue 7 provides one. */
  student?: Student;
  version: string;
  hostname: string;
  startedAt: number;
}

export function createStudentService(deps: StudentServiceDeps): pb.StudentServiceServer {
  const { config, student } = deps;
  let inFlight = 0;

  async function evaluate(request: pb.EvaluateRequest, signal: AbortSignal, deadline: number | undefined, path = ''): Promise<pb.EvaluateResponse> {
    const job = fromProto.evaluateRequest(request, path);
    if (!student) throw notYetImplemented('Evaluate', ARRIVES_WITH);
    inFlight++;
    try {
      return toProto.evaluateResponse(await student.evaluate(job, { signal, deadline }), job.baseCheckpoint);
    } finally {
      inFlight--;
    }
  }

  return {
    info: unary(async (_request, { signal, deadline }) => {
      const server = toProto.serverInfo(deps.startedAt, deps.version, deps.hostname);
      if (student) return toProto.studentInfo(await student.info({ signal, deadline }), { path: config.model.path }, server, inFlight);
      return pb.StudentServiceInfoResponse.fromPartial({
        studentId: deps.studentId,
        model: { name: config.model.name, path: config.model.path },
        capacity: config.workers,
        inFlight,
        loadedCheckpoints: [],
        server,
      });
    }),

    evaluate: unary((request, { signal, deadline }) => evaluate(request, signal, deadline)),

    evaluateStream: bidiStream(async function* (requests, { signal, deadline }) {
      // Results stream back in completion order; a bad item fails alone, the stream goes on.
      // TODO(issue 7): run up to `workers` items concurrently once evaluations are real.
      let index = 0;
      for await (const message of requests) {
        const request = message.request ?? pb.EvaluateRequest.fromPartial({});
        const path = `messages[${index++}].request`;
        try {
          yield pb.EvaluateStreamResponse.fromPartial({ idempotencyKey: request.idempotencyKey, outcome: { $case: 'result', value: await evaluate(request, signal, deadline, path) } });
        } catch (error) {
          const status = toStatus(error);
          yield pb.EvaluateStreamResponse.fromPartial({ idempotencyKey: request.idempotencyKey, outcome: { $case: 'error', value: { statusCode: status.code, message: status.details } } });
        }
      }
    }),

    loadCheckpoint: clientStream(async (requests, { signal, deadline }) => {
      const started = Date.now();
      let received = 0;
      let shared: { checkpoint: CheckpointRef; sharedPath: string } | undefined;
      const chunks = fromProto.loadCheckpointChunks(requests, (header) => {
        if (header.sharedPath) shared = { checkpoint: header.checkpoint, sharedPath: header.sharedPath };
      });
      const counted = (async function* () {
        for await (const chunk of chunks) {
          if (shared) throw invalidArgument('header.shared_path is set, so no chunks may follow', { field: 'chunk' });
          received += chunk.data.length;
          yield chunk;
        }
      })();
      if (!student) {
        await counted.next(); // validates the header first
        throw notYetImplemented('LoadCheckpoint', ARRIVES_WITH);
      }
      // Read through the header first: a shared-storage load has no chunks to hand to the student.
      const first = await counted.next();
      const ref = shared ? await loadShared(shared, signal, deadline) : await student.loadCheckpoint(prepend(first, counted), { signal, deadline });
      return pb.LoadCheckpointResponse.fromPartial({ checkpoint: toProto.checkpointRef(ref), bytesReceived: received, seconds: (Date.now() - started) / 1000 });
    }),
  };

  async function loadShared(shared: { checkpoint: CheckpointRef; sharedPath: string }, signal: AbortSignal, deadline: number | undefined): Promise<CheckpointRef> {
    if (!student!.loadSharedCheckpoint) throw new RpcError('failed_precondition', 'this student cannot load checkpoints by shared_path; stream the chunks instead');
    return student!.loadSharedCheckpoint(shared.checkpoint, shared.sharedPath, { signal, deadline });
  }
}

/** `first` (already pulled from `rest`) followed by the remainder of `rest`. */
async function* prepend<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncGenerator<T> {
  if (first.done) return;
  yield first.value;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}
