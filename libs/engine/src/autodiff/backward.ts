/** @file The reverse-mode walker: seeds, accumulation, broadcast reduction, and pruning to the requested targets. */
import { toposort } from '../ir/graph';
import type { OpKind } from '../ir/ops';
import { broadcastAxes, fmt, isStatic, sameShape } from '../ir/shape';
import { constant, type Tensor } from '../frontend/tensor';
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
  const grads = new Map<Tensor, Tensor>([[y, seed]]);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const g = grads.get(t);
    if (!g || !live.has(t) || t.src.length === 0) continue;
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
      grads.set(s, prev ? prev.add(reduced) : reduced);
    });
  }
  return wrt.map((w) => grads.get(w) ?? constant(0, w.dtype).expandLike(w));
}
