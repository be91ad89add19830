/** @file A small pool of session workers: request/response over postMessage, one queue per worker. */
import { Worker } from 'node:worker_threads';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** One worker thread and its in-flight requests. */
export class SessionWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** Graphs placed on this worker; the pool balances on it. */
  load = 0;
  /** Live Runtime.allocate groups held here (each keeps its runs on this worker). */
  pinned = 0;
  /** Set once the thread has exited; later requests fail at once instead of waiting forever. */
  private dead: Error | null = null;

  constructor() {
    // NOTE: the worker is plain .mjs and gets an empty execArgv, so it starts the same whether the
    // parent runs under node, tsx or vitest (none of their TypeScript loaders is needed in it).
    this.worker = new Worker(new URL('./session-worker.mjs', import.meta.url), { execArgv: [] });
    this.worker.on('message', (msg: { id: number; result?: unknown; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.result);
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => {
      this.dead = new Error(`session worker exited with code ${code}`);
      this.failAll(this.dead);
    });
    // Idle workers must not keep the process alive.
    this.worker.unref();
  }

  /** Requests sent and not yet answered. */
  get inflight(): number {
    return this.pending.size;
  }

  request<T>(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, {
        resolve: (v) => {
          if (this.pending.size === 0) this.worker.unref();
          resolve(v as T);
        },
        reject: (e) => {
          if (this.pending.size === 0) this.worker.unref();
          reject(e);
        },
      });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

export class WorkerPool {
  private readonly workers: SessionWorker[];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`workers must be a positive integer, got ${size}`);
    this.workers = Array.from({ length: size }, () => new SessionWorker());
  }

  /** The least-loaded worker; `place` counts a new session on it. */
  pick(place = true): SessionWorker {
    const w = this.workers.reduce((a, b) => (b.load < a.load ? b : a));
    if (place) w.load++;
    return w;
  }

  /** Sends one message to every worker (weight uploads). */
  broadcast(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<unknown[]> {
    if (transfer.length > 0 && this.workers.length > 1) throw new Error('broadcast: cannot move buffers to several workers');
    return Promise.all(this.workers.map((w) => w.request(msg, transfer)));
  }

  get size(): number {
    return this.workers.length;
  }

  get all(): readonly SessionWorker[] {
    return this.workers;
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
