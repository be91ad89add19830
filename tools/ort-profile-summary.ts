/**
 * @file `node --import tsx tools/ort-profile-summary.ts PROFILE.json [--top 15]`: where one ORT
 * session's time goes, from the profile `seal bench --profile` (or `createRuntime({ profile })`)
 * writes. Takes the median-length `model_run` after the first (warm-up) and prints kernel time per
 * operator type and the heaviest operator × input-shape groups, so a training or decode step's cost
 * can be read without a trace viewer.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface TraceEvent {
  cat?: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[] };
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '15' } } });
const file = positionals[0];
if (!file) throw new Error('usage: ort-profile-summary.ts PROFILE.json [--top N]');
let events: TraceEvent[];
try {
  events = JSON.parse(readFileSync(file, 'utf8')) as TraceEvent[];
} catch (error) {
  throw new Error(`${file}: not an ORT profile (${(error as Error).message}); was the session released or the runtime ended?`);
}
const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
if (runs.length === 0) throw new Error(`${file}: no model_run events (the session never ran)`);
const timed = runs.length > 1 ? runs.slice(1) : runs;
const run = [...timed].sort((a, b) => a.dur - b.dur)[timed.length >> 1]!;
const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= run.ts && e.ts <= run.ts + run.dur);
const total = kernels.reduce((sum, e) => sum + e.dur, 0);
const ms = (us: number) => (us / 1000).toFixed(2).padStart(8);

function table(title: string, key: (e: TraceEvent) => string): void {
  const groups = new Map<string, { us: number; n: number }>();
  for (const e of kernels) {
    const g = groups.get(key(e)) ?? { us: 0, n: 0 };
    g.us += e.dur;
    g.n++;
    groups.set(key(e), g);
  }
  console.log(`\n${title}`);
  for (const [name, g] of [...groups].sort((a, b) => b[1].us - a[1].us).slice(0, Number(values.top))) {
    console.log(`${ms(g.us)} ms ${((100 * g.us) / total).toFixed(1).padStart(5)} %  ×${String(g.n).padEnd(4)} ${name}`);
  }
}

console.log(`${file}: ${runs.length} runs; median timed run ${ms(run.dur).trim()} ms, kernels ${ms(total).trim()} ms over ${kernels.length} nodes`);
table('by operator', (e) => e.args?.op_name ?? '?');
table('by operator and input shapes', (e) => `${e.args?.op_name ?? '?'} ${(e.args?.input_type_shape ?? []).map((t) => JSON.stringify(Object.values(t)[0])).join(' × ')}`);
