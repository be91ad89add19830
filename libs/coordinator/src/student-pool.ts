/**
 * @file Spreads evaluations over N students: bounded in-flight work per student (its `capacity`),
 * per-call deadlines, backoff on unavailable-like failures, re-issue of a dead student's work
 * elsewhere, revival of a student that comes back, each result delivered exactly once.
 */
import type { RetryConfig } from './config';
import { describeError, errorCode, isRetryable, SealError, throwIfAborted, unavailable } from './errors';
import type { CheckpointRef, EvaluateJob, EvaluateResult, Student, StudentInfo } from './roles';
import { linkedSignal, raceAbort, sleep } from './signals';

export interface PoolMember {
  readonly id: string;
  readonly student: Student;
  up: boolean;
  capacity: number;
  maxContextTokens: number;
  inFlight: number;
  done: number;
  failures: number;
  /** failures since the last success; resets when the student answers. */
  consecutiveFailures: number;
  nextProbeAt: number;
  info?: StudentInfo;
}

export interface StudentProgress {
  studentId: string;
  up: boolean;
  inFlight: number;
  capacity: number;
  done: number;
  failures: number;
}

export type PoolEvent =
  | { type: 'progress'; done: number; total: number; students: StudentProgress[] }
  | { type: 'student-down'; studentId: string; error: string; retryInMs: number }
  | { type: 'student-up'; studentId: string }
  | { type: 'retry'; idempotencyKey: string; attempt: number; studentId: string; error: string };

export interface StudentPoolOptions {
  retry: RetryConfig;
  /** per-call deadline for evaluate, from dispatch. */
  evaluateDeadlineMs: number;
  infoDeadlineMs: number;
  /** dispatches of one job across students before the pool gives up (the run stays resumable). */
  maxEvaluateAttempts: number;
  onEvent?: (event: PoolEvent) => void;
}

export interface EvaluateAllOptions {
  signal?: AbortSignal;
  /** sends a checkpoint a student reported missing (failed_precondition), before the job is retried there. */
  ensureCheckpoint?: (member: PoolMember, checkpoint: CheckpointRef, signal: AbortSignal) => Promise<void>;
  /** throws to refuse an untrustworthy result; the run stops (see evaluation.ts). */
  validate?: (job: EvaluateJob, result: EvaluateResult, studentId: string) => void;
  /** called once per idempotency key, in completion order; the journal write happens here. */
  onResult: (job: EvaluateJob, result: EvaluateResult, meta: { studentId: string; attempts: number }) => void | Promise<void>;
  /** called when a dispatch fails and the job goes back to the queue. */
  onAttemptFailed?: (job: EvaluateJob, studentId: string, error: unknown) => void;
}

interface Pending {
  job: EvaluateJob;
  attempts: number;
  /** students this job already triggered a checkpoint push on; a second miss there is fatal. */
  pushedTo: Set<string>;
}

export class StudentPool {
  readonly members: PoolMember[];
  private readonly options: StudentPoolOptions;

  constructor(students: Student[], options: StudentPoolOptions) {
    if (students.length === 0) throw new SealError('invalid_argument', 'the student pool needs at least one student');
    this.options = options;
    this.members = students.map((student, i) => ({
      id: `student-${i}`,
      student,
      up: false,
      capacity: 1,
      maxContextTokens: Number.POSITIVE_INFINITY,
      inFlight: 0,
      done: 0,
      failures: 0,
      consecutiveFailures: 0,
      nextProbeAt: 0,
    }));
  }

  /** Asks every student for its info; at least one must answer. */
  async connect(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.members.map((m) => this.probe(m, signal)));
    if (!this.members.some((m) => m.up)) {
      throw unavailable(`no student answered Info: ${this.members.map((m) => m.id).join(', ')}`);
    }
  }

  /** The smallest context among live students: edits longer than this cannot be scored anywhere. */
  maxContextTokens(): number {
    const live = this.members.filter((m) => m.up);
    return Math.min(...(live.length ? live : this.members).map((m) => m.maxContextTokens));
  }

  /** Runs `fn` on every live student (checkpoint pushes); a student that fails is marked down. */
  async forEachLive(fn: (member: PoolMember) => Promise<void>, signal?: AbortSignal): Promise<void> {
    await this.probeDue(signal);
    await Promise.all(
      this.members
        .filter((m) => m.up)
        .map(async (m) => {
          try {
            await fn(m);
          } catch (error) {
            if (!isRetryable(error)) throw error;
            this.markDown(m, error);
          }
        }),
    );
  }

  progress(): StudentProgress[] {
    return this.members.map((m) => ({ studentId: m.id, up: m.up, inFlight: m.inFlight, capacity: m.capacity, done: m.done, failures: m.failures }));
  }

  /** Evaluates every job once; resolves when all results were delivered to `onResult`. */
  async evaluateAll(jobs: EvaluateJob[], options: EvaluateAllOptions): Promise<void> {
    const queue: Pending[] = jobs.map((job) => ({ job, attempts: 0, pushedTo: new Set() }));
    const delivered = new Set<string>();
    const total = jobs.length;
    const inFlight = new Set<Promise<void>>();
    const stop = new AbortController();
    const onAbort = () => stop.abort(options.signal!.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let fatal: unknown;
    const stopped = sleep(2 ** 31 - 1, stop.signal);

    const runOne = async (member: PoolMember, pending: Pending): Promise<void> => {
      pending.attempts += 1;
      try {
        const result = await this.callEvaluate(member, pending.job, stop.signal);
        options.validate?.(pending.job, result, member.id);
        this.markUp(member);
        member.done += 1;
        if (!delivered.has(pending.job.idempotencyKey)) {
          delivered.add(pending.job.idempotencyKey);
          await options.onResult(pending.job, result, { studentId: member.id, attempts: pending.attempts });
        }
        this.emit({ type: 'progress', done: delivered.size, total, students: this.progress() });
      } catch (error) {
        if (stop.signal.aborted) return;
        options.onAttemptFailed?.(pending.job, member.id, error);
        const code = errorCode(error);
        if (code === 'failed_precondition' && options.ensureCheckpoint && !pending.pushedTo.has(member.id)) {
          // The student lacks the base checkpoint (it restarted, or joined late): push it, retry there.
          pending.pushedTo.add(member.id);
          pending.attempts -= 1;
          try {
            await options.ensureCheckpoint(member, pending.job.baseCheckpoint, stop.signal);
          } catch (pushError) {
            if (!isRetryable(pushError)) throw pushError;
            this.markDown(member, pushError);
          }
          queue.unshift(pending);
          return;
        }
        if (!isRetryable(error)) throw error;
        member.failures += 1;
        this.markDown(member, error);
        if (pending.attempts >= this.options.maxEvaluateAttempts) {
          throw unavailable(
            `evaluation ${pending.job.idempotencyKey} failed ${pending.attempts} times; last: ${describeError(error)}`,
            { idempotencyKey: pending.job.idempotencyKey },
            error,
          );
        }
        this.emit({ type: 'retry', idempotencyKey: pending.job.idempotencyKey, attempt: pending.attempts, studentId: member.id, error: describeError(error) });
        queue.unshift(pending);
      }
    };

    try {
      while (fatal === undefined) {
        throwIfAborted(options.signal);
        let member: PoolMember | undefined;
        while (queue.length > 0 && (member = this.pickMember())) {
          const pending = queue.shift()!;
          const chosen = member;
          chosen.inFlight += 1;
          const task: Promise<void> = runOne(chosen, pending)
            .catch((error) => {
              fatal ??= error;
              stop.abort(error);
            })
            .finally(() => {
              chosen.inFlight -= 1;
              inFlight.delete(task);
            });
          inFlight.add(task);
        }
        if (queue.length === 0 && inFlight.size === 0) break;
        if (inFlight.size === 0) this.assertSomeoneMayReturn();
        let timer: NodeJS.Timeout | undefined;
        const nap = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.msUntilNextProbe())));
        await Promise.race([...inFlight, nap, stopped]);
        clearTimeout(timer);
        await this.probeDue(stop.signal);
      }
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      // Always fire `stop`: it ends the `stopped` sleep's timer and any call still in flight.
      stop.abort(fatal ?? options.signal?.reason ?? new SealError('cancelled', 'evaluations finished'));
      await Promise.allSettled([...inFlight]);
    }
    if (fatal !== undefined) throw fatal;
    throwIfAborted(options.signal);
  }

  // ----- internals -----------------------------------------------------------------------------

  /** Least-loaded live student with a free slot (load = inFlight / capacity), ties by fewest done. */
  private pickMember(): PoolMember | undefined {
    let best: PoolMember | undefined;
    for (const m of this.members) {
      if (!m.up || m.inFlight >= m.capacity) continue;
      if (!best) best = m;
      else {
        const load = m.inFlight / m.capacity - best.inFlight / best.capacity;
        if (load < 0 || (load === 0 && m.done < best.done)) best = m;
      }
    }
    return best;
  }

  private async callEvaluate(member: PoolMember, job: EvaluateJob, runSignal: AbortSignal): Promise<EvaluateResult> {
    const call = linkedSignal(runSignal, this.options.evaluateDeadlineMs, `student ${member.id} Evaluate ${job.idempotencyKey}`);
    try {
      // NOTE: the race matters — a hung student that ignores its signal must not hold the run.
      return await raceAbort(member.student.evaluate(job, { signal: call.signal, deadline: call.deadline }), call.signal);
    } finally {
      call.dispose();
    }
  }

  private async probe(member: PoolMember, signal?: AbortSignal): Promise<void> {
    const call = linkedSignal(signal, this.options.infoDeadlineMs, `student ${member.id} Info`);
    try {
      const info = await raceAbort(member.student.info({ signal: call.signal, deadline: call.deadline }), call.signal);
      if (!member.info && info.studentId) {
        // Two replicas behind one name must still be told apart in progress and the journal.
        const taken = this.members.some((m) => m !== member && m.id === info.studentId);
        (member as { id: string }).id = taken ? `${info.studentId}#${this.members.indexOf(member)}` : info.studentId;
      }
      member.info = info;
      member.capacity = Math.max(1, Math.floor(info.capacity));
      member.maxContextTokens = info.maxContextTokens;
      this.markUp(member);
    } catch (error) {
      throwIfAborted(signal);
      if (!isRetryable(error) && errorCode(error) !== 'cancelled') throw error;
      this.markDown(member, error);
    } finally {
      call.dispose();
    }
  }

  private async probeDue(signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    await Promise.all(this.members.filter((m) => !m.up && m.inFlight === 0 && m.nextProbeAt <= now).map((m) => this.probe(m, signal)));
  }

  private markUp(member: PoolMember): void {
    const wasDown = !member.up;
    member.up = true;
    member.consecutiveFailures = 0;
    if (wasDown) this.emit({ type: 'student-up', studentId: member.id });
  }

  private markDown(member: PoolMember, error: unknown): void {
    member.consecutiveFailures += 1;
    const { initialBackoffMs, multiplier, maxBackoffMs } = this.options.retry;
    const backoff = Math.min(maxBackoffMs, initialBackoffMs * multiplier ** (member.consecutiveFailures - 1));
    member.nextProbeAt = Date.now() + backoff;
    if (member.up) this.emit({ type: 'student-down', studentId: member.id, error: describeError(error), retryInMs: backoff });
    member.up = false;
  }

  private msUntilNextProbe(): number {
    const down = this.members.filter((m) => !m.up);
    if (down.length === 0) return 60_000;
    return Math.max(0, Math.min(...down.map((m) => m.nextProbeAt)) - Date.now());
  }

  /** With nothing in flight and every student down, give up once each has failed maxAttempts times running. */
  private assertSomeoneMayReturn(): void {
    if (this.members.some((m) => m.up)) return;
    if (this.members.every((m) => m.consecutiveFailures >= this.options.retry.maxAttempts)) {
      throw unavailable(
        `all ${this.members.length} students are unreachable after ${this.options.retry.maxAttempts} attempts each: ${this.members.map((m) => m.id).join(', ')}`,
      );
    }
  }

  private emit(event: PoolEvent): void {
    this.options.onEvent?.(event);
  }
}
