/** @file The Tensor: an immutable, structurally hashed IR value with methods that read like model code. */
import { hostTensor, type DType, type HostTensor } from '../ir/dtype';
import type { OpKind, OpParams, Shape } from '../ir/ops';
import { fmt, normAxis, ShapeError } from '../ir/shape';
import { fnvKey as fnv } from '../ir/hash';
import { inferType } from '../ir/verify';

let nextId = 0;

function hashBytes(t: HostTensor): string {
  const b = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  let h1 = 0x811c9dc5, h2 = 0x9747b28c;
  for (let i = 0; i < b.length; i++) {
    h1 = Math.imul(h1 ^ b[i], 0x01000193);
    h2 = Math.imul(h2 ^ b[i], 0x5bd1e995);
  }
  return `${t.dtype}[${t.shape}]${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}`;
}

export class Tensor {
  /** Creation order; a valid topological order of any graph (sources are always created first). */
  readonly id = nextId++;
  readonly dtype: DType;
  readonly shape: Shape;
  private hashCache?: string;

  constructor(
    readonly op: OpKind,
    readonly src: readonly Tensor[],
    readonly params: OpParams<OpKind>,
    type?: { dtype: DType; shape: Shape },
  ) {
    const t = type ?? inferType(op, src, params as any);
    this.dtype = t.dtype;
    this.shape = Object.freeze([...t.shape]);
    Object.freeze(this.src);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Structural hash: same op, params, types and sources ⇒ same hash (constants hash their bytes). */
  hash(): string {
    if (this.hashCache !== undefined) return this.hashCache;
    // Iterative post-order over the not-yet-hashed part of the graph: deep graphs cannot overflow the stack.
    const stack: Tensor[] = [this];
    while (stack.length > 0) {
      const t = stack[stack.length - 1];
      const pending = t.src.filter((s) => s.hashCache === undefined);
      if (pending.length > 0 && t.hashCache === undefined) {
        stack.push(...pending);
        continue;
      }
      stack.pop();
      if (t.hashCache !== undefined) continue;
      const p = t.op === 'Constant' ? hashBytes((t.params as OpParams<'Constant'>).value) : JSON.stringify(t.params);
      t.hashCache = fnv(`${t.op}|${t.dtype}|${t.shape}|${p}|${t.src.map((x) => x.hashCache).join(',')}`);
    }
    return this.hashCache!;
  }

  toString(): string {
    return `${this.op}:${this.dtype}${fmt(this.shape)}`;
  }

  // ---- elementwise -------------------------------------------------------------------------

  private lift(o: Tensor | number): Tensor {
    return typeof o === 'number' ? scalar(o, this.dtype) : o;
  }
  add(o: Tensor | number): Tensor { return node('Add', [this, this.lift(o)], {}); }
  sub(o: Tensor | number): Tensor { return node('Sub', [this, this.lift(o)], {}); }
  mul(o: Tensor | number): Tensor { return node('Mul', [this, this.lift(o)], {}); }
  div(o: Tensor | number): Tensor { return node('Div', [this, this.lift(o)], {}); }
  pow(o: Tensor | number): Tensor { return node('Pow', [this, this.lift(o)], {}); }
  equal(o: Tensor | number): Tensor { return node('Equal', [this, this.lift(o)], {}); }
  less(o: Tensor | number): Tensor { return node('Less', [this, this.lift(o)], {}); }
  greater(o: Tensor | number): Tensor { return node('Greater', [this, this.lift(o)], {}); }
  neg(): Tensor { return node('Neg', [this], {}); }
  exp(): Tensor { return node('Exp', [this], {}); }
  log(): Tensor { return node('Log', [this], {}); }
  sqrt(): Tensor { return node('Sqrt', [this], {}); }
  tanh(): Tensor { return node('Tanh', [this], {}); }
  sigmoid(): Tensor { return node('Sigmoid', [this], {}); }
  relu(): Tensor { return node('Relu', [this], {}); }
  reciprocal(): Tensor { return node('Reciprocal', [this], {}); }
  square(): Tensor { return this.mul(this); }
  cast(to: DType): Tensor { return to === this.dtype ? this : node('Cast', [this], { to }); }
  /** Same value, no gradient flows back through it. */
  detach(): Tensor { return node('Identity', [this], { detach: true }); }

  // ---- shape -------------------------------------------------------------------------------

  reshape(shape: Shape): Tensor { return node('Reshape', [this], { shape: [...shape] }); }
  /** Reshape to `like`'s runtime shape (works when that shape is symbolic). */
  reshapeLike(like: Tensor): Tensor { return node('Reshape', [this, like], { shape: [...like.shape] }); }
  expand(shape: Shape): Tensor { return node('Expand', [this], { shape: [...shape] }); }
  /** Broadcast to `like`'s runtime shape. */
  expandLike(like: Tensor): Tensor { return node('Expand', [this, like], { shape: [...like.shape] }); }
  transpose(perm: number[]): Tensor {
    return node('Transpose', [this], { perm: perm.map((p) => normAxis(p, this.rank, 'Transpose')) });
  }
  swapAxes(a: number, b: number): Tensor {
    const perm = this.shape.map((_, i) => i);
    const [x, y] = [normAxis(a, this.rank, 'Transpose'), normAxis(b, this.rank, 'Transpose')];
    [perm[x], perm[y]] = [perm[y], perm[x]];
    return this.transpose(perm);
  }
  slice(starts: number[], ends: number[], axes: number[], steps?: number[]): Tensor {
    return node('Slice', [this], {
      starts: [...starts], ends: ends.map((e) => Math.min(e, Number.MAX_SAFE_INTEGER)),
      axes: axes.map((a) => normAxis(a, this.rank, 'Slice')), steps: steps ? [...steps] : axes.map(() => 1),
    });
  }
  /** Split along `axis` into pieces of the given sizes (lowered to Slices, so each piece has its own gradient). */
  split(sizes: number[], axis: number): Tensor[] {
    const a = normAxis(axis, this.rank, 'Split');
    const total = sizes.reduce((p, q) => p + q, 0);
    if (typeof this.shape[a] === 'number' && total !== this.shape[a]) {
      throw new ShapeError(`Split: sizes [${sizes}] sum to ${total}, but ${fmt(this.shape)} has ${this.shape[a]} on axis ${a}`);
    }
    let at = 0;
    return sizes.map((s) => this.slice([at], [(at += s)], [a]));
  }
  pad(pads: number[]): Tensor { return node('Pad', [this], { pads: [...pads] }); }
  /** Concatenates `others` after this tensor along the last axis. */
  concatWith(...others: Tensor[]): Tensor {
    return concat([this, ...others], -1);
  }

  // ---- reductions, linear algebra, indexing -----------------------------------------------------

  matmul(o: Tensor): Tensor { return node('MatMul', [this, o], {}); }
  private axes(axes: number[] | undefined): number[] {
    const all = axes ?? this.shape.map((_, i) => i);
    return [...new Set(all.map((a) => normAxis(a, this.rank, 'Reduce')))].sort((p, q) => p - q);
  }
  sum(axes?: number[], keepdims = false): Tensor { return node('ReduceSum', [this], { axes: this.axes(axes), keepdims }); }
  mean(axes?: number[], keepdims = false): Tensor { return node('ReduceMean', [this], { axes: this.axes(axes), keepdims }); }
  max(axes?: number[], keepdims = false): Tensor { return node('ReduceMax', [this], { axes: this.axes(axes), keepdims }); }
  softmax(axis: number): Tensor { return node('Softmax', [this], { axis: normAxis(axis, this.rank, 'Softmax') }); }
  logSoftmax(axis: number): Tensor { return node('LogSoftmax', [this], { axis: normAxis(axis, this.rank, 'LogSoftmax') }); }
  /** out[i][j] = x[i][idx[i][j]] (axis 1): picks one element per index along `axis`, idx the output's shape. */
  gatherElements(indices: Tensor, axis: number): Tensor {
    return node('GatherElements', [this, indices], { axis: normAxis(axis, this.rank, 'GatherElements') });
  }
  gather(indices: Tensor, axis = 0): Tensor { return node('Gather', [this, indices], { axis: normAxis(axis, this.rank, 'Gather') }); }
}

export function node<K extends OpKind>(op: K, src: Tensor[], params: OpParams<K>): Tensor {
  return new Tensor(op, src, params);
}

// ---- leaves and free functions ---------------------------------------------------------------

/** A graph input fed at run time (data, trainable params, optimizer state, frozen weights). */
export function input(name: string, shape: Shape, dtype: DType = 'float32'): Tensor {
  if (!/^[A-Za-z_][\w.:/-]*$/.test(name)) throw new Error(`input: invalid name '${name}'`);
  return new Tensor('Input', [], { name }, { dtype, shape });
}

/** A value baked into the graph. */
export function constant(value: HostTensor | number, dtype: DType = 'float32'): Tensor {
  const v = typeof value === 'number' ? hostTensor(dtype, [], [value]) : value;
  return new Tensor('Constant', [], { value: v }, { dtype: v.dtype, shape: v.shape });
}

export const scalar = (v: number, dtype: DType): Tensor => constant(v, dtype);

export function concat(ts: Tensor[], axis: number): Tensor {
  if (ts.length === 1) return ts[0];
  return node('Concat', ts, { axis: normAxis(axis, ts[0].rank, 'Concat') });
}

export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const dtype = typeof a !== 'number' ? a.dtype : typeof b !== 'number' ? b.dtype : 'float32';
  const lift = (x: Tensor | number) => (typeof x === 'number' ? scalar(x, dtype) : x);
  return node('Where', [cond, lift(a), lift(b)], {});
}

/** Zeros shaped like `like` at run time. */
export function zerosLike(like: Tensor): Tensor {
  return scalar(0, like.dtype).expandLike(like);
}
