/**
 * @file Spreads evaluations over N students: bounded in-flight work per student (its `capacity`),
 * per-call deadlines, backoff on unavailable-like failures, re-issue of a dead student's work
 * elsewhere, revival of a student that comes back, each result delivered exactly once. A name
 * that resolves to many addresses (a StudentGroup) is one member per address, re-resolved
 * periodically so replicas that appear join and replicas that vanish leave.
 */
import type { RetryConfig } from './config';
import { describeError, errorCode, isRetryable, SealError, throwIfAborted, unavailable } from './errors';
import type { CheckpointRef, EvaluateJob, EvaluateResult, Student, StudentInfo } from './roles';
import { linkedSignal, raceAbort, sleep } from './signals';

/**
 * Students behind one name (a headless Service's DNS name): one Student per resolved address.
 * The pool calls `resolve` at connect and every `resolveIntervalMs`; the same address must give
 * back the same Student, so a member keeps its connection across resolutions.
 */
export interface StudentGroup {
  /** The name as configured, e.g. `dns:///seal-student:50052` (for messages). */
  readonly name: string;
  /** The current addresses and their students; throws (e.g. unavailable) when the name does not resolve. */
  resolve(signal?: AbortSignal): Promise<Map<string, Student>>;
}

/** What a pool is built from: single students, and names resolving to many. */
export type StudentSource = Student | StudentGroup;

const isGroup = (source: StudentSource): source is StudentGroup => typeof (source as StudentGroup).resolve === 'function';

export interface PoolMember {
  readonly id: string;
  readonly student: Student;
  /** For a member found by resolving a group: the group and the address. */
  readonly group?: StudentGroup;
  readonly address?: string;
  /** Its address no longer resolves: no new work; it leaves the pool once its in-flight work ends. */
  retired: boolean;
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
  | { type: 'retry'; idempotencyKey: string; attempt: number; studentId: string; error: string }
  /** A group's name resolved to a new address (a replica appeared) / no longer resolves to one. */
  | { type: 'student-join'; studentId: string; group: string; address: string }
  | { type: 'student-leave'; studentId: string; group: string; address: string }
  /** Resolving a group's name failed; its current members stay until the next resolution. */
  | { type: 'resolve-failed'; group: string; error: string };

export interface StudentPoolOptions {
  retry: RetryConfig;
  /** per-call deadline for evaluate, from dispatch. */
  evaluateDeadlineMs: number;
  infoDeadlineMs: number;
  /** dispatches of one job across students before the pool gives up (the run stays resumable). */
  maxEvaluateAttempts: number;
  /** How often group names are resolved again (default 30 s). */
  resolveIntervalMs?: number;
  onEvent?: (event: PoolEvent) => void;
}

export const DEFAULT_RESOLVE_INTERVAL_MS = 30_000;

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
  /** The current members (a group's change as its name is resolved again). */
  readonly members: PoolMember[] = [];
  private readonly options: StudentPoolOptions;
  private readonly groups: StudentGroup[];
  private nextResolveAt = 0;
  /** Resolutions in a row that left the pool without any member (every group resolved to nothing). */
  private emptyResolutions = 0;
  private created = 0;
  /** The last resolution error of each group, cleared when it resolves again (for messages). */
  private readonly resolveErrors = new Map<StudentGroup, string>();

  constructor(sources: StudentSource[], options: StudentPoolOptions) {
    if (sources.length === 0) throw new SealError('invalid_argument', 'the student pool needs at least one student');
    this.options = options;
    this.groups = sources.filter(isGroup);
    for (const source of sources) if (!isGroup(source)) this.members.push(this.newMember(source));
  }

  /** Resolves the groups, then asks every student for its info; at least one must answer. */
  async connect(signal?: AbortSignal): Promise<void> {
    await this.resolveGroups(signal);
    await Promise.all(this.members.map((m) => this.probe(m, signal)));
    if (!this.members.some((m) => m.up)) {
      const empty = this.groups.filter((g) => !this.members.some((m) => m.group === g));
      const names = [...this.members.map((m) => m.id), ...empty.map((g) => `${g.name} (${this.resolveErrors.get(g) ?? 'resolved to no address'})`)];
      throw unavailable(`no student answered Info: ${names.join(', ')}`);
    }
  }

  /** The smallest context among live students: edits longer than this cannot be scored anywhere. */
  maxContextTokens(): number {
    const live = this.members.filter((m) => m.up);
    return Math.min(...(live.length ? live : this.members).map((m) => m.maxContextTokens));
  }

  /** Runs `fn` on every live student (checkpoint pushes); a student that fails is marked down. */
  async forEachLive(fn: (member: PoolMember) => Promise<void>, signal?: AbortSignal): Promise<void> {
    await this.resolveDue(signal);
    await this.probeDue(signal);
    await Promise.all(
      this.members
        .filter((m) => m.up && !m.retired)
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
      // A pool lives across phases: its groups may be due for resolution before the first dispatch.
      await this.resolveDue(stop.signal);
      await this.probeDue(stop.signal);
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
              if (chosen.retired && chosen.inFlight === 0) this.remove(chosen);
            });
          inFlight.add(task);
        }
        if (queue.length === 0 && inFlight.size === 0) break;
        if (inFlight.size === 0) this.assertSomeoneMayReturn();
        let timer: NodeJS.Timeout | undefined;
        const nap = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(this.msUntilNextProbe(), this.msUntilNextResolve()))));
        await Promise.race([...inFlight, nap, stopped]);
        clearTimeout(timer);
        await this.resolveDue(stop.signal);
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

  private newMember(student: Student, group?: StudentGroup, address?: string): PoolMember {
    return {
      id: address ?? `student-${this.created++}`,
      student,
      group,
      address,
      retired: false,
      up: false,
      capacity: 1,
      maxContextTokens: Number.POSITIVE_INFINITY,
      inFlight: 0,
      done: 0,
      failures: 0,
      consecutiveFailures: 0,
      nextProbeAt: 0,
    };
  }

  private async resolveDue(signal?: AbortSignal): Promise<void> {
    if (this.groups.length > 0 && Date.now() >= this.nextResolveAt) await this.resolveGroups(signal);
  }

  /**
   * Resolves every group: a new address becomes a member (probed before use, so its Info gives
   * its capacity); a member whose address is gone is retired. A failed resolution keeps the
   * group's members as they are (DNS hiccups must not empty the pool).
   */
  private async resolveGroups(signal?: AbortSignal): Promise<void> {
    if (this.groups.length === 0) return;
    this.nextResolveAt = Date.now() + (this.options.resolveIntervalMs ?? DEFAULT_RESOLVE_INTERVAL_MS);
    await Promise.all(
      this.groups.map(async (group) => {
        let resolved: Map<string, Student>;
        try {
          resolved = await group.resolve(signal);
        } catch (error) {
          throwIfAborted(signal);
          this.resolveErrors.set(group, describeError(error));
          this.emit({ type: 'resolve-failed', group: group.name, error: describeError(error) });
          return;
        }
        this.resolveErrors.delete(group);
        const current = this.members.filter((m) => m.group === group);
        for (const [address, student] of resolved) {
          const known = current.find((m) => m.address === address && !m.retired);
          if (known) continue;
          const member = this.newMember(student, group, address);
          this.members.push(member);
          this.emit({ type: 'student-join', studentId: member.id, group: group.name, address });
        }
        for (const member of current) {
          if (member.retired || resolved.has(member.address!)) continue;
          member.retired = true;
          this.emit({ type: 'student-leave', studentId: member.id, group: group.name, address: member.address! });
          if (member.inFlight === 0) this.remove(member);
        }
      }),
    );
    this.emptyResolutions = this.members.length === 0 ? this.emptyResolutions + 1 : 0;
  }

  private remove(member: PoolMember): void {
    const at = this.members.indexOf(member);
    if (at >= 0) this.members.splice(at, 1);
  }

  private msUntilNextResolve(): number {
    return this.groups.length === 0 ? Number.POSITIVE_INFINITY : Math.max(0, this.nextResolveAt - Date.now());
  }

  /** Least-loaded live student with a free slot (load = inFlight / capacity), ties by fewest done. */
  private pickMember(): PoolMember | undefined {
    let best: PoolMember | undefined;
    for (const m of this.members) {
      if (!m.up || m.retired || m.inFlight >= m.capacity) continue;
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
        (member as { id: string }).id = taken ? `${info.studentId}#${member.address ?? this.members.indexOf(member)}` : info.studentId;
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
    await Promise.all(this.members.filter((m) => !m.up && !m.retired && m.inFlight === 0 && m.nextProbeAt <= now).map((m) => this.probe(m, signal)));
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
    const down = this.members.filter((m) => !m.up && !m.retired);
    if (down.length === 0) return 60_000;
    return Math.max(0, Math.min(...down.map((m) => m.nextProbeAt)) - Date.now());
  }

  /**
   * With nothing in flight and every student down, give up once each has failed maxAttempts times
   * running (or, with no member at all, once the groups resolved to nothing that many times).
   */
  private assertSomeoneMayReturn(): void {
    const { maxAttempts } = this.options.retry;
    const live = this.members.filter((m) => !m.retired);
    if (live.some((m) => m.up)) return;
    if (live.length === 0 && this.emptyResolutions >= maxAttempts) {
      throw unavailable(`no student: ${this.groups.map((g) => g.name).join(', ')} resolved to no address ${maxAttempts} times in a row`);
    }
    if (live.length > 0 && live.every((m) => m.consecutiveFailures >= maxAttempts)) {
      throw unavailable(`all ${live.length} students are unreachable after ${maxAttempts} attempts each: ${live.map((m) => m.id).join(', ')}`);
    }
  }

  private emit(event: PoolEvent): void {
    this.options.onEvent?.(event);
  }
}
