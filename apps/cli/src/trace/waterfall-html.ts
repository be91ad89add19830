/**
 * @file Draws traces as one self-contained HTML page with inline SVG waterfalls: a row per span,
 * indented by depth, colored by service, the critical path outlined, and per-phase totals.
 */
import type { SpanRecord } from '@seal/telemetry';
import { criticalPath, phaseTotals, type SpanNode, type Trace } from './span-tree';

const ROW_HEIGHT = 18;
const LABEL_WIDTH = 360;
const BAR_WIDTH = 760;
const INDENT = 12;
const AXIS_HEIGHT = 22;
/** Colorblind-safe (Okabe–Ito) first, so the usual teacher/student/cli trio is easy to tell apart. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999999'];
const CRITICAL_STROKE = '#d62728';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function formatMs(ms: number): string {
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

/** A stable color per service across every trace of the page. */
function serviceColors(traces: Trace[]): Map<string, string> {
  const services = [...new Set(traces.flatMap((t) => t.services))].sort();
  return new Map(services.map((s, i) => [s, PALETTE[i % PALETTE.length]!]));
}

function tooltip(span: SpanRecord): string {
  const attributes = Object.entries(span.attributes).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [`${span.name} (${span.service}, pid ${span.pid})`, formatMs(span.durationMs), `status ${span.status}${span.statusMessage ? `: ${span.statusMessage}` : ''}`, ...attributes].join('\n');
}

function row(node: SpanNode, index: number, trace: Trace, colors: Map<string, string>): string {
  const total = Math.max(trace.endMs - trace.startMs, 1e-6);
  const y = AXIS_HEIGHT + index * ROW_HEIGHT;
  const x = LABEL_WIDTH + ((node.span.startMs - trace.startMs) / total) * BAR_WIDTH;
  const width = Math.max((node.span.durationMs / total) * BAR_WIDTH, 1);
  const color = colors.get(node.span.service)!;
  const stroke = node.critical ? ` stroke="${CRITICAL_STROKE}" stroke-width="2"` : '';
  // A failed span keeps its name readable and gets a red mark, so retries stand out.
  const error = node.span.status === 'ERROR' ? ` <tspan fill="${CRITICAL_STROKE}">✗ ${escapeHtml((node.span.statusMessage ?? 'error').slice(0, 60))}</tspan>` : '';
  return [
    `<g class="span${node.critical ? ' critical' : ''}"><title>${escapeHtml(tooltip(node.span))}</title>`,
    `<text x="${4 + node.depth * INDENT}" y="${y + 13}" font-weight="${node.critical ? 'bold' : 'normal'}">${escapeHtml(node.span.name)}${error}</text>`,
    `<rect x="${x.toFixed(1)}" y="${y + 3}" width="${width.toFixed(1)}" height="${ROW_HEIGHT - 6}" fill="${color}"${stroke} rx="2"/>`,
    `<text x="${Math.min(x + width + 4, LABEL_WIDTH + BAR_WIDTH - 60).toFixed(1)}" y="${y + 13}" fill="#555">${formatMs(node.span.durationMs)}</text>`,
    '</g>',
  ].join('');
}

function axis(trace: Trace): string {
  const total = trace.endMs - trace.startMs;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const x = LABEL_WIDTH + f * BAR_WIDTH;
    return `<line x1="${x}" y1="${AXIS_HEIGHT - 4}" x2="${x}" y2="${AXIS_HEIGHT + trace.rows.length * ROW_HEIGHT}" stroke="#ddd"/><text x="${x}" y="${AXIS_HEIGHT - 8}" text-anchor="middle" fill="#555">${formatMs(f * total)}</text>`;
  });
  return ticks.join('');
}

function traceSection(trace: Trace, colors: Map<string, string>): string {
  const height = AXIS_HEIGHT + trace.rows.length * ROW_HEIGHT + 4;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${LABEL_WIDTH + BAR_WIDTH + 70}" height="${height}" font-family="system-ui, sans-serif" font-size="11">${axis(trace)}${trace.rows.map((n, i) => row(n, i, trace, colors)).join('')}</svg>`;
  const phases = phaseTotals(trace)
    .map((p) => `<tr><td>${escapeHtml(p.name)}</td><td>${p.count}</td><td>${formatMs(p.totalMs)}</td><td>${formatMs(p.criticalMs)}</td></tr>`)
    .join('');
  const path = criticalPath(trace)
    .map((n) => `${escapeHtml(n.span.name)} <small>(${escapeHtml(n.span.service)}, ${formatMs(n.span.durationMs)})</small>`)
    .join(' → ');
  const orphans = trace.orphans > 0 ? `<p class="warn">${trace.orphans} span(s) name a parent that is not in the files (a process died or did not export); drawn as extra roots.</p>` : '';
  return `<section>
<h2>trace ${trace.traceId}</h2>
<p>${trace.rows.length} spans · ${formatMs(trace.endMs - trace.startMs)} · services: ${trace.services.map(escapeHtml).join(', ')}</p>
${orphans}${svg}
<h3>Critical path</h3><p>${path}</p>
<h3>Per-phase totals</h3>
<table><tr><th>phase (span name)</th><th>spans</th><th>total</th><th>on critical path</th></tr>${phases}</table>
</section>`;
}

/** The whole page; `source` names where the spans came from. */
export function renderWaterfallHtml(traces: Trace[], source: string): string {
  const colors = serviceColors(traces);
  const legend = [...colors.entries()]
    .map(([s, c]) => `<span class="key"><span class="swatch" style="background:${c}"></span>${escapeHtml(s)}</span>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SEAL-TS trace</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; } td, th { padding: 2px 10px; border-bottom: 1px solid #eee; text-align: left; }
.key { margin-right: 1.2em; } .swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: middle; }
.warn { color: #a00; } g.span:hover rect { opacity: 0.75; }
</style></head><body>
<h1>SEAL-TS trace</h1>
<p>${traces.length} trace(s) from ${escapeHtml(source)}. Bars outlined in red are the critical path: the chain of spans the root's end waited for.</p>
<p>${legend}<span class="key"><span class="swatch" style="border:2px solid ${CRITICAL_STROKE}"></span>critical path</span></p>
${traces.map((t) => traceSection(t, colors)).join('\n')}
</body></html>
`;
}
