/** @file The domain `Student` over gRPC: the same semantics as the in-process student, through StudentService. */
import * as grpc from '@grpc/grpc-js';
import type { CallOptions, CheckpointChunk, CheckpointRef, EvaluateJob, EvaluateResult, Student, StudentInfo } from '@seal/coordinator';
import * as pb from '@seal/proto';
import { channelOptions, clientStreamCall, unaryCall, type RemoteOptions } from './client-calls';
import * as fromProto from './from-proto';
import * as toProto from './to-proto';

/** Loads are idempotent per checkpoint identity: a retried push of the same bytes is a no-op. */
export const loadIdempotencyKey = (ref: CheckpointRef) => `load/${ref.id}/${ref.sha256}`;

/** Header first, then the chunks, each checked to belong to the header's checkpoint. */
export async function* loadCheckpointRequests(chunks: AsyncIterable<CheckpointChunk>): AsyncGenerator<pb.LoadCheckpointRequest> {
  let ref: CheckpointRef | undefined;
  for await (const chunk of chunks) {
    if (!ref) {
      ref = chunk.checkpoint;
      yield pb.LoadCheckpointRequest.fromPartial({ part: { $case: 'header', value: { idempotencyKey: loadIdempotencyKey(ref), checkpoint: toProto.checkpointRef(ref) } } });
    } else if (chunk.checkpoint.id !== ref.id || chunk.checkpoint.sha256 !== ref.sha256) {
      throw new Error(`checkpoint stream mixes ${ref.id} and ${chunk.checkpoint.id}`);
    }
    yield pb.LoadCheckpointRequest.fromPartial({ part: { $case: 'chunk', value: { offset: chunk.offset, data: Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength) } } });
  }
}

export class RemoteStudent implements Student {
  private readonly client: pb.StudentServiceClient;

  constructor(
    readonly address: string,
    private readonly options: RemoteOptions = {},
  ) {
    this.client = new pb.StudentServiceClient(address, options.credentials ?? grpc.credentials.createInsecure(), channelOptions(options));
  }

  async info(opts?: CallOptions): Promise<StudentInfo> {
    return fromProto.studentInfo(await unaryCall(this.client.info.bind(this.client), pb.StudentServiceInfoRequest.fromPartial({}), this.options, opts));
  }

  async evaluate(job: EvaluateJob, opts?: CallOptions): Promise<EvaluateResult> {
    return fromProto.evaluateResponse(await unaryCall(this.client.evaluate.bind(this.client), toProto.evaluateRequest(job), this.options, opts));
  }

  async loadCheckpoint(chunks: AsyncIterable<CheckpointChunk>, opts?: CallOptions): Promise<CheckpointRef> {
    const response = await clientStreamCall(this.client.loadCheckpoint.bind(this.client), loadCheckpointRequests(chunks), this.options, opts);
    return fromProto.checkpointRef(response.checkpoint, 'checkpoint');
  }

  async loadSharedCheckpoint(checkpoint: CheckpointRef, sharedPath: string, opts?: CallOptions): Promise<CheckpointRef> {
    const header = pb.LoadCheckpointRequest.fromPartial({
      part: { $case: 'header', value: { idempotencyKey: loadIdempotencyKey(checkpoint), checkpoint: toProto.checkpointRef(checkpoint), sharedPath } },
    });
    const response = await clientStreamCall(this.client.loadCheckpoint.bind(this.client), (async function* () { yield header; })(), this.options, opts);
    return fromProto.checkpointRef(response.checkpoint, 'checkpoint');
  }

  close(): void {
    this.client.close();
  }
}
