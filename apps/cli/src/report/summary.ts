/** @file What `seal run` and `seal report` print at the end: the table, the rounds, the per-phase timings and where the files are. */
import type { Results } from './results';
import type { Timings } from './timings';

export function formatSummary(runDir: string, result: { runId: string; results: Results; timings: Timings }): string {
  const { results, timings } = result;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const lines = [
    `run ${result.runId} → ${runDir}`,
    ...results.table.map((r) => `  ${r.condition.padEnd(16)} ${(100 * r.accuracy).toFixed(1).padStart(5)}%  (${r.n_questions} questions)`),
    ...results.rounds.map((r) => `  round ${r.round}: mean reward ${r.mean_reward.toFixed(4)}, kept ${r.kept}`),
    `  timings: generate ${s(timings.phases.generate)}, inner SFT ${s(timings.inner.sftMs)}, eval ${s(timings.inner.evalMs)} (summed over evaluations), ` +
      `E-step wall ${s(timings.phases.evaluate)}, M-step ${s(timings.phases.update)}, push ${s(timings.phases.push)}, table ${s(timings.tableMs)}, total ${s(timings.wallMs)}`,
    `  report: ${runDir}/report.md, ${runDir}/report.html; results: ${runDir}/results.json`,
  ];
  return `${lines.join('\n')}\n`;
}
