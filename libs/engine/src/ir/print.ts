/** @file A readable dump of a graph, one node per line (`v7 = MatMul(v3, w) : float32[B, T, 64]`), for debugging model code. */
import type { Tensor } from '../frontend/tensor';
import { toposort } from './graph';
import type { OpParams } from './ops';
import { fmt } from './shape';

export function printGraph(outputs: Record<string, Tensor>): string {
  const order = toposort(Object.values(outputs));
  const names = new Map<Tensor, string>();
  const lines: string[] = [];
  let next = 0;
  for (const t of order) {
    if (t.op === 'Input') {
      names.set(t, (t.params as OpParams<'Input'>).name);
      continue;
    }
    const name = `v${next++}`;
    names.set(t, name);
    const params = t.op === 'Constant' ? constantSummary(t) : Object.keys(t.params).length > 0 ? ` ${JSON.stringify(t.params)}` : '';
    lines.push(`${name} = ${t.op}(${t.src.map((s) => names.get(s)).join(', ')})${params} : ${t.dtype}${fmt(t.shape)}`);
  }
  for (const [n, t] of Object.entries(outputs)) lines.push(`${n} <- ${names.get(t)}`);
  return lines.join('\n');
}

function constantSummary(t: Tensor): string {
  const v = (t.params as OpParams<'Constant'>).value;
  const head = Array.from(v.data.slice(0, 4) as ArrayLike<number | bigint>, Number);
  return ` [${head.join(', ')}${v.data.length > 4 ? ', …' : ''}]`;
}
