/**
 * @file TeacherService over gRPC: proto ⇄ domain, nothing else. Info works from the config;
 * GenerateSelfEdits, Update, GetCheckpoint and LoadCheckpoint validate their input (INVALID_ARGUMENT naming the
 * field) and, without a domain Teacher (no model configured), answer FAILED_PRECONDITION saying so.
 */
import type { Teacher } from '@seal/coordinator';
import * as pb from '@seal/proto';
import { clientStream, fromProto, invalidArgument, RpcError, serverStream, toProto, unary } from '@seal/rpc';
import type { TeacherConfig } from './config';

/**
 * A loop RPC on a teacher started without a model folder. FAILED_PRECONDITION, not UNIMPLEMENTED:
 * the RPC exists, this server's state is what is missing, and the caller should say how to fix it.
 */
const needsModel = (rpc: string) => new RpcError('failed_precondition', `${rpc}: this teacher serves no model; start it with --model DIR (or without --no-model)`);

export interface TeacherServiceDeps {
  config: TeacherConfig;
  /** The domain teacher; absent when no model is configured. */
  teacher?: Teacher;
  version: string;
  hostname: string;
  startedAt: number;
}

export function createTeacherService(deps: TeacherServiceDeps): pb.TeacherServiceServer {
  const { config, teacher } = deps;
  return {
    info: unary(async (_request, { signal, deadline }) => {
      const server = toProto.serverInfo(deps.startedAt, deps.version, deps.hostname);
      if (teacher) return toProto.teacherInfo(await teacher.info({ signal, deadline }), { path: config.model.path }, server);
      return pb.TeacherServiceInfoResponse.fromPartial({ model: { name: config.model.name, path: config.model.path }, checkpoints: [], server });
    }),

    generateSelfEdits: serverStream(async function* (request, { signal, deadline }) {
      const job = fromProto.generateSelfEditsRequest(request);
      if (!teacher) throw needsModel('GenerateSelfEdits');
      for await (const edit of teacher.generateSelfEdits(job, { signal, deadline })) {
        yield pb.GenerateSelfEditsResponse.fromPartial({ selfEdit: toProto.selfEdit(edit) });
      }
    }),

    update: unary(async (request, { signal, deadline }) => {
      const job = fromProto.updateRequest(request);
      if (!teacher) throw needsModel('Update');
      return pb.UpdateResponse.fromPartial({ checkpoint: toProto.checkpointRef(await teacher.update(job, { signal, deadline })) });
    }),

    getCheckpoint: serverStream(async function* (request, { signal, deadline }) {
      if (request.checkpointId.trim() === '') throw invalidArgument('checkpoint_id must be non-empty', { field: 'checkpoint_id' });
      if (!teacher) throw needsModel('GetCheckpoint');
      let first = true;
      for await (const chunk of teacher.getCheckpoint(request.checkpointId, { signal, deadline })) {
        if (first) yield pb.GetCheckpointResponse.fromPartial({ part: { $case: 'checkpoint', value: toProto.checkpointRef(chunk.checkpoint) } });
        first = false;
        yield pb.GetCheckpointResponse.fromPartial({ part: { $case: 'chunk', value: { offset: chunk.offset, data: Buffer.from(chunk.data) } } });
      }
    }),

    loadCheckpoint: clientStream(async (requests, { signal, deadline }) => {
      const started = Date.now();
      let received = 0;
      const chunks = fromProto.loadCheckpointChunks(requests, (header) => {
        if (header.sharedPath) throw invalidArgument('header.shared_path: the teacher loads checkpoints from streamed chunks only', { field: 'header.shared_path' });
      });
      const counted = (async function* () {
        for await (const chunk of chunks) {
          received += chunk.data.length;
          yield chunk;
        }
      })();
      if (!teacher?.loadCheckpoint) {
        await counted.next(); // validates the header first
        throw needsModel('TeacherService.LoadCheckpoint');
      }
      const ref = await teacher.loadCheckpoint(counted, { signal, deadline });
      return pb.TeacherServiceLoadCheckpointResponse.fromPartial({ checkpoint: toProto.checkpointRef(ref), bytesReceived: received, seconds: (Date.now() - started) / 1000 });
    }),
  };
}
