/**
 * @file Progress of a `seal run` on stderr, fed by the coordinator's RunEvents: cli-progress bars
 * (rounds, generation, evaluations, table) with ETA on a terminal, one plain line per milestone
 * otherwise (logs, CI, tests), so a redirected run still says where it is.
 */
import cliProgress from 'cli-progress';
import type { RunEvent } from '@seal/coordinator';

export interface RunProgress {
  onEvent(event: RunEvent): void;
  /** a labelled bar for work outside the rounds (the table's conditions). */
  startTask(label: string): void;
  log(line: string): void;
  stop(): void;
}

export function createRunProgress(stream: NodeJS.WriteStream = process.stderr): RunProgress {
  return stream.isTTY ? new BarProgress(stream) : new LineProgress(stream);
}

/** The evaluations done of a phase: resumed work counts as done, then the pool's own count. */
function evaluationValue(plan: { alreadyDone: number } | undefined, done: number): number {
  return (plan?.alreadyDone ?? 0) + done;
}

class BarProgress implements RunProgress {
  private readonly bars: cliProgress.MultiBar;
  private rounds?: cliProgress.SingleBar;
  private generate?: cliProgress.SingleBar;
  private evaluate?: cliProgress.SingleBar;
  private plan?: { alreadyDone: number };
  private totalsFromPool = false;

  constructor(stream: NodeJS.WriteStream) {
    this.bars = new cliProgress.MultiBar(
      { stream, format: '{label} |{bar}| {value}/{total} {percentage}% ETA {eta_formatted} ({duration_formatted})', etaBuffer: 20, hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'run-start':
        this.rounds = this.bars.create(event.rounds, 0, { label: 'rounds     ' });
        break;
      case 'round-start':
        this.rounds?.update(event.round - 1);
        break;
      case 'generate-progress':
        this.generate ??= this.bars.create(event.total, 0, { label: `generate r${event.round}` });
        this.generate.setTotal(event.total);
        this.generate.update(event.done);
        break;
      case 'evaluate-plan':
        this.evaluate?.stop();
        this.plan = { alreadyDone: event.alreadyDone };
        this.totalsFromPool = false;
        this.evaluate = this.bars.create(event.total, event.alreadyDone, { label: `evaluate r${event.round}` });
        break;
      case 'progress':
        if (this.totalsFromPool) this.evaluate?.setTotal(event.total);
        this.evaluate?.update(evaluationValue(this.plan, event.done));
        break;
      case 'round-end':
        this.rounds?.update(event.round);
        this.generate?.stop();
        this.generate = undefined;
        break;
      case 'student-down':
        this.bars.log(`student ${event.studentId} down (${event.error}); retry in ${event.retryInMs} ms\n`);
        break;
      case 'student-join':
      case 'student-leave':
      case 'resolve-failed':
        this.bars.log(`${membership(event)}\n`);
        break;
      default:
    }
  }

  startTask(label: string): void {
    this.evaluate?.stop();
    this.plan = { alreadyDone: 0 };
    this.evaluate = this.bars.create(1, 0, { label: label.padEnd(11) });
    // The table's pool reports its own totals through 'progress'; a round's come from 'evaluate-plan'.
    this.totalsFromPool = true;
  }

  log(line: string): void {
    this.bars.log(`${line}\n`);
  }

  stop(): void {
    this.bars.stop();
  }
}

/** A line for a change in the pool's members behind a name (replicas joining, leaving, DNS trouble). */
function membership(event: Extract<RunEvent, { type: 'student-join' | 'student-leave' | 'resolve-failed' }>): string {
  if (event.type === 'resolve-failed') return `students ${event.group}: cannot resolve (${event.error}); keeping the current members`;
  return `student ${event.address} ${event.type === 'student-join' ? 'joined' : 'left'} (${event.group})`;
}

class LineProgress implements RunProgress {
  constructor(private readonly stream: NodeJS.WriteStream) {}

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'run-start':
        this.log(`${event.resumed ? 'resuming' : 'starting'} run ${event.runId} in ${event.runDir} (${event.rounds} rounds)`);
        break;
      case 'round-start':
        this.log(`round ${event.round}/${event.rounds}: ${event.passages} passages`);
        break;
      case 'phase-end':
        this.log(`round ${event.round}: ${event.phase} done in ${(event.ms / 1000).toFixed(1)} s`);
        break;
      case 'evaluate-plan':
        this.log(`round ${event.round}: ${event.total} evaluations (${event.alreadyDone} already journaled)`);
        break;
      case 'round-end':
        this.log(`round ${event.round}: mean reward ${event.meanReward.toFixed(3)}, kept ${event.kept}, checkpoint ${event.checkpointId}`);
        break;
      case 'student-down':
        this.log(`student ${event.studentId} down (${event.error}); retry in ${event.retryInMs} ms`);
        break;
      case 'student-join':
      case 'student-leave':
      case 'resolve-failed':
        this.log(membership(event));
        break;
      default:
    }
  }

  startTask(label: string): void {
    this.log(`table: ${label}`);
  }

  log(line: string): void {
    this.stream.write(`${line}\n`);
  }

  stop(): void {}
}
