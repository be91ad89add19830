/** @file The one owner of onnxruntime sessions: compile graphs to cached sessions in workers, run, release. */
import { fnvKey } from '../ir/hash';
import type { DType, HostTensor } from '../ir/dtype';
import { numel, onnxDataType } from '../ir/dtype';
import type { Shape } from '../ir/ops';
import { fmt } from '../ir/shape';
import type { Tensor } from '../frontend/tensor';
import { emitModel } from '../onnx/emit';
import { ModelProto } from '../onnx/gen/onnx';
import { checkProvider, providerFailure, type Provider } from './providers';
import { SessionWorker, WorkerPool } from './worker-pool';

export interface RuntimeOptions {
  provider?: Provider;
  /** ORT intra-op threads per session (tests use 1). */
  intraOpThreads?: number;
  /** Worker threads running sessions. */
  workers?: number;
  /** Let idle ORT intra-op threads spin (lower latency on a dedicated machine; default off). */
  spinning?: boolean;
  /**
   * Path prefix for ORT's per-operator profiles (Chrome trace JSON, one file per session, e.g.
   * `/tmp/prof/step` → `/tmp/prof/step_<date>.json`), written when the session is released or the
   * runtime ends. Off by default: profiling slows every run.
   */
  profile?: string;
}

/** A frozen tensor held by the runtime's workers (see Runtime.uploadWeights); usable as a feed. */
export interface WeightRef {
  readonly dtype: DType;
  readonly shape: number[];
  readonly ref: string;
}

export type Feed = HostTensor | WeightRef;

/** Where a run writes one of its outputs instead of returning it (see RunOptions.writeInto). */
export interface WriteInto {
  /** A tensor made by Runtime.allocate. */
  readonly target: WeightRef;
  /** The axis along which the output is placed; every other dim must equal the target's. */
  readonly axis: number;
  /** Index along `axis` where the output's first slice lands. */
  readonly offset: number;
}

export interface RunOptions {
  /** Buffers to move (not copy) to the worker; they are unusable afterwards. */
  transfer?: ArrayBuffer[];
  /** Aborting rejects the run at once (the worker finishes it and the result is discarded). */
  signal?: AbortSignal;
  /**
   * Outputs copied, in the worker, into allocated tensors instead of coming back: a decode step
   * appends its new keys/values to a cache that never crosses the thread boundary.
   */
  writeInto?: Record<string, WriteInto>;
}

/**
 * What a program run by Runtime.runProgram gets in its worker. Runs are not checked the way
 * CompiledGraph.run checks them: ORT reports a wrong feed.
 */
export interface WorkerContext {
  /** Runs one of the program's graphs (by the name given to runProgram); feeds may be WeightRefs. */
  run(graph: string, feeds: Record<string, Feed>, options?: { writeInto?: Record<string, WriteInto> }): Promise<Record<string, HostTensor>>;
  /** An allocated tensor held by this worker, by ref (live: runs writing into it change it). */
  tensor(ref: string): HostTensor;
  /** Resizes an allocated tensor along `axis` in place (same ref, contents kept, new room zero); returns its new shape. */
  grow(ref: string, axis: number, size: number): number[];
}

/** A module's default export that Runtime.runProgram runs in a session worker. */
export type WorkerProgram<I, O> = (context: WorkerContext, input: I) => Promise<O>;

export interface CompileOptions {
  /**
   * Graph inputs baked into the session as initializers, by input name. ORT pre-packs constant
   * MatMul weights once (small-batch matmuls against fed weights re-pack them on every run, about
   * half of a decode step), at the price of the session holding its own copy of them. Keyed by the
   * identity of each tensor's data, so pass the same arrays to get the cached session back.
   */
  constants?: Record<string, HostTensor>;
  /**
   * Let the session's idle intra-op threads spin this many microseconds before they sleep, even
   * when the runtime does not spin. For latency-bound graphs run back to back (a decode step: ~180
   * tiny ops, then a worker round trip of well under a millisecond): waking a sleeping thread for
   * each parallel op costs more than the op. Bounded, so a busy machine loses at most this much
   * CPU per idle gap instead of a spinning thread's whole time slice. Ignored when the runtime spins.
   */
  spinMicros?: number;
}

let nextWeightId = 0;
let nextConstantId = 0;
/** Identity of constant data for session cache keys (hashing hundreds of MB of weights would cost seconds). */
const constantIds = new WeakMap<object, number>();
const constantId = (t: HostTensor): number => {
  let id = constantIds.get(t.data);
  if (id === undefined) constantIds.set(t.data, (id = nextConstantId++));
  return id;
};

/**
 * A typed array safe to post: postMessage clones a view's WHOLE underlying buffer, so a view into a
 * larger buffer (e.g. one tensor of a safetensors file) is cut down to its own bytes first.
 */
function ownBuffer<T extends HostTensor['data']>(data: T): T {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : (data.slice() as T);
}

export interface GraphInputInfo {
  name: string;
  dtype: DType;
  shape: Shape;
}

export class CompiledGraph {
  private released = false;

  /** Workers holding (or loading) a session of this graph; a settled load is replaced by `true`. */
  private readonly replicas = new Map<SessionWorker, Promise<unknown> | true>();

  constructor(
    private readonly runtime: Runtime,
    readonly key: string,
    readonly inputs: GraphInputInfo[],
    readonly outputNames: string[],
    private readonly load: (w: SessionWorker) => Promise<unknown>,
    first: SessionWorker,
  ) {
    this.replicas.set(first, true);
  }

  /** @internal whether `w` holds (or is loading) a session of this graph */
  heldBy(w: SessionWorker): boolean {
    return this.replicas.has(w);
  }

  /** Number of workers holding a session of this graph (grows when concurrent runs need more). */
  get replicaCount(): number {
    return this.replicas.size;
  }

  /**
   * The least busy worker; a worker without this session gets one (created on first use) when
   * every worker that has it is busy, so concurrent runs of one graph spread over the pool. A run
   * feeding allocated tensors goes to the worker holding them (`pinned`).
   */
  private workerForRun(pinned?: SessionWorker): SessionWorker | Promise<SessionWorker> {
    const holders = [...this.replicas.keys()];
    const best = pinned ?? holders.find((w) => w.inflight === 0) ?? this.runtime.workers().reduce((a, b) => (b.inflight < a.inflight ? b : a));
    const ready = this.replicas.get(best);
    // NOTE: a ready worker is returned synchronously so the caller posts in this same tick and the
    // next run already sees it busy; awaiting here would send simultaneous runs to one worker.
    if (ready === true) return best;
    if (ready) return ready.then(() => best);
    best.load++;
    const loading = this.load(best).then(
      () => this.replicas.set(best, true),
      (e) => {
        this.replicas.delete(best);
        best.load--;
        throw e;
      },
    );
    this.replicas.set(best, loading);
    return loading.then(() => best);
  }

  /** @internal Loads this graph's session on `w` (Runtime.runProgram runs it there). */
  async placeOn(w: SessionWorker): Promise<void> {
    if (this.released) throw new Error(`graph ${this.key} was released`);
    const placed = this.workerForRun(w);
    if (placed instanceof Promise) await placed;
  }

  /**
   * Runs the graph in its worker. Feeds are checked against the graph's inputs (name, dtype, static
   * dims; symbolic dims must agree across feeds). Non-shared feed buffers are copied to the worker;
   * SharedArrayBuffer-backed ones are not.
   */
  async run(feeds: Record<string, Feed>, opts: RunOptions = {}): Promise<Record<string, HostTensor>> {
    if (this.released) throw new Error(`graph ${this.key} was released`);
    opts.signal?.throwIfAborted();
    const bound = new Map<string, number>();
    const wire: Record<string, Feed> = {};
    // Allocated tensors live in one worker: a run that reads or writes them must run there.
    let pinned: SessionWorker | undefined;
    const pin = (ref: WeightRef, what: string) => {
      const w = this.runtime.pinnedWorker(ref);
      if (!w) return;
      if (pinned && pinned !== w) throw new Error(`run: ${what} lives in another worker than the other allocated tensors of this run`);
      pinned = w;
    };
    const writeInto: Record<string, { ref: string; axis: number; offset: number }> = {};
    for (const [name, w] of Object.entries(opts.writeInto ?? {})) {
      if (!this.outputNames.includes(name)) throw new Error(`run: writeInto names '${name}', which is not an output (outputs: ${this.outputNames.join(', ')})`);
      if (!this.runtime.pinnedWorker(w.target)) throw new Error(`run: writeInto '${name}' targets '${w.target.ref}', which was not made by runtime.allocate`);
      if (!Number.isInteger(w.axis) || w.axis < 0 || w.axis >= w.target.shape.length) throw new Error(`run: writeInto '${name}': axis ${w.axis} is not an axis of the target ${fmt(w.target.shape)}`);
      if (!Number.isInteger(w.offset) || w.offset < 0 || w.offset > w.target.shape[w.axis]) throw new Error(`run: writeInto '${name}': offset ${w.offset} is outside the target's axis ${w.axis} (${w.target.shape[w.axis]})`);
      pin(w.target, `writeInto '${name}'`);
      writeInto[name] = { ref: w.target.ref, axis: w.axis, offset: w.offset };
    }
    for (const inp of this.inputs) {
      const f = feeds[inp.name];
      if (!f) throw new Error(`run: missing feed '${inp.name}' (${inp.dtype}${fmt(inp.shape)}); graph inputs: ${this.inputs.map((i) => i.name).join(', ')}`);
      if (f.dtype !== inp.dtype) throw new Error(`run: feed '${inp.name}' is ${f.dtype}, graph wants ${inp.dtype}`);
      if ('data' in f && f.data.buffer instanceof SharedArrayBuffer) {
        throw new Error(`run: feed '${inp.name}' is SharedArrayBuffer-backed, which onnxruntime-node rejects; upload it with runtime.uploadWeights`);
      }
      if (f.shape.length !== inp.shape.length || ('data' in f && f.data.length !== numel(f.shape))) {
        const n = 'data' in f ? `${f.data.length} values` : 'uploaded';
        throw new Error(`run: feed '${inp.name}' has shape ${fmt(f.shape)} (${n}), graph wants ${fmt(inp.shape)}`);
      }
      inp.shape.forEach((d, i) => {
        if (typeof d === 'number') {
          if (f.shape[i] !== d) throw new Error(`run: feed '${inp.name}' has shape ${fmt(f.shape)}, graph wants ${fmt(inp.shape)}`);
        } else if (bound.has(d) && bound.get(d) !== f.shape[i]) {
          throw new Error(`run: symbolic dim '${d}' is ${bound.get(d)} elsewhere but ${f.shape[i]} in feed '${inp.name}'`);
        } else bound.set(d, f.shape[i]);
      });
      if ('ref' in f) pin(f, `feed '${inp.name}'`);
      wire[inp.name] = 'ref' in f ? { dtype: f.dtype, shape: f.shape, ref: f.ref } : { dtype: f.dtype, shape: f.shape, data: ownBuffer(f.data) };
    }
    const picked = this.workerForRun(pinned);
    const worker = picked instanceof Promise ? await picked : picked;
    const result = worker.request<Record<string, HostTensor>>({ kind: 'run', key: this.key, feeds: wire, outputNames: this.outputNames, writeInto }, opts.transfer);
    const { signal } = opts;
    if (!signal) return result;
    // ORT cannot stop a run midway; an abort hands control back now and the late result is dropped.
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason ?? new Error('run aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      result.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Drops one reference; the session is freed when the last holder releases it. */
  async release(): Promise<void> {
    if (this.released) return;
    if (!this.runtime.unref(this.key)) return;
    this.released = true;
    await Promise.all([...this.replicas.keys()].map((w) => {
      w.load--;
      return w.request({ kind: 'release', key: this.key });
    }));
  }
}

export class Runtime {
  readonly provider: Provider;
  readonly intraOpThreads: number;
  readonly spinning: boolean;
  readonly profile: string | undefined;
  private readonly pool: WorkerPool;
  /**
   * Compiled graphs by key, with the number of compile() calls that returned each and have not
   * released it. Counted when compile() is called, not when its promise settles: a holder releasing
   * the last reference in between would otherwise free a session the new caller is about to run.
   */
  private readonly cache = new Map<string, { graph: Promise<CompiledGraph>; refs: number }>();
  /** Allocated tensors (Runtime.allocate) by ref: each lives in exactly one worker. */
  private readonly pinned = new Map<string, SessionWorker>();

  constructor(opts: RuntimeOptions = {}) {
    this.provider = opts.provider ?? 'cpu';
    this.intraOpThreads = opts.intraOpThreads ?? 1;
    this.spinning = opts.spinning ?? false;
    this.profile = opts.profile;
    checkProvider(this.provider);
    this.pool = new WorkerPool(opts.workers ?? 1);
  }

  /**
   * Compiles (or fetches from the cache) the session computing `outputs`; keyed by the graph's
   * structural hash and the identity of any `constants`.
   */
  compile(outputs: Record<string, Tensor>, opts: CompileOptions = {}): Promise<CompiledGraph> {
    const names = Object.keys(outputs).sort();
    const constants = Object.entries(opts.constants ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    const spin = opts.spinMicros ?? 0;
    if (!Number.isInteger(spin) || spin < 0) return Promise.reject(new RangeError(`compile: spinMicros must be a non-negative integer, got ${spin}`));
    const key = fnvKey([...names.map((n) => `${n}=${outputs[n].hash()}`), ...constants.map(([n, t]) => `const ${n}#${constantId(t)}`), `spin ${spin}`].join(';'));
    let entry = this.cache.get(key);
    if (!entry) {
      const created = { graph: this.create(key, outputs, opts.constants ?? {}, spin), refs: 0 };
      created.graph.catch(() => {
        if (this.cache.get(key) === created) this.cache.delete(key);
      });
      this.cache.set(key, (entry = created));
    }
    entry.refs++;
    return entry.graph;
  }

  private async create(key: string, outputs: Record<string, Tensor>, constants: Record<string, HostTensor>, spinMicros: number): Promise<CompiledGraph> {
    const { model, inputs: allInputs, usesFloat64 } = emitModel(outputs);
    const inputs = bakeConstants(model, allInputs, constants);
    const options = { provider: this.provider, intraOpThreads: this.intraOpThreads, spinning: this.spinning, spinMicros, profile: this.profile, optimization: usesFloat64 ? 'basic' : 'all' };
    // Without constants the model bytes are small and kept (copied per load) so more workers can
    // load the graph later; with constants they hold the weights, so they are encoded per load
    // (the proto only points at the caller's arrays) and moved to the worker.
    const kept = Object.keys(constants).length === 0 ? ModelProto.encode(model).finish() : null;
    const load = (w: SessionWorker) => {
      const bytes = kept ?? ModelProto.encode(model).finish();
      return w.request({ kind: 'load', key, bytes, options }, kept ? [] : [bytes.buffer as ArrayBuffer]).catch((e) => {
        throw providerFailure(this.provider, e as Error);
      });
    };
    const worker = this.pool.pick();
    try {
      await load(worker);
    } catch (e) {
      worker.load--;
      throw e;
    }
    return new CompiledGraph(this, key, inputs, Object.keys(outputs), load, worker);
  }

  /** The op types ORT runs for `outputs` after its graph optimizations (to see which fusions fired). */
  async optimizedOpTypes(outputs: Record<string, Tensor>): Promise<string[]> {
    const { model, usesFloat64 } = emitModel(outputs);
    const bytes = ModelProto.encode(model).finish();
    const optimized = await this.pool.pick(false).request<Uint8Array>(
      { kind: 'inspect', bytes, options: { provider: this.provider, optimization: usesFloat64 ? 'basic' : 'all' } },
    );
    return ModelProto.decode(optimized).graph!.node.map((n) => (n.domain ? `${n.domain}.${n.opType}` : n.opType));
  }

  /**
   * Copies frozen tensors into every worker once and returns references to feed instead of the
   * data: each run then passes only an id, and all graphs and adapters share that one copy.
   * `move: true` (one worker) hands over arrays that own their buffers instead of copying them:
   * the caller's arrays are detached afterwards, so a large base is never held twice.
   */
  async uploadWeights(tensors: Record<string, HostTensor>, opts: { move?: boolean } = {}): Promise<Record<string, WeightRef>> {
    const refs: Record<string, WeightRef> = {};
    const wire: Record<string, HostTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of Object.entries(tensors)) {
      const ref = `w${nextWeightId++}:${name}`;
      refs[name] = { dtype: t.dtype, shape: [...t.shape], ref };
      // onnxruntime-node only wraps plain ArrayBuffer-backed arrays: shared ones are copied out.
      const data = t.data.buffer instanceof SharedArrayBuffer ? (t.data.slice() as HostTensor['data']) : ownBuffer(t.data);
      if (opts.move && data === t.data && this.pool.size === 1) transfer.push(data.buffer as ArrayBuffer);
      wire[ref] = { dtype: t.dtype, shape: [...t.shape], data };
    }
    await this.pool.broadcast({ kind: 'put', tensors: wire }, transfer);
    return refs;
  }

  /**
   * Zero-filled tensors held in ONE worker (the least busy holder of `near`'s session, else the
   * least busy worker): runs that feed them or write into them (RunOptions.writeInto) go to that
   * worker, so state such as a KV cache stays there between runs. Free them with dropWeights.
   */
  async allocate(specs: Record<string, { dtype: DType; shape: number[] }>, opts: { near?: CompiledGraph } = {}): Promise<Record<string, WeightRef>> {
    const holders = opts.near ? this.pool.all.filter((w) => opts.near!.heldBy(w)) : [];
    const candidates = holders.length ? holders : this.pool.all;
    const worker = candidates.reduce((a, b) => (b.inflight + b.pinned < a.inflight + a.pinned ? b : a));
    const refs: Record<string, WeightRef> = {};
    const wire: Record<string, { dtype: DType; shape: number[] }> = {};
    for (const [name, spec] of Object.entries(specs)) {
      if (!spec.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`allocate: '${name}' has shape ${fmt(spec.shape)}; dims must be non-negative integers`);
      const ref = `a${nextWeightId++}:${name}`;
      refs[name] = { dtype: spec.dtype, shape: [...spec.shape], ref };
      wire[ref] = { dtype: spec.dtype, shape: [...spec.shape] };
      this.pinned.set(ref, worker);
    }
    worker.pinned++;
    await worker.request({ kind: 'allocate', tensors: wire });
    return refs;
  }

  /**
   * Resizes allocated tensors along `axis` to `size`, keeping their contents (new room is zero):
   * a KV cache can start small and grow, so attention reads only slightly more than the filled
   * part. Returns new refs (the old ones are dropped); the tensors stay in their worker.
   */
  async grow(refs: Record<string, WeightRef>, axis: number, size: number): Promise<Record<string, WeightRef>> {
    const out: Record<string, WeightRef> = {};
    const moves: { from: string; to: string; shape: number[] }[] = [];
    let worker: SessionWorker | undefined;
    for (const [name, r] of Object.entries(refs)) {
      const w = this.pinned.get(r.ref);
      if (!w) throw new Error(`grow: '${name}' was not made by runtime.allocate (or was dropped)`);
      if (worker && worker !== w) throw new Error('grow: the tensors live in different workers');
      worker = w;
      if (!Number.isInteger(axis) || axis < 0 || axis >= r.shape.length) throw new Error(`grow: axis ${axis} is not an axis of '${name}' ${fmt(r.shape)}`);
      if (!Number.isInteger(size) || size < r.shape[axis]) throw new Error(`grow: '${name}' cannot shrink from ${r.shape[axis]} to ${size} on axis ${axis}`);
      const shape = r.shape.map((d, i) => (i === axis ? size : d));
      const ref = `a${nextWeightId++}:${name}`;
      out[name] = { dtype: r.dtype, shape, ref };
      moves.push({ from: r.ref, to: ref, shape });
    }
    if (!worker) return out;
    for (const m of moves) {
      this.pinned.delete(m.from);
      this.pinned.set(m.to, worker);
    }
    await worker.request({ kind: 'grow', moves, axis });
    return out;
  }

  /** Frees uploaded weights in every worker (allocated tensors in theirs). */
  async dropWeights(refs: Record<string, WeightRef> | WeightRef[]): Promise<void> {
    const all = Object.values(refs);
    const shared = all.filter((r) => !this.pinned.has(r.ref)).map((r) => r.ref);
    const byWorker = new Map<SessionWorker, string[]>();
    for (const r of all) {
      const w = this.pinned.get(r.ref);
      if (!w) continue;
      this.pinned.delete(r.ref);
      byWorker.set(w, [...(byWorker.get(w) ?? []), r.ref]);
    }
    await Promise.all([
      ...(shared.length ? [this.pool.broadcast({ kind: 'drop', ids: shared })] : []),
      ...[...byWorker].map(([w, ids]) => {
        w.pinned--;
        return w.request({ kind: 'drop', ids });
      }),
    ]);
  }

  /**
   * Runs a program inside the worker that holds `near` (an allocated tensor), with `graphs` loaded
   * there: `module`'s default export is called as `program(context, input)` (see WorkerProgram) and
   * what it returns comes back. A loop of dependent runs — a decode loop that samples each token from
   * the last run's logits — then pays no thread round trip per run (two wake-ups of an idle thread,
   * ~0.9 ms on this VM against a ~4 ms run). `input` and the result are structured-cloned.
   * TypeScript modules are loaded through tsx in the worker.
   */
  async runProgram<T>(module: URL, input: unknown, opts: { graphs: Record<string, CompiledGraph>; near: WeightRef }): Promise<T> {
    const worker = this.pinned.get(opts.near.ref);
    if (!worker) throw new Error(`runProgram: '${opts.near.ref}' was not made by runtime.allocate (or was dropped)`);
    await Promise.all(Object.values(opts.graphs).map((g) => g.placeOn(worker)));
    const keys = Object.fromEntries(Object.entries(opts.graphs).map(([name, g]) => [name, g.key]));
    const outputs = Object.fromEntries(Object.entries(opts.graphs).map(([name, g]) => [name, g.outputNames]));
    return worker.request<T>({ kind: 'program', module: module.href, input, graphs: keys, outputs });
  }

  /** @internal the worker holding an allocated tensor, or undefined for uploaded weights */
  pinnedWorker(ref: WeightRef): SessionWorker | undefined {
    return this.pinned.get(ref.ref);
  }

  /** @internal the pool's workers, for CompiledGraph's placement */
  workers(): readonly SessionWorker[] {
    return this.pool.all;
  }

  /** @internal (CompiledGraph.release) One holder of graph `key` let go; true when it was the last (the session is then freed). */
  unref(key: string): boolean {
    const entry = this.cache.get(key);
    if (!entry) return true; // the runtime ended and dropped every entry
    if (--entry.refs > 0) return false;
    this.cache.delete(key);
    return true;
  }

  /** Ends every session and worker of this runtime. */
  async release(): Promise<void> {
    this.cache.clear();
    // A profile is written when its session ends: write those of sessions still open before their
    // workers go. Best effort: a dead worker's profiles are lost, and must not keep the others alive.
    if (this.profile) await this.pool.broadcast({ kind: 'end-profiling' }).catch(() => undefined);
    await this.pool.terminate();
  }
}

/**
 * Turns the graph inputs named in `constants` into initializers (checking dtype and shape against
 * the input) and returns the inputs that are still fed.
 */
function bakeConstants(model: ModelProto, inputs: Tensor[], constants: Record<string, HostTensor>): GraphInputInfo[] {
  const infos = inputs.map((t) => ({ name: (t.params as { name: string }).name, dtype: t.dtype, shape: t.shape }));
  if (Object.keys(constants).length === 0) return infos;
  const byName = new Map(infos.map((i) => [i.name, i]));
  const graph = model.graph!;
  for (const [name, t] of Object.entries(constants)) {
    const inp = byName.get(name);
    if (!inp) throw new Error(`compile: constant '${name}' is not an input of this graph`);
    if (t.dtype !== inp.dtype) throw new Error(`compile: constant '${name}' is ${t.dtype}, graph wants ${inp.dtype}`);
    if (t.shape.length !== inp.shape.length || inp.shape.some((d, i) => d !== t.shape[i]) || t.data.length !== numel(t.shape)) {
      throw new Error(`compile: constant '${name}' has shape ${fmt(t.shape)}, graph wants ${fmt(inp.shape)} (constants need static dims)`);
    }
    graph.initializer.push({ name, dims: [...t.shape], dataType: onnxDataType[t.dtype], rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
  }
  graph.input = graph.input.filter((i) => !(i.name in constants));
  return infos.filter((i) => !(i.name in constants));
}

export function createRuntime(opts: RuntimeOptions = {}): Runtime {
  return new Runtime(opts);
}
