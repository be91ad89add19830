/** @file Per-op shape and dtype rules: the output type of a node, or a ShapeError naming the op and shapes. */
import { isFloat, type DType } from './dtype';
import { binaryOps, comparisonOps, unaryOps, type Dim, type OpKind, type OpParams, type Shape } from './ops';
import { broadcastShapes, dimProduct, dimQuotient, fmt, ShapeError } from './shape';

export interface ValueType {
  readonly dtype: DType;
  readonly shape: Shape;
}

type Rule<K extends OpKind> = (src: readonly ValueType[], params: OpParams<K>) => ValueType;

const fail = (op: string, msg: string): never => {
  throw new ShapeError(`${op}: ${msg}`);
};

function arity(op: string, src: readonly ValueType[], n: number | number[]): void {
  const ok = Array.isArray(n) ? n.includes(src.length) : src.length === n;
  if (!ok) fail(op, `expects ${n} inputs, got ${src.length}`);
}

function sameDType(op: string, src: readonly ValueType[]): DType {
  const d = src[0].dtype;
  for (const s of src) {
    if (s.dtype !== d) fail(op, `dtype mismatch ${src.map((x) => `${x.dtype}${fmt(x.shape)}`).join(' vs ')}`);
  }
  return d;
}

function floatOnly(op: string, t: ValueType): void {
  if (!isFloat(t.dtype)) fail(op, `needs a float input, got ${t.dtype}${fmt(t.shape)}`);
}

const unary: Rule<any> = (src) => src[0];

function elementwise(op: OpKind): Rule<any> {
  return (src) => {
    arity(op, src, 2);
    const dtype = sameDType(op, src);
    return { dtype: comparisonOps.has(op) ? 'bool' : dtype, shape: broadcastShapes(op, src[0].shape, src[1].shape) };
  };
}

function reduce(op: string): Rule<any> {
  return (src, { axes, keepdims }: { axes: number[]; keepdims: boolean }) => {
    const [x] = src;
    for (const a of axes) if (a < 0 || a >= x.shape.length) fail(op, `axis ${a} out of range for ${fmt(x.shape)}`);
    const shape = keepdims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    return { dtype: x.dtype, shape };
  };
}

function sliceDim(op: string, d: Dim, start: number, end: number, step: number): Dim {
  if (step !== 1 && step !== -1 && typeof d !== 'number') fail(op, `step ${step} on symbolic dim ${d}`);
  if (typeof d !== 'number') {
    if (start === 0 && end >= Number.MAX_SAFE_INTEGER && step === 1) return d;
    // A concatenated dim 'A+k' ends in k static entries: slices inside that tail are known.
    const tail = /^(.+)\+(\d+)$/.exec(d);
    const k = tail ? Number(tail[2]) : 0;
    if (tail && step === 1 && start < 0 && -start <= k && end >= Number.MAX_SAFE_INTEGER) return -start;
    if (tail && step === 1 && start === 0 && end < 0 && -end <= k) return -end === k ? tail[1] : `${tail[1]}+${k + end}`;
    return fail(op, `slice [${start}, ${end}) of symbolic dim ${d} needs a static dim`);
  }
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  if (step > 0) {
    const s = clamp(start < 0 ? start + d : start, 0, d);
    const e = clamp(end < 0 ? end + d : end, 0, d);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  const s = clamp(start < 0 ? start + d : start, -1, d - 1);
  const e = clamp(end < 0 ? end + d : end, -1, d - 1);
  return Math.max(0, Math.ceil((s - e) / -step));
}

const rules: { [K in OpKind]: Rule<K> } = {
  Input: () => fail('Input', 'is a leaf'),
  Constant: () => fail('Constant', 'is a leaf'),
  Neg: unary, Exp: unary, Log: unary, Sqrt: unary, Tanh: unary, Sigmoid: unary, Relu: unary, Reciprocal: unary,
  Identity: unary,
  Cast: (src, { to }) => ({ dtype: to, shape: src[0].shape }),
  Add: elementwise('Add'), Sub: elementwise('Sub'), Mul: elementwise('Mul'), Div: elementwise('Div'), Pow: elementwise('Pow'),
  Equal: elementwise('Equal'), Less: elementwise('Less'), Greater: elementwise('Greater'),
  Where: (src) => {
    arity('Where', src, 3);
    if (src[0].dtype !== 'bool') fail('Where', `condition must be bool, got ${src[0].dtype}${fmt(src[0].shape)}`);
    const dtype = sameDType('Where', src.slice(1));
    const shape = broadcastShapes('Where', broadcastShapes('Where', src[0].shape, src[1].shape), src[2].shape);
    return { dtype, shape };
  },
  MatMul: (src) => {
    arity('MatMul', src, 2);
    const [a, b] = src;
    const dtype = sameDType('MatMul', src);
    if (a.shape.length < 2 || b.shape.length < 2) fail('MatMul', `needs rank >= 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
    const k1 = a.shape[a.shape.length - 1];
    const k2 = b.shape[b.shape.length - 2];
    if (k1 !== k2) fail('MatMul', `inner dims differ: ${fmt(a.shape)} @ ${fmt(b.shape)} (${k1} vs ${k2})`);
    const batch = broadcastShapes('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
    return { dtype, shape: [...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]] };
  },
  ReduceSum: reduce('ReduceSum'), ReduceMean: reduce('ReduceMean'), ReduceMax: reduce('ReduceMax'),
  Softmax: (src) => (floatOnly('Softmax', src[0]), src[0]),
  LogSoftmax: (src) => (floatOnly('LogSoftmax', src[0]), src[0]),
  Reshape: (src, { shape }) => {
    const [x] = src;
    const total = dimProduct(x.shape);
    const known = shape.filter((d) => d !== -1);
    const holes = shape.length - known.length;
    if (holes > 1) fail('Reshape', `at most one -1 in target ${fmt(shape)}`);
    if (holes === 1) {
      const q = dimQuotient(total, dimProduct(known));
      if (q === undefined) fail('Reshape', `cannot infer -1: ${fmt(x.shape)} to ${fmt(shape)}`);
      return { dtype: x.dtype, shape: shape.map((d) => (d === -1 ? q! : d)) };
    }
    if (src.length === 1 && dimProduct(shape) !== total) {
      fail('Reshape', `${fmt(x.shape)} has ${total} elements, target ${fmt(shape)} has ${dimProduct(shape)}`);
    }
    return { dtype: x.dtype, shape };
  },
  Expand: (src, { shape }) => ({ dtype: src[0].dtype, shape: broadcastShapes('Expand', src[0].shape, shape) }),
  Transpose: (src, { perm }) => {
    const [x] = src;
    const sorted = [...perm].sort((p, q) => p - q);
    if (perm.length !== x.shape.length || sorted.some((p, i) => p !== i)) fail('Transpose', `perm [${perm}] invalid for ${fmt(x.shape)}`);
    return { dtype: x.dtype, shape: perm.map((p) => x.shape[p]) };
  },
  Slice: (src, { starts, ends, axes, steps }) => {
    const [x] = src;
    const shape = [...x.shape];
    axes.forEach((a, i) => {
      if (a < 0 || a >= shape.length) fail('Slice', `axis ${a} out of range for ${fmt(x.shape)}`);
      if (steps[i] === 0) fail('Slice', 'step 0');
      shape[a] = sliceDim('Slice', shape[a], starts[i], ends[i], steps[i]);
    });
    return { dtype: x.dtype, shape };
  },
  Pad: (src, { pads }) => {
    const [x] = src;
    const r = x.shape.length;
    if (pads.length !== 2 * r) fail('Pad', `pads [${pads}] needs ${2 * r} entries for ${fmt(x.shape)}`);
    const shape = x.shape.map((d, i) => {
      if (pads[i] === 0 && pads[i + r] === 0) return d;
      if (typeof d !== 'number') return fail('Pad', `padding symbolic dim ${d} of ${fmt(x.shape)}`);
      return d + pads[i] + pads[i + r];
    });
    return { dtype: x.dtype, shape };
  },
  Concat: (src, { axis }) => {
    if (src.length === 0) fail('Concat', 'needs at least one input');
    const dtype = sameDType('Concat', src);
    const r = src[0].shape.length;
    const shape = [...src[0].shape];
    const along: Dim[] = [];
    for (const s of src) {
      if (s.shape.length !== r || s.shape.some((d, i) => i !== axis && d !== shape[i])) {
        fail('Concat', `shapes ${src.map((t) => fmt(t.shape)).join(', ')} differ off axis ${axis}`);
      }
      along.push(s.shape[axis]);
    }
    shape[axis] = along.every((d) => typeof d === 'number') ? (along as number[]).reduce((p, q) => p + q, 0) : along.join('+');
    return { dtype, shape };
  },
  Gather: (src, { axis }) => {
    const [x, idx] = src;
    if (idx.dtype !== 'int64' && idx.dtype !== 'int32') fail('Gather', `indices must be int64/int32, got ${idx.dtype}`);
    return { dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)] };
  },
  GatherND: (src) => {
    const [x, idx] = src;
    const k = idx.shape[idx.shape.length - 1];
    if (idx.dtype !== 'int64' || typeof k !== 'number' || k > x.shape.length) {
      fail('GatherND', `indices ${idx.dtype}${fmt(idx.shape)} invalid for data ${fmt(x.shape)}`);
    }
    return { dtype: x.dtype, shape: [...idx.shape.slice(0, -1), ...x.shape.slice(k as number)] };
  },
  GatherElements: (src, { axis }) => {
    const [x, idx] = src;
    if ((idx.dtype !== 'int64' && idx.dtype !== 'int32') || idx.shape.length !== x.shape.length || axis >= x.shape.length) {
      fail('GatherElements', `indices ${idx.dtype}${fmt(idx.shape)} invalid for data ${fmt(x.shape)} on axis ${axis}`);
    }
    return { dtype: x.dtype, shape: idx.shape };
  },
  ScatterElements: (src, { axis }) => {
    arity('ScatterElements', src, 3);
    const [x, idx, upd] = src;
    const sameShape = idx.shape.length === upd.shape.length && idx.shape.every((d, i) => d === upd.shape[i]);
    if ((idx.dtype !== 'int64' && idx.dtype !== 'int32') || upd.dtype !== x.dtype || !sameShape || idx.shape.length !== x.shape.length || axis >= x.shape.length) {
      fail('ScatterElements', `updates ${upd.dtype}${fmt(upd.shape)} / indices ${fmt(idx.shape)} do not fit data ${x.dtype}${fmt(x.shape)} on axis ${axis}`);
    }
    return x;
  },
  ScatterND: (src) => {
    arity('ScatterND', src, 3);
    const [x, idx, upd] = src;
    const k = idx.shape[idx.shape.length - 1] as number;
    const want = [...idx.shape.slice(0, -1), ...x.shape.slice(k)];
    if (idx.dtype !== 'int64' || upd.dtype !== x.dtype || want.length !== upd.shape.length || want.some((d, i) => d !== upd.shape[i])) {
      fail('ScatterND', `updates ${upd.dtype}${fmt(upd.shape)} do not fit data ${x.dtype}${fmt(x.shape)} with indices ${fmt(idx.shape)}`);
    }
    return x;
  },
  RotaryEmbedding: (src) => {
    arity('RotaryEmbedding', src, 4);
    const [x, positions, cos, sin] = src;
    const half = cos.shape[1];
    const hidden = x.shape[2];
    const tableOk = cos.shape.length === 2 && sin.shape.length === 2 && cos.shape.every((d, i) => d === sin.shape[i]) && typeof half === 'number';
    if (x.dtype !== 'float32' || cos.dtype !== 'float32' || sin.dtype !== 'float32' || x.shape.length !== 3 || !tableOk
      || typeof hidden !== 'number' || hidden % (2 * (half as number)) !== 0) {
      fail('RotaryEmbedding', `needs float32 x (B, T, H·D) and float32 cos/sin tables (N, D/2) of one static shape, got x ${x.dtype}${fmt(x.shape)}, cos ${cos.dtype}${fmt(cos.shape)}, sin ${sin.dtype}${fmt(sin.shape)}`);
    }
    if (positions.dtype !== 'int64' || positions.shape.length !== 2 || positions.shape[0] !== x.shape[0] || positions.shape[1] !== x.shape[1]) {
      fail('RotaryEmbedding', `positions must be int64 (B, T) = ${fmt(x.shape.slice(0, 2))}, got ${positions.dtype}${fmt(positions.shape)}`);
    }
    return x;
  },
};

/** Output type of `op` applied to `src`; throws ShapeError naming the op and the shapes. */
export function inferType<K extends OpKind>(op: K, src: readonly ValueType[], params: OpParams<K>): ValueType {
  if (unaryOps.has(op) || op === 'Cast' || op === 'Softmax' || op === 'LogSoftmax') arity(op, src, 1);
  if (binaryOps.has(op)) arity(op, src, 2);
  if (op === 'Reshape' || op === 'Expand') arity(op, src, [1, 2]);
  const out = (rules[op] as Rule<K>)(src, params);
  if (['Exp', 'Log', 'Sqrt', 'Tanh', 'Sigmoid', 'Reciprocal', 'Pow', 'Div'].includes(op)) floatOnly(op, src[0]);
  return out;
}
