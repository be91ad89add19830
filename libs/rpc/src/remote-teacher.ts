/** @file The domain `Teacher` over gRPC: the same semantics as the in-process teacher, through TeacherService. */
import * as grpc from '@grpc/grpc-js';
import type { CallOptions, CheckpointChunk, CheckpointRef, GenerateSelfEditsRequest, SelfEdit, Teacher, TeacherInfo, UpdateRequest } from '@seal/coordinator';
import * as pb from '@seal/proto';
import { channelOptions, clientStreamCall, serverStreamCall, unaryCall, type RemoteOptions } from './client-calls';
import { invalidArgument } from './errors';
import * as fromProto from './from-proto';
import { loadCheckpointRequests } from './remote-student';
import * as toProto from './to-proto';

export class RemoteTeacher implements Teacher {
  private readonly client: pb.TeacherServiceClient;

  constructor(
    readonly address: string,
    private readonly options: RemoteOptions = {},
  ) {
    this.client = new pb.TeacherServiceClient(address, options.credentials ?? grpc.credentials.createInsecure(), channelOptions(options));
  }

  async info(opts?: CallOptions): Promise<TeacherInfo> {
    return fromProto.teacherInfo(await unaryCall(this.client.info.bind(this.client), pb.TeacherServiceInfoRequest.fromPartial({}), this.options, opts));
  }

  async *generateSelfEdits(request: GenerateSelfEditsRequest, opts?: CallOptions): AsyncIterable<SelfEdit> {
    for await (const response of serverStreamCall(this.client.generateSelfEdits.bind(this.client), toProto.generateSelfEditsRequest(request), this.options, opts)) {
      yield fromProto.selfEditResponse(response);
    }
  }

  async update(request: UpdateRequest, opts?: CallOptions): Promise<CheckpointRef> {
    const response = await unaryCall(this.client.update.bind(this.client), toProto.updateRequest(request), this.options, opts);
    return fromProto.checkpointRef(response.checkpoint, 'checkpoint');
  }

  async *getCheckpoint(checkpointId: string, opts?: CallOptions): AsyncIterable<CheckpointChunk> {
    let ref: CheckpointRef | undefined;
    for await (const response of serverStreamCall(this.client.getCheckpoint.bind(this.client), pb.GetCheckpointRequest.fromPartial({ checkpointId }), this.options, opts)) {
      const part = response.part;
      if (part?.$case === 'checkpoint') ref = fromProto.checkpointRef(part.value, 'checkpoint');
      else if (part?.$case === 'chunk') {
        if (!ref) throw invalidArgument('GetCheckpoint sent a chunk before the checkpoint reference');
        yield { checkpoint: ref, offset: part.value.offset, data: new Uint8Array(part.value.data) };
      }
    }
  }

  async loadCheckpoint(chunks: AsyncIterable<CheckpointChunk>, opts?: CallOptions): Promise<CheckpointRef> {
    const response = await clientStreamCall(this.client.loadCheckpoint.bind(this.client), loadCheckpointRequests(chunks), this.options, opts);
    return fromProto.checkpointRef(response.checkpoint, 'checkpoint');
  }

  close(): void {
    this.client.close();
  }
}
