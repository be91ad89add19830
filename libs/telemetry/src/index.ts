/**
 * @file Public API of @seal/telemetry: OpenTelemetry API-only helpers every library may use
 * (tracer, meter, withSpan, context inject/extract). The SDK lives in ./register, which only
 * processes preload; without it every helper here is a cheap no-op.
 */
import { context, metrics, propagation, SpanStatusCode, trace, type Attributes, type Context, type Meter, type Span, type Tracer } from '@opentelemetry/api';

export { serviceNameFromArgv, traceDirectory } from './service-name';
export { readSpanDirectory, readSpanFile, spanFilePath, type SpanRecord } from './span-record';

/** Instrumentation scope of SEAL-TS's own spans and metrics. */
export const INSTRUMENTATION_SCOPE = 'seal-ts';

/** The tracer for SEAL-TS spans. */
export function tracer(): Tracer {
  return trace.getTracer(INSTRUMENTATION_SCOPE);
}

/** The meter for SEAL-TS metrics (rewards, accuracy, tokens/s, queue depth, retries). */
export function meter(): Meter {
  return metrics.getMeter(INSTRUMENTATION_SCOPE);
}

/**
 * Runs `fn` inside a new active span named `{verb} {object}` (e.g. "train adapter"), ending it
 * when `fn` settles. A throw sets status ERROR, records the exception and rethrows.
 * Put ids, round numbers and rewards in `seal.*` attributes.
 */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T> | T): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** A carrier for trace context in a message between threads or processes (W3C traceparent/tracestate). */
export type TraceCarrier = Record<string, string>;

/** Writes the active (or given) context into a plain object to send along with a message. */
export function injectContext(ctx: Context = context.active()): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** Reads a context written by `injectContext` on the other side of a worker or process boundary. */
export function extractContext(carrier: TraceCarrier | undefined): Context {
  return propagation.extract(context.active(), carrier ?? {});
}

/** Runs `fn` with the context from `carrier` active, so spans it starts join the sender's trace. */
export function withExtractedContext<T>(carrier: TraceCarrier | undefined, fn: () => T): T {
  return context.with(extractContext(carrier), fn);
}

/** The trace id of the active span, or undefined outside any span (handy for logs and journals). */
export function activeTraceId(): string | undefined {
  return trace.getActiveSpan()?.spanContext().traceId;
}

const FLUSH_HOOK = Symbol.for('seal.telemetry.flush');

/**
 * Exports every pending span and metric. Call before `process.exit`, which skips the SDK's own
 * exit hooks; a no-op when ./register was not preloaded.
 */
export async function flushTelemetry(): Promise<void> {
  const flush = (globalThis as Record<symbol, (() => Promise<void>) | undefined>)[FLUSH_HOOK];
  await flush?.();
}

/** Used by ./register to publish its flush; not for libraries. */
export function installFlushHook(flush: () => Promise<void>): void {
  (globalThis as Record<symbol, unknown>)[FLUSH_HOOK] = flush;
}
