/**
 * @file The JSONL span file format: one finished span per line, written by the file exporter
 * and read back by tests and `seal trace` to merge the files of every process of a run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One finished span as stored on disk; times are epoch milliseconds (fractional). */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  /** absent for a root span. */
  parentSpanId?: string;
  name: string;
  /** 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER'. */
  kind: string;
  startMs: number;
  endMs: number;
  durationMs: number;
  /** 'UNSET' | 'OK' | 'ERROR'. */
  status: string;
  statusMessage?: string;
  attributes: Record<string, unknown>;
  events: { name: string; timeMs: number; attributes: Record<string, unknown> }[];
  /** service.name of the process that recorded the span. */
  service: string;
  pid: number;
  /** The instrumentation scope that created the span (e.g. "@opentelemetry/instrumentation-grpc"). */
  scope: string;
}

/** The span file a process writes into `dir`: `<service>-<pid>.jsonl`. */
export function spanFilePath(dir: string, service: string, pid: number): string {
  return join(dir, `${service}-${pid}.jsonl`);
}

/** Reads one span file; a torn last line (a process killed mid-write) is skipped, any other bad line throws naming the file and line. */
export function readSpanFile(path: string): SpanRecord[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const spans: SpanRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      spans.push(JSON.parse(line) as SpanRecord);
    } catch (error) {
      if (i === lines.length - 1) return;
      throw new Error(`${path}:${i + 1}: not a JSON span record (${(error as Error).message})`);
    }
  });
  return spans;
}

/** Reads and concatenates every `*.jsonl` span file in `dir`, ordered by start time. */
export function readSpanDirectory(dir: string): SpanRecord[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .flatMap((name) => readSpanFile(join(dir, name)))
    .sort((a, b) => a.startMs - b.startMs);
}
