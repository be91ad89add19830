/**
 * @file Per-phase timings of a run, summed over its sessions (a resumed run adds to what the
 * stopped one measured) and kept in `<run>/timings.json` so `seal report` can redraw them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Phase, RoundSummary } from '@seal/coordinator';

export const TIMINGS_FILE = 'timings.json';

export interface Timings {
  /** coordinator wall time per phase. */
  phases: Record<Phase, number>;
  /** inner-loop time the students reported, summed over evaluations (parallel students overlap). */
  inner: { sftMs: number; evalMs: number };
  tableMs: number;
  wallMs: number;
}

export function emptyTimings(): Timings {
  return { phases: { generate: 0, evaluate: 0, select: 0, update: 0, push: 0 }, inner: { sftMs: 0, evalMs: 0 }, tableMs: 0, wallMs: 0 };
}

export function readTimings(runDir: string): Timings {
  const path = join(runDir, TIMINGS_FILE);
  return existsSync(path) ? { ...emptyTimings(), ...(JSON.parse(readFileSync(path, 'utf8')) as Timings) } : emptyTimings();
}

/** Adds one session's phase times; the inner-loop sums are read whole from the journal's rounds. */
export function addSession(before: Timings, session: { phaseMs: Partial<Record<Phase, number>>; tableMs: number; wallMs: number }, rounds: RoundSummary[]): Timings {
  const phases = { ...before.phases };
  for (const [phase, ms] of Object.entries(session.phaseMs) as [Phase, number][]) phases[phase] += ms;
  return {
    phases,
    inner: { sftMs: rounds.reduce((s, r) => s + r.studentMs.sft, 0), evalMs: rounds.reduce((s, r) => s + r.studentMs.eval, 0) },
    tableMs: before.tableMs + session.tableMs,
    wallMs: before.wallMs + session.wallMs,
  };
}

export function writeTimings(runDir: string, timings: Timings): void {
  writeFileSync(join(runDir, TIMINGS_FILE), `${JSON.stringify(timings, null, 2)}\n`);
}
