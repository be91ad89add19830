/**
 * @file report.md and report.html of a run: the paper-style table, the reward and accuracy curves
 * (PNG files beside the report, drawn by charts.ts), the per-phase timings and the resolved config.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accuracyChart, rewardChart } from './charts';
import type { Results } from './results';
import type { Timings } from './timings';

export interface ReportInput {
  runId: string;
  results: Results;
  timings: Timings;
  /** the resolved config as YAML (formatResolvedConfig). */
  configYaml: string;
  /** edits scored 0 without a measurement, by reason, over all rounds. */
  zeroReasons: Record<string, number>;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function timingRows(t: Timings): [string, string][] {
  return [
    ['generate (self-edits)', seconds(t.phases.generate)],
    ['evaluate (E-step wall)', seconds(t.phases.evaluate)],
    ['  inner SFT (summed over evaluations)', seconds(t.inner.sftMs)],
    ['  eval / scoring (summed over evaluations)', seconds(t.inner.evalMs)],
    ['select', seconds(t.phases.select)],
    ['M-step (teacher update)', seconds(t.phases.update)],
    ['checkpoint push', seconds(t.phases.push)],
    ['table (test passages)', seconds(t.tableMs)],
    ['total wall', seconds(t.wallMs)],
  ];
}

function markdown(input: ReportInput): string {
  const { results } = input;
  const reasons = Object.entries(input.zeroReasons);
  return [
    `# SEAL run ${input.runId}`,
    '',
    'Closed-book accuracy on the held-out test passages after the inner-loop update (paper Table 2 style).',
    '',
    '| condition | accuracy | questions |',
    '| --- | ---: | ---: |',
    ...results.table.map((r) => `| ${r.condition} | ${pct(r.accuracy)} | ${r.n_questions} |`),
    '',
    '| round | mean reward | kept |',
    '| ---: | ---: | ---: |',
    ...results.rounds.map((r) => `| ${r.round} | ${r.mean_reward.toFixed(4)} | ${r.kept} |`),
    '',
    reasons.length ? `Edits scored 0 without a measurement: ${reasons.map(([k, v]) => `${k} ${v}`).join(', ')}.` : 'No edit was refused.',
    '',
    '![mean reward per round](reward.png)',
    '',
    '![test accuracy by condition](accuracy.png)',
    '',
    '## Timings',
    '',
    '| phase | time |',
    '| --- | ---: |',
    ...timingRows(input.timings).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '## Config',
    '',
    '```yaml',
    input.configYaml.trimEnd(),
    '```',
    '',
  ].join('\n');
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function html(input: ReportInput, svgs: { reward: string; accuracy: string }): string {
  const rows = (cells: string[][]) => cells.map((c) => `<tr>${c.map((x) => `<td>${escape(x)}</td>`).join('')}</tr>`).join('\n');
  const { results } = input;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>SEAL run ${escape(input.runId)}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}td:first-child,th:first-child{text-align:left}pre{background:#f6f6f6;padding:1em}</style>
</head><body>
<h1>SEAL run ${escape(input.runId)}</h1>
<p>Closed-book accuracy on the held-out test passages after the inner-loop update (paper Table 2 style).</p>
<table><tr><th>condition</th><th>accuracy</th><th>questions</th></tr>
${rows(results.table.map((r) => [r.condition, pct(r.accuracy), String(r.n_questions)]))}
</table>
<table><tr><th>round</th><th>mean reward</th><th>kept</th></tr>
${rows(results.rounds.map((r) => [String(r.round), r.mean_reward.toFixed(4), String(r.kept)]))}
</table>
<figure><img src="reward.png" alt="mean reward per round" width="720"></figure>
<figure><img src="accuracy.png" alt="test accuracy by condition" width="840"></figure>
<details><summary>SVG versions</summary>${svgs.reward}${svgs.accuracy}</details>
<h2>Timings</h2>
<table><tr><th>phase</th><th>time</th></tr>
${rows(timingRows(input.timings))}
</table>
<h2>Config</h2>
<pre>${escape(input.configYaml)}</pre>
</body></html>
`;
}

/** Writes report.md, report.html, reward.png and accuracy.png into `runDir`; returns the paths. */
export async function writeReport(runDir: string, input: ReportInput): Promise<string[]> {
  const [reward, accuracy] = await Promise.all([rewardChart(input.results), accuracyChart(input.results)]);
  const files: [string, string | Buffer][] = [
    [reward.name, reward.png],
    [accuracy.name, accuracy.png],
    ['report.md', markdown(input)],
    ['report.html', html(input, { reward: reward.svg, accuracy: accuracy.svg })],
  ];
  for (const [name, data] of files) writeFileSync(join(runDir, name), data);
  return files.map(([name]) => join(runDir, name));
}
