/** @file Shape arithmetic over numeric and symbolic dims: broadcasting, axes, products. */
import type { Dim, Shape } from './ops';

export class ShapeError extends Error {
  override name = 'ShapeError';
}

export const fmt = (s: Shape): string => `[${s.join(', ')}]`;

export function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ShapeError(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Numpy broadcasting of two shapes; a symbolic dim broadcasts only with itself or 1. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else throw new ShapeError(`${op}: shapes ${fmt(a)} and ${fmt(b)} do not broadcast (dim ${i}: ${x} vs ${y})`);
  }
  return out;
}

/** Axes of `target` (already right-aligned to `from`) along which `from` must be summed to get `target`. */
export function broadcastAxes(from: Shape, target: Shape): number[] {
  const axes: number[] = [];
  const lead = from.length - target.length;
  for (let i = 0; i < from.length; i++) {
    if (i < lead) axes.push(i);
    else if (target[i - lead] === 1 && from[i] !== 1) axes.push(i);
  }
  return axes;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export const isStatic = (s: Shape): s is readonly number[] => s.every((d) => typeof d === 'number');

export function staticShape(s: Shape, what: string): number[] {
  if (!isStatic(s)) throw new ShapeError(`${what}: needs a static shape, got ${fmt(s)}`);
  return [...s];
}

/** Product of dims; symbolic factors join as 'B*T'. */
export function dimProduct(dims: Shape): Dim {
  let k = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') k *= d;
    else syms.push(...d.split('*'));
  }
  if (syms.length === 0) return k;
  if (k === 0) return 0;
  return [...(k === 1 ? [] : [String(k)]), ...syms.sort()].join('*');
}

/** Quotient of two dim products, when it can be written; undefined otherwise. */
export function dimQuotient(num: Dim, den: Dim): Dim | undefined {
  const split = (d: Dim): [number, string[]] => {
    if (typeof d === 'number') return [d, []];
    let k = 1;
    const syms: string[] = [];
    for (const f of d.split('*')) {
      if (/^\d+$/.test(f)) k *= Number(f);
      else syms.push(f);
    }
    return [k, syms];
  };
  const [nk, ns] = split(num);
  const [dk, ds] = split(den);
  if (dk === 0 || nk % dk !== 0) return undefined;
  const rest = [...ns];
  for (const s of ds) {
    const i = rest.indexOf(s);
    if (i < 0) return undefined;
    rest.splice(i, 1);
  }
  return dimProduct([nk / dk, ...rest]);
}
