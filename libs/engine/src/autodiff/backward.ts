/** @file The reverse-mode walker: seeds, accumulation, broadcast reduction, and pruning to the requested targets. */
import { toposort } from '../ir/graph';
import type { OpKind, OpParams } from '../ir/ops';
import { broadcastAxes, fmt, isStatic, sameShape } from '../ir/shape';
import { concat, constant, type Tensor } from '../frontend/tensor';
import { vjp, type OutOf, type VjpRule } from './vjp-rules';

/** Sums a gradient over the axes along which `target` was broadcast, so it has target's shape. */
export function sumToShape(g: Tensor, target: Tensor): Tensor {
  if (sameShape(g.shape, target.shape)) return g;
  const axes = broadcastAxes(g.shape, target.shape);
  const summed = axes.length > 0 ? g.sum(axes, true) : g;
  if (sameShape(summed.shape, target.shape)) return summed;
  return isStatic(target.shape) ? summed.reshape(target.shape) : summed.reshapeLike(target);
}

export interface GradOptions {
  /** Cotangent of `y` (defaults to 1 for a scalar y). */
  seed?: Tensor;
}

/**
 * Gradients of `y` w.r.t. each of `wrt`. Only nodes on a path from a target to `y` are visited, so
 * frozen weights get no gradient work; a target `y` does not depend on gets zeros.
 */
export function grad(y: Tensor, wrt: Tensor[], opts: GradOptions = {}): Tensor[] {
  if (!opts.seed && y.rank !== 0) throw new Error(`grad: loss must be a scalar, got ${y}; pass a seed for non-scalar outputs`);
  const seed = opts.seed ?? constant(1, y.dtype);
  if (!sameShape(seed.shape, y.shape)) throw new Error(`grad: seed shape ${fmt(seed.shape)} differs from output ${fmt(y.shape)}`);
  const order = toposort([y]);
  const targets = new Set(wrt);
  // Forward pass over the order: which nodes depend on some target (detach cuts the dependence).
  const live = new Set<Tensor>();
  for (const t of order) {
    if (targets.has(t)) live.add(t);
    else if (!(t.op === 'Identity' && (t.params as { detach: boolean }).detach) && t.src.some((s) => live.has(s))) live.add(t);
  }
  // Contributions are collected per node and summed when the node is reached, so slices of one
  // tensor can be joined by a Concat instead of being zero-padded and added (see accumulate).
  const grads = new Map<Tensor, Tensor[]>([[y, [seed]]]);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const parts = grads.get(t);
    if (!parts || !live.has(t) || t.src.length === 0) continue;
    const g = accumulate(parts);
    const rule = vjp[t.op] as VjpRule<OpKind>;
    const gs = rule(g, t as OutOf<OpKind>);
    if (gs.length !== t.src.length) {
      throw new Error(`vjp ${t.op}: rule returned ${gs.length} gradients for ${t.src.length} inputs (${t.src.map(String).join(', ')})`);
    }
    t.src.forEach((s, k) => {
      const gk = gs[k];
      if (gk === null || !live.has(s)) return;
      const reduced = sumToShape(gk, s);
      const prev = grads.get(s);
      if (prev) prev.push(reduced);
      else grads.set(s, [reduced]);
    });
  }
  return wrt.map((w) => {
    const parts = grads.get(w);
    return parts ? accumulate(parts) : constant(0, w.dtype).expandLike(w);
  });
}

/** A contribution that is some gradient zero-padded along one static axis: the Slice rule's output. */
interface Slab {
  axis: number;
  start: number;
  end: number;
  /** Extent of the padded axis. */
  total: number;
  body: Tensor;
}

function asSlab(t: Tensor): Slab | null {
  if (t.op !== 'Pad') return null;
  const { pads } = t.params as OpParams<'Pad'>;
  const r = t.rank;
  const axes = t.shape.map((_, a) => a).filter((a) => pads[a] !== 0 || pads[a + r] !== 0);
  const d = t.shape[axes[0]];
  if (axes.length !== 1 || typeof d !== 'number' || pads[axes[0]] < 0 || pads[axes[0] + r] < 0) return null;
  return { axis: axes[0], start: pads[axes[0]], end: d - pads[axes[0] + r], total: d, body: t.src[0] };
}

/**
 * Sums a node's gradient contributions. Slices of one tensor (split q/k/v, rotate_half's halves)
 * each send back a zero-padded gradient; adjacent ones are joined with one Concat and padded once,
 * which writes the full-size tensor once instead of once per slice plus the Adds.
 */
function accumulate(parts: Tensor[]): Tensor {
  if (parts.length === 1) return parts[0];
  const terms: Tensor[] = [];
  const byAxis = new Map<number, Slab[]>();
  for (const p of parts) {
    const slab = asSlab(p);
    if (!slab) terms.push(p);
    else byAxis.set(slab.axis, [...(byAxis.get(slab.axis) ?? []), slab]);
  }
  for (const [axis, slabs] of byAxis) {
    slabs.sort((a, b) => a.start - b.start);
    const full = slabs[0].body.rank;
    const { total } = slabs[0];
    let run: Slab[] = [];
    const flush = () => {
      if (run.length === 0) return;
      const body = run.length === 1 ? run[0].body : concat(run.map((s) => s.body), axis);
      const before = run[0].start;
      const after = total - run[run.length - 1].end;
      const pads = new Array<number>(2 * full).fill(0);
      pads[axis] = before;
      pads[axis + full] = after;
      terms.push(before === 0 && after === 0 ? body : body.pad(pads));
      run = [];
    };
    for (const s of slabs) {
      if (run.length > 0 && run[run.length - 1].end !== s.start) flush();
      run.push(s);
    }
    flush();
  }
  return terms.reduce((a, b) => a.add(b));
}
