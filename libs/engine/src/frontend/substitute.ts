/** @file Graph rewriting: rebuild the graph under some roots with chosen nodes replaced (e.g. params by slices of one flat vector). */
import { toposort } from '../ir/graph';
import { fmt } from '../ir/shape';
import { Tensor } from './tensor';

/** Returns `roots` rebuilt with every occurrence of a key of `replace` swapped for its value (same dtype and shape). */
export function substitute(roots: readonly Tensor[], replace: ReadonlyMap<Tensor, Tensor>): Tensor[] {
  for (const [from, to] of replace) {
    if (from.dtype !== to.dtype || fmt(from.shape) !== fmt(to.shape)) {
      throw new Error(`substitute: ${from} cannot be replaced by ${to} (dtype/shape differ)`);
    }
  }
  const done = new Map<Tensor, Tensor>(replace);
  for (const t of toposort(roots)) {
    if (done.has(t)) continue;
    const src = t.src.map((s) => done.get(s)!);
    const same = src.every((s, i) => s === t.src[i]);
    done.set(t, same ? t : new Tensor(t.op, src, t.params, { dtype: t.dtype, shape: t.shape }));
  }
  return roots.map((r) => done.get(r)!);
}
