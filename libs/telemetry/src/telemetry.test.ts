/** @file withSpan, context propagation and the JSONL span file, on a real tracer provider. */
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSpanExporter } from './file-span-exporter';
import { extractContext, injectContext, readSpanFile, spanFilePath, tracer, withExtractedContext, withSpan } from './index';
import { serviceNameFromArgv } from './service-name';

const dir = mkdtempSync(join(tmpdir(), 'seal-telemetry-test-'));
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new FileSpanExporter(() => dir, 'unit'))] });

// register() installs the AsyncLocalStorage context manager and the W3C propagator, as NodeSDK does.
beforeAll(() => provider.register());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
  rmSync(dir, { recursive: true, force: true });
});

describe('telemetry helpers', () => {
  it('nests spans, records failures, and writes them as JSON lines', async () => {
    await withSpan('run round', { 'seal.round': 1 }, async () => {
      await expect(withSpan('train adapter', {}, async () => { throw new Error('loss is NaN'); })).rejects.toThrow('loss is NaN');
    });
    const spans = readSpanFile(spanFilePath(dir, 'unit', process.pid));
    const round = spans.find((s) => s.name === 'run round')!;
    const train = spans.find((s) => s.name === 'train adapter')!;
    expect(round.attributes['seal.round']).toBe(1);
    expect(train.parentSpanId).toBe(round.spanId);
    expect(train.traceId).toBe(round.traceId);
    expect(train.status).toBe('ERROR');
    expect(train.statusMessage).toBe('loss is NaN');
    expect(train.events.map((e) => e.name)).toContain('exception');
    expect(round.service).toBe('unit');
  });

  it('carries the active context through a plain object, as across a worker or process', async () => {
    const carrier = await withSpan('generate self_edits', {}, async (span) => ({ carrier: injectContext(), spanId: span.spanContext().spanId }));
    expect(carrier.carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const parent = trace.getSpanContext(extractContext(carrier.carrier))!;
    expect(parent.spanId).toBe(carrier.spanId);
    const child = withExtractedContext(carrier.carrier, () => tracer().startSpan('score adapter'));
    child.end();
    const written = readSpanFile(spanFilePath(dir, 'unit', process.pid)).find((s) => s.name === 'score adapter')!;
    expect(written.parentSpanId).toBe(carrier.spanId);
  });

  it('skips a torn last line but names the file and line of any other bad one', () => {
    const path = join(dir, 'torn.jsonl');
    writeFileSync(path, '{"name":"a"}\n{"name":');
    expect(readSpanFile(path).map((s) => s.name)).toEqual(['a']);
    appendFileSync(path, '\n{"name":"b"}\n');
    expect(() => readSpanFile(path)).toThrow(`${path}:2: not a JSON span record`);
  });

  it('names services after the command', () => {
    expect(serviceNameFromArgv(['node', 'main.ts', 'serve', 'student', '--port', '0'])).toBe('seal-student');
    expect(serviceNameFromArgv(['node', 'main.ts', 'serve', 'teacher'])).toBe('seal-teacher');
    expect(serviceNameFromArgv(['node', 'main.ts', 'version'])).toBe('seal-cli');
  });
});
