/** @file Worker thread that owns onnxruntime sessions: load, run, release (plain JS so it starts under node, tsx and vitest alike). */
// @ts-check
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';

/** @type {Map<string, import('onnxruntime-node').InferenceSession>} */
const sessions = new Map();
/** Sessions created with profiling on whose profile is not written yet (endProfiling writes it, once). */
const profiled = new Set();

/**
 * Frozen weights uploaded once (Runtime.uploadWeights) and referenced by id from any run's feeds.
 * onnxruntime-node wraps a plain ArrayBuffer feed without copying it (it rejects SharedArrayBuffer
 * views), so one copy here serves every session and adapter in this worker.
 * @type {Map<string, { dtype: string, shape: number[], data: any }>}
 */
const weights = new Map();

/** Typed array constructors by engine dtype (allocate). */
const arrays = { float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array, bool: Uint8Array };

/**
 * Copies a run's output into an allocated tensor at `offset` along `axis`, in place: the output is
 * `outer` blocks of `dims[axis]·inner` values, each landing in the target's matching block.
 */
function writeOutput(name, t, into) {
  const target = weights.get(into.ref);
  if (!target) throw new Error(`writeInto '${name}': target '${into.ref}' was dropped`);
  const dims = t.dims;
  const { axis, offset } = into;
  if (t.type !== target.dtype) throw new Error(`writeInto '${name}': output is ${t.type}, target is ${target.dtype}`);
  const shapeFits = dims.length === target.shape.length && dims.every((d, i) => i === axis || d === target.shape[i]) && offset + dims[axis] <= target.shape[axis];
  if (!shapeFits) throw new Error(`writeInto '${name}': output [${dims.join(', ')}] does not fit target [${target.shape.join(', ')}] at offset ${offset} on axis ${axis}`);
  placeBlocks(t.data, dims, target.data, target.shape, axis, offset);
}

/**
 * Copies `src` (shape `dims`) into `dst` (shape `dstShape`, equal except on `axis`) starting at
 * `offset` along `axis`: both are `outer` blocks, of dims[axis]·inner and dstShape[axis]·inner values.
 */
function placeBlocks(src, dims, dst, dstShape, axis, offset) {
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const chunk = dims[axis] * inner;
  const stride = dstShape[axis] * inner;
  for (let o = 0; o < outer; o++) dst.set(src.subarray(o * chunk, (o + 1) * chunk), o * stride + offset * inner);
}

/** Moves a typed array's memory to the parent without a copy when it owns its whole buffer. */
function transferable(data) {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !(data.buffer instanceof SharedArrayBuffer)) return data;
  return data.slice();
}

/**
 * Idle intra-op threads sleep instead of spinning unless asked: on shared or busy CPUs spinning
 * threads steal the cores the work needs (measured: 2 threads 2.4× slower than 1 under load). A
 * graph may ask for a bounded spin (CompileOptions.spinMicros), which costs at most that per gap.
 */
function spinConfig({ spinning, spinMicros }) {
  if (spinning) return { allow_spinning: '1' };
  if (spinMicros > 0) return { allow_spinning: '1', spin_duration_us: String(spinMicros) };
  return { allow_spinning: '0' };
}

/** Runs one session on wire feeds (host tensors or weight refs); outputs named in writeInto are copied into allocated tensors instead of returned. */
async function runSession(key, wireFeeds, outputNames, writeInto) {
  const session = sessions.get(key);
  if (!session) throw new Error(`no session for graph ${key} in this worker`);
  /** @type {Record<string, import('onnxruntime-node').Tensor>} */
  const feeds = {};
  for (const [name, f] of Object.entries(wireFeeds)) {
    const v = f.ref !== undefined ? weights.get(f.ref) : f;
    if (!v) throw new Error(`feed '${name}' refers to weights '${f.ref}' that were not uploaded or were dropped`);
    feeds[name] = new ort.Tensor(v.dtype, v.data, v.shape);
  }
  const out = await session.run(feeds, outputNames);
  const result = {};
  const transfer = [];
  for (const name of outputNames) {
    const t = out[name];
    if (writeInto[name]) {
      writeOutput(name, t, writeInto[name]);
      continue;
    }
    const data = transferable(t.data);
    result[name] = { dtype: t.type, shape: [...t.dims], data };
    transfer.push(data.buffer);
  }
  for (const t of Object.values(out)) t.dispose?.();
  return { result, transfer };
}

/** Resizes an allocated tensor along `axis`, keeping its contents and its id (new room is zero). */
function growInPlace(ref, axis, size) {
  const old = weights.get(ref);
  if (!old) throw new Error(`grow: '${ref}' was dropped`);
  if (!Number.isInteger(axis) || axis < 0 || axis >= old.shape.length) throw new Error(`grow: axis ${axis} is not an axis of '${ref}' [${old.shape.join(', ')}]`);
  if (!Number.isInteger(size) || size < old.shape[axis]) throw new Error(`grow: '${ref}' cannot shrink from ${old.shape[axis]} to ${size} on axis ${axis}`);
  const shape = old.shape.map((d, i) => (i === axis ? size : d));
  const data = new arrays[old.dtype](shape.reduce((a, b) => a * b, 1));
  placeBlocks(old.data, old.shape, data, shape, axis, 0);
  weights.set(ref, { dtype: old.dtype, shape, data });
  return shape;
}

/** Program modules by URL. TypeScript ones (the packages' own, run from source) get tsx's loader first, registered once. */
const programs = new Map();
let typescriptLoader = null;
function loadProgram(url) {
  let program = programs.get(url);
  if (!program) {
    const typescript = /\.[mc]?ts$/.test(new URL(url).pathname);
    typescriptLoader ??= typescript ? import('tsx/esm/api').then(({ register }) => register()) : null;
    program = Promise.resolve(typescript ? typescriptLoader : null)
      .then(() => import(url))
      .then((m) => {
        if (typeof m.default !== 'function') throw new Error(`program ${url} has no default export function`);
        return m.default;
      });
    program.catch(() => programs.delete(url));
    programs.set(url, program);
  }
  return program;
}

async function handle(msg) {
  switch (msg.kind) {
    case 'load': {
      if (!sessions.has(msg.key)) {
        const session = await ort.InferenceSession.create(msg.bytes, {
          executionProviders: [msg.options.provider],
          intraOpNumThreads: msg.options.intraOpThreads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          // NOTE: float64 graphs get 'basic': ORT's extended fusions (x·σ(x) → QuickGelu) have float-only kernels.
          graphOptimizationLevel: msg.options.optimization,
          logSeverityLevel: 3,
          ...(msg.options.profile ? { enableProfiling: true, profileFilePrefix: msg.options.profile } : {}),
          extra: { session: { intra_op: spinConfig(msg.options) } },
        });
        sessions.set(msg.key, session);
        if (msg.options.profile) profiled.add(session);
      }
      return { result: null, transfer: [] };
    }
    case 'run':
      return runSession(msg.key, msg.feeds, msg.outputNames, msg.writeInto ?? {});
    case 'program': {
      // A module run here against this worker's sessions and tensors (Runtime.runProgram).
      const program = await loadProgram(msg.module);
      const context = {
        run: async (graph, feeds, options = {}) => {
          const key = msg.graphs[graph];
          if (!key) throw new Error(`program ${msg.module}: no graph named '${graph}' (given: ${Object.keys(msg.graphs).join(', ')})`);
          const writeInto = Object.fromEntries(Object.entries(options.writeInto ?? {}).map(([name, w]) => [name, { ref: w.target.ref, axis: w.axis, offset: w.offset }]));
          return (await runSession(key, feeds, msg.outputs[graph], writeInto)).result;
        },
        tensor: (ref) => {
          const t = weights.get(ref);
          if (!t) throw new Error(`program ${msg.module}: tensor '${ref}' is not in this worker`);
          return t;
        },
        grow: (ref, axis, size) => growInPlace(ref, axis, size),
      };
      return { result: await program(context, msg.input), transfer: [] };
    }
    case 'inspect': {
      // Optimizes the model as a session would and reports the node op types ORT ends up running.
      const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
      const { join } = await import('node:path');
      const { tmpdir } = await import('node:os');
      const dir = mkdtempSync(join(tmpdir(), 'seal-ort-'));
      try {
        const path = join(dir, 'optimized.onnx');
        const session = await ort.InferenceSession.create(msg.bytes, {
          executionProviders: [msg.options.provider], intraOpNumThreads: 1, graphOptimizationLevel: msg.options.optimization,
          optimizedModelFilePath: path, logSeverityLevel: 3,
        });
        await session.release();
        const bytes = readFileSync(path);
        return { result: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice(), transfer: [] };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    case 'allocate': {
      for (const [id, t] of Object.entries(msg.tensors)) {
        const n = t.shape.reduce((a, b) => a * b, 1);
        weights.set(id, { dtype: t.dtype, shape: t.shape, data: new arrays[t.dtype](n) });
      }
      return { result: null, transfer: [] };
    }
    case 'grow': {
      for (const { from, to, shape } of msg.moves) {
        growInPlace(from, msg.axis, shape[msg.axis]);
        weights.set(to, weights.get(from));
        weights.delete(from);
      }
      return { result: null, transfer: [] };
    }
    case 'put': {
      for (const [id, t] of Object.entries(msg.tensors)) weights.set(id, t);
      return { result: null, transfer: [] };
    }
    case 'drop': {
      for (const id of msg.ids) weights.delete(id);
      return { result: null, transfer: [] };
    }
    case 'release': {
      const session = sessions.get(msg.key);
      sessions.delete(msg.key);
      if (profiled.delete(session)) session.endProfiling();
      await session?.release();
      return { result: null, transfer: [] };
    }
    case 'end-profiling': {
      for (const session of profiled) session.endProfiling();
      profiled.clear();
      return { result: null, transfer: [] };
    }
    default:
      throw new Error(`unknown message kind ${msg.kind}`);
  }
}

parentPort?.on('message', async (msg) => {
  try {
    const { result, transfer } = await handle(msg);
    parentPort?.postMessage({ id: msg.id, result }, transfer);
  } catch (e) {
    parentPort?.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});
