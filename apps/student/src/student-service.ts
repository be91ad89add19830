/**
 * @file StudentService over gRPC: proto ⇄ domain, nothing else. Info works from the config;
 * Evaluate, EvaluateStream and LoadCheckpoint validate their input (INVALID_ARGUMENT naming the
 * field) and, without a domain Student (no model configured), answer FAILED_PRECONDITION saying so.
 */
import type { CheckpointRef, Student } from '@seal/coordinator';
import * as pb from '@seal/proto';
import { bidiStream, clientStream, fromProto, invalidArgument, RpcError, toProto, toStatus, unary } from '@seal/rpc';
import { boundedMap } from './bounded-map';
import type { StudentConfig } from './config';

/**
 * A loop RPC on a student started without a model folder. FAILED_PRECONDITION, not UNIMPLEMENTED:
 * the RPC exists, this server's state is what is missing, and the caller should say how to fix it.
 */
const needsModel = (rpc: string) => new RpcError('failed_precondition', `${rpc}: this student serves no model; start it with --model DIR (or without --no-model)`);

export interface StudentServiceDeps {
  config: StudentConfig;
  /** Name of this replica (config.studentId or host:port). */
  studentId: string;
  /** The domain student; absent when no model is configured. */
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
    if (!student) throw needsModel('Evaluate');
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

    evaluateStream: bidiStream((requests, { signal, deadline }) =>
      // Up to `workers` evaluations at once; results stream back in completion order. A bad item
      // fails alone (an error outcome with its status), the stream goes on.
      boundedMap(requests, config.workers, async (message, index) => {
        const request = message.request ?? pb.EvaluateRequest.fromPartial({});
        try {
          const result = await evaluate(request, signal, deadline, `messages[${index}].request`);
          return pb.EvaluateStreamResponse.fromPartial({ idempotencyKey: request.idempotencyKey, outcome: { $case: 'result', value: result } });
        } catch (error) {
          const status = toStatus(error);
          return pb.EvaluateStreamResponse.fromPartial({ idempotencyKey: request.idempotencyKey, outcome: { $case: 'error', value: { statusCode: status.code, message: status.details } } });
        }
      }),
    ),

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
        throw needsModel('LoadCheckpoint');
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
