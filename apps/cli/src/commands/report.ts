/** @file `seal report RUN`: redraws a finished run's report (table, curves, timings, config) from its results.json, timings.json and journal, without any model work. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatResolvedConfig, Journal, summarizeRounds } from '@seal/coordinator';
import { writeReport } from '../report/report-files';
import { readResults } from '../report/results';
import { formatSummary } from '../report/summary';
import { readTimings } from '../report/timings';

async function report(run: string): Promise<void> {
  const runDir = resolve(run);
  const results = readResults(runDir);
  const journal = Journal.open(runDir);
  let runId: string;
  let configYaml: string;
  const zeroReasons: Record<string, number> = {};
  try {
    runId = journal.runId;
    configYaml = formatResolvedConfig(journal.config);
    for (const round of summarizeRounds(journal)) for (const [k, v] of Object.entries(round.zeroReasons)) zeroReasons[k] = (zeroReasons[k] ?? 0) + v;
  } finally {
    journal.close();
  }
  const timings = readTimings(runDir);
  await writeReport(runDir, { runId, results, timings, configYaml, zeroReasons });
  process.stdout.write(formatSummary(runDir, { runId, results, timings }));
}

export function register(program: Command): void {
  program
    .command('report')
    .description('redraw the report (report.md, report.html, curves) of a finished seal run')
    .argument('<run>', 'the run directory')
    .action((run: string) => report(run));
}
