/** @file The one owner of onnxruntime sessions: compile graphs to cached sessions in workers, run, release. */
import { fnvKey } from '../ir/hash';
import type { DType, HostTensor } from '../ir/dtype';
import { numel } from '../ir/dtype';
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
}

/** A frozen tensor held by the runtime's workers (see Runtime.uploadWeights); usable as a feed. */
export interface WeightRef {
  readonly dtype: DType;
  readonly shape: number[];
  readonly ref: string;
}

export type Feed = HostTensor | WeightRef;

export interface RunOptions {
  /** Buffers to move (not copy) to the worker; they are unusable afterwards. */
  transfer?: ArrayBuffer[];
  /** Aborting rejects the run at once (the worker finishes it and the result is discarded). */
  signal?: AbortSignal;
}

let nextWeightId = 0;

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
  /** compile() calls that returned this graph and have not released it. */
  refs = 1;

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

  /** Number of workers holding a session of this graph (grows when concurrent runs need more). */
  get replicaCount(): number {
    return this.replicas.size;
  }

  /**
   * The least busy worker; a worker without this session gets one (created on first use) when
   * every worker that has it is busy, so concurrent runs of one graph spread over the pool.
   */
  private workerForRun(): SessionWorker | Promise<SessionWorker> {
    const holders = [...this.replicas.keys()];
    const best = holders.find((w) => w.inflight === 0) ?? this.runtime.workers().reduce((a, b) => (b.inflight < a.inflight ? b : a));
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
      wire[inp.name] = 'ref' in f ? { dtype: f.dtype, shape: f.shape, ref: f.ref } : { dtype: f.dtype, shape: f.shape, data: ownBuffer(f.data) };
    }
    const picked = this.workerForRun();
    const worker = picked instanceof Promise ? await picked : picked;
    const result = worker.request<Record<string, HostTensor>>({ kind: 'run', key: this.key, feeds: wire, outputNames: this.outputNames }, opts.transfer);
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
    if (--this.refs > 0) return;
    this.released = true;
    this.runtime.forget(this.key);
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
  private readonly pool: WorkerPool;
  private readonly cache = new Map<string, Promise<CompiledGraph>>();

  constructor(opts: RuntimeOptions = {}) {
    this.provider = opts.provider ?? 'cpu';
    this.intraOpThreads = opts.intraOpThreads ?? 1;
    this.spinning = opts.spinning ?? false;
    checkProvider(this.provider);
    this.pool = new WorkerPool(opts.workers ?? 1);
  }

  /** Compiles (or fetches from the cache) the session computing `outputs`; keyed by the graph's structural hash. */
  compile(outputs: Record<string, Tensor>): Promise<CompiledGraph> {
    const names = Object.keys(outputs).sort();
    const key = fnvKey(names.map((n) => `${n}=${outputs[n].hash()}`).join(';'));
    let compiled = this.cache.get(key);
    if (!compiled) {
      compiled = this.create(key, outputs);
      this.cache.set(key, compiled);
      compiled.catch(() => this.cache.delete(key));
      return compiled;
    }
    return compiled.then((g) => (g.refs++, g));
  }

  private async create(key: string, outputs: Record<string, Tensor>): Promise<CompiledGraph> {
    const { model, inputs, usesFloat64 } = emitModel(outputs);
    const bytes = ModelProto.encode(model).finish();
    const options = { provider: this.provider, intraOpThreads: this.intraOpThreads, spinning: this.spinning, optimization: usesFloat64 ? 'basic' : 'all' };
    // The model bytes are kept (copied per load, not moved) so more workers can load the graph later.
    const load = (w: SessionWorker) => w.request({ kind: 'load', key, bytes, options }).catch((e) => {
      throw providerFailure(this.provider, e as Error);
    });
    const worker = this.pool.pick();
    try {
      await load(worker);
    } catch (e) {
      worker.load--;
      throw e;
    }
    const infos = inputs.map((t) => ({ name: (t.params as { name: string }).name, dtype: t.dtype, shape: t.shape }));
    return new CompiledGraph(this, key, infos, Object.keys(outputs), load, worker);
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

  /** Frees uploaded weights in every worker. */
  async dropWeights(refs: Record<string, WeightRef> | WeightRef[]): Promise<void> {
    await this.pool.broadcast({ kind: 'drop', ids: Object.values(refs).map((r) => r.ref) });
  }

  /** @internal the pool's workers, for CompiledGraph's placement */
  workers(): readonly SessionWorker[] {
    return this.pool.all;
  }

  /** @internal called by CompiledGraph.release */
  forget(key: string): void {
    this.cache.delete(key);
  }

  /** Ends every session and worker of this runtime. */
  async release(): Promise<void> {
    this.cache.clear();
    await this.pool.terminate();
  }
}

export function createRuntime(opts: RuntimeOptions = {}): Runtime {
  return new Runtime(opts);
}
