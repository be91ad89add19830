/**
 * @file A SpanExporter that appends finished spans as JSON lines to `<dir>/<service>-<pid>.jsonl`,
 * the local trace store used when no OTLP endpoint is configured.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ExportResultCode, hrTimeToMilliseconds, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { spanFilePath, type SpanRecord } from './span-record';

export class FileSpanExporter implements SpanExporter {
  /**
   * @param resolveDir called at each export, so a command (e.g. `seal run`) can point
   *   SEAL_TRACE_DIR at its run folder after the SDK was preloaded.
   */
  constructor(
    private readonly resolveDir: () => string,
    private readonly service: string,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    try {
      const dir = this.resolveDir();
      mkdirSync(dir, { recursive: true });
      // NOTE: synchronous append, one write per batch: a process killed right after a span ends
      // still leaves that span on disk, which multi-node fault tests rely on.
      appendFileSync(spanFilePath(dir, this.service, process.pid), spans.map((s) => JSON.stringify(toRecord(s, this.service))).join('\n') + '\n');
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {}

  async forceFlush(): Promise<void> {}
}

function toRecord(span: ReadableSpan, service: string): SpanRecord {
  const context = span.spanContext();
  const startMs = hrTimeToMilliseconds(span.startTime);
  const endMs = hrTimeToMilliseconds(span.endTime);
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    name: span.name,
    kind: SpanKind[span.kind],
    startMs,
    endMs,
    durationMs: endMs - startMs,
    status: SpanStatusCode[span.status.code],
    ...(span.status.message ? { statusMessage: span.status.message } : {}),
    attributes: { ...span.attributes },
    events: span.events.map((e) => ({ name: e.name, timeMs: hrTimeToMilliseconds(e.time), attributes: { ...(e.attributes ?? {}) } })),
    service,
    pid: process.pid,
    scope: span.instrumentationScope.name,
  };
}
