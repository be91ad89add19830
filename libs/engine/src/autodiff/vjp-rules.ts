/** @file Reverse-mode rules, one per primitive. backward.ts handles broadcast reduction, accumulation and pruning. */
import { isFloat } from '../ir/dtype';
import type { OpKind, OpParams } from '../ir/ops';
import { dimProduct, ShapeError } from '../ir/shape';
import { constant, node, where, zerosLike, type Tensor } from '../frontend/tensor';

/** The node being differentiated, with its params typed for op K. */
export type OutOf<K extends OpKind> = Tensor & { readonly params: OpParams<K> };
/** Gradient w.r.t. each source (same order), or null for a source that carries no gradient. */
export type VjpRule<K extends OpKind> = (g: Tensor, out: OutOf<K>) => (Tensor | null)[];

const invertPerm = (perm: number[]): number[] => perm.map((_, i) => perm.indexOf(i));

/** g reshaped so the reduced axes are kept as size 1, then broadcast back to x. */
function unreduce(g: Tensor, x: Tensor, axes: number[], keepdims: boolean): Tensor {
  const kept = keepdims ? g : g.reshape(x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
  return kept.expandLike(x);
}

function staticDim(op: string, x: Tensor, axis: number): number {
  const d = x.shape[axis];
  if (typeof d !== 'number') throw new ShapeError(`${op} gradient: axis ${axis} of ${x} must be static`);
  return d;
}

function scatterAddInto(x: Tensor, indices: Tensor, updates: Tensor): Tensor {
  return node('ScatterND', [zerosLike(x), indices, updates], { reduction: 'add' });
}

/**
 * dB = Aᵀ·g. For a shared 2-D weight under batched activations (x (B, T, K) · W (K, N)) the batch
 * dims are folded into the contraction, (B·T, K)ᵀ·(B·T, N), instead of B products summed after.
 */
function matmulWeightGrad(a: Tensor, b: Tensor, g: Tensor): Tensor {
  if (b.rank !== 2 || a.rank <= 2) return a.swapAxes(-1, -2).matmul(g);
  const k = a.shape[a.rank - 1];
  const n = g.shape[g.rank - 1];
  return a.reshape([-1, k]).swapAxes(0, 1).matmul(g.reshape([-1, n]));
}

const noGrad = (_g: Tensor, out: Tensor) => out.src.map(() => null);

/** The value of a one-element Constant node, else null. */
function constantScalar(t: Tensor): number | null {
  if (t.op !== 'Constant') return null;
  const { value } = t.params as OpParams<'Constant'>;
  return value.data.length === 1 ? Number(value.data[0]) : null;
}

export const vjp: { [K in OpKind]: VjpRule<K> } = {
  Input: () => [],
  Constant: () => [],
  Neg: (g) => [g.neg()],                                                     // d(-x) = -g
  Exp: (g, out) => [g.mul(out)],                                             // d(eˣ) = g·eˣ (reuse the output)
  Log: (g, { src: [x] }) => [g.div(x)],                                      // d(ln x) = g/x
  Sqrt: (g, out) => [g.div(out.mul(2))],                                     // d(√x) = g/(2√x)
  Tanh: (g, out) => [g.mul(out.mul(out).neg().add(1))],                      // d(tanh x) = g·(1 − tanh²x)
  Sigmoid: (g, out) => [g.mul(out.mul(out.neg().add(1)))],                   // dσ = g·σ(1 − σ)
  Relu: (g, { src: [x] }) => [where(x.greater(0), g, 0)],                    // d relu = g·[x > 0]
  Reciprocal: (g, out) => [g.mul(out.mul(out)).neg()],                       // d(1/x) = −g/x²
  Identity: (g, { params: { detach } }) => [detach ? null : g],              // detach stops the gradient
  Cast: (g, { src: [x] }) => [isFloat(x.dtype) ? g.cast(x.dtype) : null],    // cast back; ints carry none
  Add: (g) => [g, g],                                                        // d(a+b) = g, g
  Sub: (g) => [g, g.neg()],                                                  // d(a−b) = g, −g
  Mul: (g, { src: [a, b] }) => [g.mul(b), g.mul(a)],                         // d(a·b) = g·b, g·a
  Div: (g, out) => [g.div(out.src[1]), g.mul(out).div(out.src[1]).neg()],    // d(a/b) = g/b, −g·(a/b)/b
  Pow: (g, out) => {                                                         // d(aᵇ) = g·b·aᵇ⁻¹, g·aᵇ·ln a
    const [a, b] = out.src;
    const c = constantScalar(b);
    // A constant exponent (x² in RMSNorm) needs no run-time b − 1 and no Pow for aᵇ⁻¹ = a¹.
    if (c !== null) return [c === 2 ? g.mul(a).mul(2) : g.mul(c).mul(a.pow(c - 1)), null];
    return [g.mul(b).mul(a.pow(b.sub(1))), g.mul(out).mul(a.log())];
  },
  Equal: noGrad, Less: noGrad, Greater: noGrad,                              // comparisons carry no gradient
  Where: (g, { src: [c] }) => [null, where(c, g, 0), where(c, 0, g)],        // routes g to the chosen branch
  MatMul: (g, { src: [a, b] }) => [g.matmul(b.swapAxes(-1, -2)), matmulWeightGrad(a, b, g)],   // dA = g·Bᵀ, dB = Aᵀ·g
  ReduceSum: (g, { src: [x], params: p }) => [unreduce(g, x, p.axes, p.keepdims)],          // broadcast g back
  ReduceMean: (g, { src: [x], params: p }) => {                                              // broadcast g/N back
    const n = dimProduct(p.axes.map((a) => x.shape[a]));
    // A symbolic N is counted at run time: Σ over the reduced axes of ones shaped like x.
    const count = typeof n === 'number' ? n : constant(1, x.dtype).expandLike(x).sum(p.axes, true);
    return [unreduce(g, x, p.axes, p.keepdims).div(count)];
  },
  ReduceMax: (g, out) => {                                                   // g shared evenly by the tied maxima (torch.amax)
    const [x] = out.src;
    const { axes, keepdims } = out.params;
    const isMax = x.equal(unreduce(out, x, axes, keepdims)).cast(x.dtype);
    return [unreduce(g, x, axes, keepdims).mul(isMax.div(isMax.sum(axes, true)))];
  },
  Softmax: (g, out) => [out.mul(g.sub(g.mul(out).sum([out.params.axis], true)))],  // y⊙(g − Σ g⊙y)
  LogSoftmax: (g, out) => [g.sub(out.exp().mul(g.sum([out.params.axis], true)))],  // g − softmax·Σ g
  Reshape: (g, { src }) => [g.reshapeLike(src[0]), ...(src.length === 2 ? [null] : [])],
  Expand: (g, { src }) => [g, ...(src.length === 2 ? [null] : [])],          // backward.ts sums over broadcast axes
  Transpose: (g, { params: { perm } }) => [g.transpose(invertPerm(perm))],
  Slice: (g, out) => {                                                       // zero-pad back to the input's extent
    const [x] = out.src;
    const { starts, axes, steps } = out.params;
    const r = x.rank;
    const pads = new Array<number>(2 * r).fill(0);
    axes.forEach((a, i) => {
      if (steps[i] !== 1) throw new ShapeError(`Slice gradient: step ${steps[i]} on axis ${a} of ${x} is not supported`);
      if (x.shape[a] === out.shape[a]) return;
      const d = staticDim('Slice', x, a);
      const s = Math.min(Math.max(starts[i] < 0 ? starts[i] + d : starts[i], 0), d);
      pads[a] = s;
      pads[a + r] = d - s - (out.shape[a] as number);
    });
    return [g.pad(pads)];
  },
  Pad: (g, out) => {                                                         // slice the unpadded window back out
    const [x] = out.src;
    const { pads } = out.params;
    const r = x.rank;
    const axes = x.shape.map((_, i) => i).filter((i) => pads[i] !== 0 || pads[i + r] !== 0);
    return [g.slice(axes.map((a) => pads[a]), axes.map((a) => pads[a] + staticDim('Pad', x, a)), axes)];
  },
  Concat: (g, out) => {                                                      // each input gets its slice of g
    const { axis } = out.params;
    let at = 0;
    return out.src.map((s) => g.slice([at], [(at += staticDim('Concat', s, axis))], [axis]));
  },
  Gather: (g, out) => {                                                      // scatter-add rows back (embeddings)
    const [x, idx] = out.src;
    if (out.params.axis !== 0) throw new ShapeError(`Gather gradient: only axis 0 is supported, got axis ${out.params.axis} on ${x}`);
    return [scatterAddInto(x, idx.cast('int64').reshape([...idx.shape, 1]), g), null];
  },
  GatherND: (g, { src: [x, idx] }) => [scatterAddInto(x, idx, g), null],    // scatter-add back
  GatherElements: (g, { src: [x, idx], params: { axis } }) => [             // scatter-add back along axis
    node('ScatterElements', [zerosLike(x), idx, g], { axis, reduction: 'add' }), null,
  ],
  ScatterElements: (g, out) => {
    const [, idx, upd] = out.src;
    const { axis, reduction } = out.params;
    const dUpd = node('GatherElements', [g, idx], { axis });
    if (reduction === 'add') return [g, null, dUpd];                         // out = x + scatter(u): dx = g
    return [node('ScatterElements', [g, idx, zerosLike(upd)], { axis, reduction: 'none' }), null, dUpd]; // overwritten slots get none
  },
  ScatterND: (g, out) => {
    const [, idx, upd] = out.src;
    const dUpd = node('GatherND', [g, idx], {});
    if (out.params.reduction === 'add') return [g, null, dUpd];             // out = x + scatter(u): dx = g
    return [node('ScatterND', [g, idx, zerosLike(upd)], { reduction: 'none' }), null, dUpd]; // overwritten slots get none
  },
  RotaryEmbedding: (g, { src: [, positions, cos, sin] }) => [                // a rotation: transposed = rotated by −θ
    node('RotaryEmbedding', [g, positions, cos, sin.neg()], {}), null, null, null,
  ],
};
