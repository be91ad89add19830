/**
 * @file Turns `async (request, { signal, deadline, metadata })` functions into grpc-js handlers:
 * unary, server-streaming, client-streaming and bidi. Failures become statuses through the one
 * table in ./status; client cancellation, deadlines and forced shutdown abort `signal`.
 */
import { once } from 'node:events';
import type {
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  Metadata,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import { invalidArgument, RpcError } from './errors';
import { toStatus } from './status';

/** What every handler gets besides its request. */
export interface CallContext {
  /** Aborted when the client cancels, the deadline passes or the server is forced down. */
  signal: AbortSignal;
  /** Absolute deadline in epoch ms (the domain's CallOptions convention); undefined when none. */
  deadline: number | undefined;
  /** Request metadata (headers). */
  metadata: Metadata;
  /** The client's address. */
  peer: string;
}

/** Marker a tolerant deserializer returns instead of throwing, so undecodable bytes become INVALID_ARGUMENT. */
export const MALFORMED_REQUEST = Symbol.for('seal.rpc.malformed-request');

/** Property on a call holding the server's force-shutdown signal, so handlers abort with UNAVAILABLE. */
export const SHUTDOWN_SIGNAL = Symbol.for('seal.rpc.shutdown-signal');

/** What the tolerant deserializer returns for a request it refuses: the message, and the field when one is to blame. */
export interface MalformedRequest {
  [MALFORMED_REQUEST]: { message: string; field?: string };
}

function checkDecoded<T>(message: T | MalformedRequest): T {
  if (message && typeof message === 'object' && MALFORMED_REQUEST in message) {
    const { message: text, field } = message[MALFORMED_REQUEST];
    throw invalidArgument(text, field ? { field } : undefined);
  }
  return message as T;
}

type AnyCall = ServerUnaryCall<unknown, unknown> | ServerReadableStream<unknown, unknown> | ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>;

/** Builds the CallContext of one call and the cleanup to run when the handler settles. */
function openCall(call: AnyCall): { context: CallContext; close: () => void } {
  const controller = new AbortController();
  const rawDeadline = call.getDeadline();
  const deadline = rawDeadline instanceof Date ? rawDeadline.getTime() : Number.isFinite(rawDeadline) ? rawDeadline : undefined;
  // NOTE: grpc-js also reports its own deadline expiry as 'cancelled'; tell the two apart by the clock.
  const onCancelled = () =>
    controller.abort(
      deadline !== undefined && Date.now() >= deadline - 5
        ? new RpcError('deadline_exceeded', 'the call deadline passed')
        : new RpcError('cancelled', 'the client cancelled the call'),
    );
  const events = call as unknown as NodeJS.EventEmitter;
  events.on('cancelled', onCancelled);
  let timer: NodeJS.Timeout | undefined;
  if (deadline !== undefined) {
    // setTimeout caps at 2^31-1 ms; a deadline beyond ~24 days is as good as none.
    const delay = Math.max(0, deadline - Date.now());
    if (delay < 2 ** 31 - 1) {
      timer = setTimeout(() => controller.abort(new RpcError('deadline_exceeded', 'the call deadline passed')), delay);
      timer.unref();
    }
  }
  // The server builder tags each call with its force-shutdown signal (see SHUTDOWN_SIGNAL).
  const shutdown = (call as unknown as { [SHUTDOWN_SIGNAL]?: AbortSignal })[SHUTDOWN_SIGNAL];
  const onShutdown = () => controller.abort(shutdown!.reason);
  if (shutdown?.aborted) onShutdown();
  shutdown?.addEventListener('abort', onShutdown, { once: true });
  return {
    context: { signal: controller.signal, deadline, metadata: call.metadata, peer: call.getPeer() },
    close: () => {
      clearTimeout(timer);
      events.removeListener('cancelled', onCancelled);
      shutdown?.removeEventListener('abort', onShutdown);
    },
  };
}

/**
 * Settles like `work`, or rejects with the abort reason as soon as `signal` fires: the status goes
 * out at once even if a handler ignores its signal (its late result is dropped).
 */
function orAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** If the call was aborted, the abort reason explains the failure better than whatever the handler threw. */
function failureOf(error: unknown, signal: AbortSignal): unknown {
  return signal.aborted ? signal.reason : error;
}

/** How many decoded requests may wait unread before the stream is paused (backpressure). */
const READ_AHEAD = 16;

/**
 * Reads a request stream, rejecting undecodable messages and stopping when the call aborts.
 * NOTE: not Node's Readable async iterator: when it finishes it destroys the stream, which on a
 * bidi call also kills the response side before the status is sent.
 */
function readRequests<Req>(call: ServerReadableStream<Req, unknown> | ServerDuplexStream<Req, unknown>, signal: AbortSignal): AsyncIterable<Req> {
  const queue: unknown[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  call.on('data', (message: unknown) => {
    queue.push(message);
    if (queue.length >= READ_AHEAD) call.pause();
    notify();
  });
  call.on('end', () => {
    ended = true;
    notify();
  });
  call.on('error', (error: unknown) => {
    failure = error;
    notify();
  });
  signal.addEventListener('abort', notify, { once: true });
  return {
    [Symbol.asyncIterator]: () => ({
      async next(): Promise<IteratorResult<Req>> {
        for (;;) {
          if (signal.aborted) throw signal.reason;
          if (queue.length > 0) {
            const message = queue.shift();
            if (queue.length < READ_AHEAD / 2) call.resume();
            return { done: false, value: checkDecoded<Req>(message as Req) };
          }
          if (failure !== undefined) throw failure;
          if (ended) return { done: true, value: undefined };
          await new Promise<void>((resolve) => (wake = resolve));
        }
      },
    }),
  };
}

/** Writes responses with backpressure; stops early when the call aborts. */
async function writeResponses<Res>(call: ServerWritableStream<unknown, Res> | ServerDuplexStream<unknown, Res>, responses: AsyncIterable<Res>, signal: AbortSignal): Promise<void> {
  const iterator = responses[Symbol.asyncIterator]();
  for (;;) {
    const next = await orAbort(iterator.next(), signal);
    if (next.done) return;
    if (!call.write(next.value)) await once(call, 'drain', { signal });
  }
}

/** A unary handler. */
export function unary<Req, Res>(fn: (request: Req, context: CallContext) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const { context, close } = openCall(call);
    Promise.resolve()
      .then(() => orAbort(fn(checkDecoded<Req>(call.request), context), context.signal))
      .then(
        (response) => callback(null, response),
        (error) => callback(toStatus(failureOf(error, context.signal))),
      )
      .finally(close);
  };
}

/** A server-streaming handler: yield responses; they are written in order with backpressure. */
export function serverStream<Req, Res>(fn: (request: Req, context: CallContext) => AsyncIterable<Res>): handleServerStreamingCall<Req, Res> {
  return (call) => {
    const { context, close } = openCall(call);
    Promise.resolve()
      .then(() => writeResponses(call, fn(checkDecoded<Req>(call.request), context), context.signal))
      .then(
        () => call.end(),
        (error) => call.emit('error', toStatus(failureOf(error, context.signal))),
      )
      .finally(close);
  };
}

/** A client-streaming handler: consume the request stream, return one response. */
export function clientStream<Req, Res>(fn: (requests: AsyncIterable<Req>, context: CallContext) => Promise<Res>): handleClientStreamingCall<Req, Res> {
  return (call, callback) => {
    const { context, close } = openCall(call);
    Promise.resolve()
      .then(() => orAbort(fn(readRequests(call, context.signal), context), context.signal))
      .then(
        (response) => callback(null, response),
        (error) => callback(toStatus(failureOf(error, context.signal))),
      )
      .finally(close);
  };
}

/** A bidi handler: consume requests and yield responses, interleaved as the handler likes. */
export function bidiStream<Req, Res>(fn: (requests: AsyncIterable<Req>, context: CallContext) => AsyncIterable<Res>): handleBidiStreamingCall<Req, Res> {
  return (call) => {
    const { context, close } = openCall(call);
    Promise.resolve()
      .then(() => writeResponses(call, fn(readRequests(call, context.signal), context), context.signal))
      .then(
        () => call.end(),
        (error) => call.emit('error', toStatus(failureOf(error, context.signal))),
      )
      .finally(close);
  };
}

/** The error of an RPC whose capability arrives with a later issue: UNIMPLEMENTED, saying which. */
export function notYetImplemented(rpc: string, arrivesWith: string): RpcError {
  return new RpcError('unimplemented', `${rpc} arrives with ${arrivesWith}`);
}
