/**
 * @file Finds and reads the JSONL span files every process of a run wrote (`<service>-<pid>.jsonl`,
 * see @seal/telemetry's file exporter), tolerating torn or corrupted lines: an operator's trace
 * must still draw when one process was killed mid-write.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SpanRecord } from '@seal/telemetry';

/** What was read from the span files, and what had to be skipped. */
export interface LoadedSpans {
  spans: SpanRecord[];
  files: string[];
  /** Lines that were not a span record (bad JSON or missing fields), per file. */
  skippedLines: Map<string, number>;
}

/** Sub-folders of a run directory searched for span files, in order, before the folder itself. */
export const RUN_SPAN_FOLDERS = ['spans', 'traces'];

/** Span files in `dir`; the metrics files written beside them (`*.metrics.jsonl`) are not spans. */
function spanFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl') && !name.endsWith('.metrics.jsonl'))
    .sort()
    .map((name) => join(dir, name));
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * The span files of `run` (a run directory or a folder of span files), or of the explicit
 * `spanDirs` when given. Throws a one-line error naming what was searched when nothing is found.
 */
export function findSpanFiles(run: string | undefined, spanDirs: string[] = []): string[] {
  if (spanDirs.length > 0) {
    const files: string[] = [];
    for (const dir of spanDirs) {
      if (!isDirectory(dir)) throw new Error(`--spans ${dir}: no such directory`);
      files.push(...spanFilesIn(resolve(dir)));
    }
    if (files.length === 0) throw new Error(`no span files (*.jsonl) in ${spanDirs.join(', ')}`);
    return files;
  }
  if (run === undefined) throw new Error('name a run directory or trace folder, or pass --spans DIR');
  if (!isDirectory(run)) throw new Error(`${run}: no such directory`);
  const candidates = [...RUN_SPAN_FOLDERS.map((sub) => join(run, sub)), run];
  for (const dir of candidates) {
    if (!isDirectory(dir)) continue;
    const files = spanFilesIn(resolve(dir));
    if (files.length > 0) return files;
  }
  throw new Error(
    `no span files (*.jsonl) in ${candidates.join(', ')}; processes write them to $SEAL_TRACE_DIR (default <tmpdir>/seal-traces): pass --spans DIR`,
  );
}

/** A parsed line is a span only with ids, a name, a service and finite times. */
function asSpanRecord(value: unknown): SpanRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const s = value as Partial<SpanRecord>;
  const isId = (id: unknown) => typeof id === 'string' && /^[0-9a-f]+$/i.test(id) && !/^0+$/.test(id);
  if (!isId(s.traceId) || !isId(s.spanId) || typeof s.name !== 'string' || typeof s.service !== 'string') return undefined;
  if (!Number.isFinite(s.startMs) || !Number.isFinite(s.endMs)) return undefined;
  if (s.parentSpanId !== undefined && !isId(s.parentSpanId)) return undefined;
  return {
    ...(s as SpanRecord),
    kind: typeof s.kind === 'string' ? s.kind : 'INTERNAL',
    status: typeof s.status === 'string' ? s.status : 'UNSET',
    durationMs: (s.endMs as number) - (s.startMs as number),
    attributes: typeof s.attributes === 'object' && s.attributes !== null ? s.attributes : {},
    events: Array.isArray(s.events) ? s.events : [],
  };
}

/** Reads every file; bad lines are counted per file, never thrown. Spans come back ordered by start time. */
export function readSpans(files: string[]): LoadedSpans {
  const spans: SpanRecord[] = [];
  const skippedLines = new Map<string, number>();
  for (const file of files) {
    let skipped = 0;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      let record: SpanRecord | undefined;
      try {
        record = asSpanRecord(JSON.parse(line));
      } catch {
        record = undefined;
      }
      if (record) spans.push(record);
      else skipped++;
    }
    if (skipped > 0) skippedLines.set(file, skipped);
  }
  spans.sort((a, b) => a.startMs - b.startMs);
  return { spans, files, skippedLines };
}
