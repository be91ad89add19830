/** @file Trace trees across processes, the critical path and per-phase totals on hand-built spans whose answers are known. */
import { describe, expect, it } from 'vitest';
import type { SpanRecord } from '@seal/telemetry';
import { buildTraces, criticalPath, formatSummary, phaseTotals } from './span-tree';

let nextId = 1;
function span(name: string, service: string, startMs: number, endMs: number, parent?: SpanRecord, traceId = 'a'.repeat(32)): SpanRecord {
  return {
    traceId,
    spanId: (nextId++).toString(16).padStart(16, '0'),
    ...(parent ? { parentSpanId: parent.spanId } : {}),
    name,
    kind: 'INTERNAL',
    startMs,
    endMs,
    durationMs: endMs - startMs,
    status: 'UNSET',
    attributes: {},
    events: [],
    service,
    pid: 1,
    scope: 'seal-ts',
  };
}

describe('buildTraces', () => {
  // run seal [0,100]: round [0,100]: generate [0,30]; evaluate ×2 in parallel [30,80] and [30,60]; update [80,100].
  const root = span('run seal', 'seal-cli', 0, 100);
  const round = span('run round', 'seal-cli', 0, 100, root);
  const generate = span('generate self_edits', 'seal-teacher', 0, 30, round);
  const evalLong = span('grpc.seal.v1.StudentService/Evaluate', 'seal-cli', 30, 80, round);
  const evalLongServer = span('grpc.seal.v1.StudentService/Evaluate', 'seal-student', 31, 79, evalLong);
  const evalShort = span('grpc.seal.v1.StudentService/Evaluate', 'seal-cli', 30, 60, round);
  const update = span('update teacher', 'seal-teacher', 80, 100, round);
  const other = span('query info', 'seal-cli', 200, 210, undefined, 'b'.repeat(32));
  // Files are read in any order: shuffle to prove order does not matter.
  const spans = [update, evalShort, other, evalLongServer, root, generate, evalLong, round];

  it('links parents across services into one tree per trace, depth-first in start order', () => {
    const traces = buildTraces(spans);
    expect(traces.map((t) => t.traceId)).toEqual(['a'.repeat(32), 'b'.repeat(32)]);
    const [main] = traces;
    expect(main!.roots).toHaveLength(1);
    expect(main!.rows.map((n) => [n.span.name, n.depth])).toEqual([
      ['run seal', 0],
      ['run round', 1],
      ['generate self_edits', 2],
      ['grpc.seal.v1.StudentService/Evaluate', 2],
      ['grpc.seal.v1.StudentService/Evaluate', 3],
      ['grpc.seal.v1.StudentService/Evaluate', 2],
      ['update teacher', 2],
    ]);
    expect(main!.services).toEqual(['seal-cli', 'seal-student', 'seal-teacher']);
    expect(main!.orphans).toBe(0);
  });

  it('puts on the critical path the chain the root waited for, not the shorter parallel evaluation', () => {
    const [main] = buildTraces(spans);
    expect(criticalPath(main!).map((n) => n.span.spanId)).toEqual([root, round, generate, evalLong, evalLongServer, update].map((s) => s.spanId));
    const totals = Object.fromEntries(phaseTotals(main!).map((p) => [p.name, p]));
    expect(totals['grpc.seal.v1.StudentService/Evaluate']).toMatchObject({ count: 3, totalMs: 50 + 48 + 30 });
    // The client evaluate span holds 50 ms on the path, 48 of them inside its server span.
    expect(totals['grpc.seal.v1.StudentService/Evaluate']!.criticalMs).toBeCloseTo(2 + 48);
    expect(totals['run round']!.criticalMs).toBe(0);
  });

  it('draws a span whose parent was never written as an extra root, counted as an orphan', () => {
    const lost = span('run round', 'seal-cli', 0, 10);
    const child = span('train adapter', 'seal-student', 1, 5, lost);
    const [t] = buildTraces([child]);
    expect(t!.orphans).toBe(1);
    expect(t!.roots.map((n) => n.span.name)).toEqual(['train adapter']);
  });
});

describe('formatSummary', () => {
  it('prints one line per service, sorted, with span counts and trace ids in first-seen order', () => {
    const a = span('x', 'seal-student', 5, 6, undefined, 'c'.repeat(32));
    const b = span('y', 'seal-student', 1, 2, undefined, 'd'.repeat(32));
    const c = span('z', 'seal-cli', 3, 4, undefined, 'c'.repeat(32));
    expect(formatSummary([a, b, c])).toBe(`seal-cli\t1 spans\ttraces=${'c'.repeat(32)}\nseal-student\t2 spans\ttraces=${'d'.repeat(32)},${'c'.repeat(32)}\n`);
  });
});
