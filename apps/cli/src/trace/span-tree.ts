/**
 * @file Rebuilds trace trees from the spans of many processes (a parent may live in another
 * process: gRPC carries its span id), and computes each trace's critical path and per-phase totals.
 */
import type { SpanRecord } from '@seal/telemetry';

/** A span with its children, in start order. */
export interface SpanNode {
  span: SpanRecord;
  children: SpanNode[];
  depth: number;
  /** On the chain of spans that determines when the root ends. */
  critical: boolean;
}

/** One trace: its roots (normally one; more when a parent span was never written), flattened in display order. */
export interface Trace {
  traceId: string;
  roots: SpanNode[];
  /** Depth-first, children in start order: one waterfall row each. */
  rows: SpanNode[];
  startMs: number;
  endMs: number;
  services: string[];
  /** Span names whose parent is not in the trace although they name one (a process died, or did not export). */
  orphans: number;
}

/** Total time and count per span name ("phase"), longest first. */
export interface PhaseTotal {
  name: string;
  count: number;
  totalMs: number;
  /** Time of this phase on the critical path. */
  criticalMs: number;
}

/** Groups spans by trace id and links each to its parent; traces come back in start order. */
export function buildTraces(spans: SpanRecord[]): Trace[] {
  const byTrace = new Map<string, SpanRecord[]>();
  for (const span of spans) {
    const list = byTrace.get(span.traceId) ?? [];
    list.push(span);
    byTrace.set(span.traceId, list);
  }
  return [...byTrace.entries()].map(([traceId, list]) => buildTrace(traceId, list)).sort((a, b) => a.startMs - b.startMs);
}

function buildTrace(traceId: string, spans: SpanRecord[]): Trace {
  const nodes = new Map<string, SpanNode>();
  // NOTE: a span id written twice (a retried export) keeps the first record, so it is drawn once.
  // Ties in start time: the longer span first, then by id, so the drawing does not depend on file order.
  for (const span of [...spans].sort((a, b) => a.startMs - b.startMs || b.endMs - a.endMs || a.spanId.localeCompare(b.spanId))) {
    if (!nodes.has(span.spanId)) nodes.set(span.spanId, { span, children: [], depth: 0, critical: false });
  }
  const roots: SpanNode[] = [];
  let orphans = 0;
  for (const node of nodes.values()) {
    const parent = node.span.parentSpanId ? nodes.get(node.span.parentSpanId) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else {
      if (node.span.parentSpanId) orphans++;
      roots.push(node);
    }
  }
  const rows: SpanNode[] = [];
  const visit = (node: SpanNode, depth: number) => {
    node.depth = depth;
    rows.push(node);
    for (const child of node.children) visit(child, depth + 1);
  };
  for (const root of roots) visit(root, 0);
  // The critical path starts at the root that ends last: it is what the trace's end waits for.
  const lastRoot = roots.reduce((a, b) => (b.span.endMs > a.span.endMs ? b : a));
  markCriticalPath(lastRoot);
  return {
    traceId,
    roots,
    rows,
    startMs: Math.min(...rows.map((n) => n.span.startMs)),
    endMs: Math.max(...rows.map((n) => n.span.endMs)),
    services: [...new Set(rows.map((n) => n.span.service))].sort(),
    orphans,
  };
}

/**
 * Marks the spans that determine `node`'s end time. Walking back from the end: the child that
 * finished last (before the cursor) is what the parent waited for; before that child started,
 * the parent waited for whichever child finished last before that moment, and so on. Children
 * are clamped to the parent (clocks of different hosts disagree a little, and an async child may
 * outlive its parent without delaying it).
 */
export function markCriticalPath(node: SpanNode): void {
  node.critical = true;
  const { startMs, endMs } = node.span;
  const clamp = (t: number) => Math.min(Math.max(t, startMs), endMs);
  const pending = node.children
    .map((child) => ({ child, start: clamp(child.span.startMs), end: clamp(child.span.endMs) }))
    .sort((a, b) => b.end - a.end);
  let cursor = endMs;
  for (const entry of pending) {
    if (entry.end > cursor) continue; // overlaps the chain already chosen: ran in parallel, did not delay it
    markCriticalPath(entry.child);
    cursor = entry.start;
  }
}

/** The critical spans in time order. */
export function criticalPath(trace: Trace): SpanNode[] {
  return trace.rows.filter((n) => n.critical).sort((a, b) => a.span.startMs - b.span.startMs);
}

/**
 * Per span name: count, summed duration, and the time it holds on the critical path (its own
 * critical time minus that of its critical children, so nested phases are not counted twice).
 */
export function phaseTotals(trace: Trace): PhaseTotal[] {
  const totals = new Map<string, PhaseTotal>();
  for (const node of trace.rows) {
    const total = totals.get(node.span.name) ?? { name: node.span.name, count: 0, totalMs: 0, criticalMs: 0 };
    total.count++;
    total.totalMs += node.span.durationMs;
    if (node.critical) {
      const childCritical = node.children.filter((c) => c.critical).reduce((sum, c) => sum + overlapMs(c.span, node.span), 0);
      total.criticalMs += Math.max(0, node.span.durationMs - childCritical);
    }
    totals.set(node.span.name, total);
  }
  return [...totals.values()].sort((a, b) => b.totalMs - a.totalMs);
}

function overlapMs(inner: SpanRecord, outer: SpanRecord): number {
  return Math.max(0, Math.min(inner.endMs, outer.endMs) - Math.max(inner.startMs, outer.startMs));
}

/** `<service>\t<count> spans\ttraces=<id>,<id>`, one line per service, sorted by service; trace ids in first-seen order. */
export function formatSummary(spans: SpanRecord[]): string {
  const byService = new Map<string, { count: number; traces: string[] }>();
  // Ties in start time: the longer span first, then by id, so the drawing does not depend on file order.
  for (const span of [...spans].sort((a, b) => a.startMs - b.startMs || b.endMs - a.endMs || a.spanId.localeCompare(b.spanId))) {
    const entry = byService.get(span.service) ?? { count: 0, traces: [] };
    entry.count++;
    if (!entry.traces.includes(span.traceId)) entry.traces.push(span.traceId);
    byService.set(span.service, entry);
  }
  return [...byService.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, { count, traces }]) => `${service}\t${count} spans\ttraces=${traces.join(',')}\n`)
    .join('');
}
