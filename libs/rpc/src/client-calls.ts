/**
 * @file The client side of the adapters: grpc-js calls as promises and async iterables that take
 * the domain's `{ signal, deadline }`, cancel on abort, and fail with RemoteError (domain codes).
 */
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { CallOptions as DomainCallOptions } from '@seal/coordinator';
import { fromServiceError } from './status';

/** What a remote client needs to reach a service. */
export interface RemoteOptions {
  /** Default: insecure (loopback and tests). */
  credentials?: grpc.ChannelCredentials;
  /** Shared token sent as `authorization: Bearer …` (default: SEAL_TOKEN from the environment). */
  token?: string;
  /** Largest message either way (default: grpc-js's, 4 MiB receive). */
  maxMessageBytes?: number;
  /** Extra channel options, e.g. `{ 'grpc.service_config': … }` for round_robin over DNS. */
  channelOptions?: grpc.ChannelOptions;
}

export function channelOptions(options: RemoteOptions): grpc.ChannelOptions {
  return {
    // A name may resolve to many replicas. `seal run` resolves student names itself (one pool
    // member per address, student-group.ts); any other client of a name spreads its calls over
    // all of them instead of grpc-js's pick_first.
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    ...(options.maxMessageBytes ? { 'grpc.max_receive_message_length': options.maxMessageBytes, 'grpc.max_send_message_length': options.maxMessageBytes } : {}),
    ...options.channelOptions,
  };
}

/** Per-call metadata and grpc call options from the domain's call options. */
export function callSetup(options: RemoteOptions, opts: DomainCallOptions | undefined): { metadata: grpc.Metadata; callOptions: grpc.CallOptions } {
  const metadata = new grpc.Metadata();
  const token = options.token ?? process.env.SEAL_TOKEN;
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return { metadata, callOptions: opts?.deadline !== undefined ? { deadline: opts.deadline } : {} };
}

function asRemote(error: unknown): unknown {
  return error && typeof error === 'object' && 'code' in error && typeof (error as grpc.ServiceError).code === 'number' ? fromServiceError(error as grpc.ServiceError) : error;
}

/** Cancels `call` when `signal` aborts; returns the unsubscribe. */
function cancelOnAbort(call: { cancel(): void }, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => {};
  const onAbort = () => call.cancel();
  if (signal.aborted) onAbort();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

type UnaryMethod<Req, Res> = (request: Req, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: Res) => void) => grpc.ClientUnaryCall;

export function unaryCall<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, options: RemoteOptions, opts?: DomainCallOptions): Promise<Res> {
  const { metadata, callOptions } = callSetup(options, opts);
  return new Promise<Res>((resolve, reject) => {
    let release = () => {};
    const call = method(request, metadata, callOptions, (error, response) => {
      release();
      if (error) reject(asRemote(error));
      else resolve(response);
    });
    release = cancelOnAbort(call, opts?.signal);
  });
}

type ServerStreamMethod<Req, Res> = (request: Req, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>) => grpc.ClientReadableStream<Res>;

export async function* serverStreamCall<Req, Res>(method: ServerStreamMethod<Req, Res>, request: Req, options: RemoteOptions, opts?: DomainCallOptions): AsyncGenerator<Res> {
  const { metadata, callOptions } = callSetup(options, opts);
  const call = method(request, metadata, callOptions);
  const release = cancelOnAbort(call, opts?.signal);
  try {
    for await (const message of call as AsyncIterable<Res>) yield message;
  } catch (error) {
    throw asRemote(error);
  } finally {
    release();
    // A consumer that stops early must not leave the server streaming into the void.
    call.cancel();
  }
}

type ClientStreamMethod<Req, Res> = (metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: Res) => void) => grpc.ClientWritableStream<Req>;

export function clientStreamCall<Req, Res>(method: ClientStreamMethod<Req, Res>, requests: AsyncIterable<Req>, options: RemoteOptions, opts?: DomainCallOptions): Promise<Res> {
  const { metadata, callOptions } = callSetup(options, opts);
  return new Promise<Res>((resolve, reject) => {
    let settled = false;
    const call = method(metadata, callOptions, (error, response) => {
      settled = true;
      release();
      if (error) reject(asRemote(error));
      else resolve(response);
    });
    const release = cancelOnAbort(call, opts?.signal);
    void (async () => {
      try {
        for await (const request of requests) {
          if (settled) return;
          if (!call.write(request)) await once(call, 'drain');
        }
        call.end();
      } catch (error) {
        // The source failed (e.g. a local read error): abandon the call and report that failure.
        settled = true;
        release();
        call.cancel();
        reject(error);
      }
    })();
  });
}
