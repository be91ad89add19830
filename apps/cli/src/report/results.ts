/** @file results.json of a run directory: the paper-style table and the per-round rewards, in exactly the shape external checks read. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RoundSummary, TableRow } from '@seal/coordinator';

export const RESULTS_FILE = 'results.json';

export interface Results {
  table: { condition: string; accuracy: number; n_questions: number }[];
  rounds: { round: number; mean_reward: number; kept: number }[];
}

export function buildResults(table: TableRow[], rounds: RoundSummary[]): Results {
  return {
    table: table.map((row) => ({ condition: row.condition, accuracy: row.accuracy, n_questions: row.n_questions })),
    rounds: rounds.map((r) => ({ round: r.round, mean_reward: r.meanReward, kept: r.kept })),
  };
}

export function writeResults(runDir: string, results: Results): void {
  writeFileSync(join(runDir, RESULTS_FILE), `${JSON.stringify(results, null, 2)}\n`);
}

export function readResults(runDir: string): Results {
  const path = join(runDir, RESULTS_FILE);
  let parsed: Results;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Results;
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed.table) || !Array.isArray(parsed.rounds)) throw new Error(`${path}: expected {"table": [...], "rounds": [...]}`);
  return parsed;
}
