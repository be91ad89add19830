/**
 * @file `seal trace RUN`: merges the span files of every process of a run, rebuilds each trace
 * across processes and writes the waterfall (HTML with inline SVG); `--summary` prints one line
 * per service (`<service>\t<count> spans\ttraces=<id>,…`), a format external checks read.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { findSpanFiles, readSpans } from '../trace/read-spans';
import { buildTraces, formatSummary } from '../trace/span-tree';
import { renderWaterfallHtml } from '../trace/waterfall-html';

export interface TraceOptions {
  /** Folders of span files to read instead of the run's own. */
  spans: string[];
  summary?: boolean;
  out?: string;
  traceId?: string;
}

/** What `seal trace` prints: `stdout` (the summary, or where the HTML went) and warnings for stderr. */
export interface TraceOutput {
  stdout: string;
  warnings: string[];
}

export function trace(run: string | undefined, options: TraceOptions): TraceOutput {
  const files = findSpanFiles(run, options.spans);
  const loaded = readSpans(files);
  const warnings: string[] = [];
  if (loaded.skippedLines.size > 0) {
    const total = [...loaded.skippedLines.values()].reduce((a, b) => a + b, 0);
    const where = [...loaded.skippedLines.entries()].map(([file, n]) => `${file} (${n})`).join(', ');
    warnings.push(`skipped ${total} corrupted line(s): ${where}`);
  }
  let spans = loaded.spans;
  if (options.traceId) {
    spans = spans.filter((s) => s.traceId === options.traceId);
    if (spans.length === 0) throw new Error(`--trace-id ${options.traceId}: no span of that trace in ${files.length} file(s)`);
  }
  if (spans.length === 0) throw new Error(`no spans in ${files.join(', ')}`);
  if (options.summary) return { stdout: formatSummary(spans), warnings };
  const out = resolve(options.out ?? join(run ?? options.spans[0]!, 'trace.html'));
  const traces = buildTraces(spans);
  writeFileSync(out, renderWaterfallHtml(traces, `${files.length} span file(s)`));
  return { stdout: `${traces.length} trace(s), ${spans.length} spans from ${files.length} file(s) → ${out}\n`, warnings };
}

export function register(program: Command): void {
  program
    .command('trace')
    .description('merge the span files of a run and draw its waterfall (HTML), or --summary per service')
    .argument('[run]', 'a run directory (spans in RUN/spans, RUN/traces or RUN itself) or a folder of span files')
    .option('--spans <dir>', 'read span files from this folder instead (repeatable: one per host)', (dir: string, all: string[]) => [...all, dir], [] as string[])
    .option('--summary', 'print one line per service: its span count and the trace ids seen')
    .option('--trace-id <id>', 'only this trace')
    .option('--out <file>', 'where to write the HTML (default RUN/trace.html)')
    .action((run: string | undefined, options: TraceOptions) => {
      const { stdout, warnings } = trace(run, options);
      for (const warning of warnings) process.stderr.write(`seal trace: warning: ${warning}\n`);
      process.stdout.write(stdout);
    });
}
