/** @file Graph traversal: topological order of everything that outputs depend on, and graph inputs. */
import type { Tensor } from '../frontend/tensor';
import type { OpParams } from './ops';

/** Nodes reachable from `outputs`, sources before users. Iterative so deep graphs cannot overflow the stack. */
export function toposort(outputs: readonly Tensor[]): Tensor[] {
  const seen = new Set<Tensor>();
  const order: Tensor[] = [];
  const stack: [Tensor, number][] = outputs.map((t) => [t, 0]);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    if (i === 0 && seen.has(t)) {
      stack.pop();
      continue;
    }
    seen.add(t);
    if (i < t.src.length) {
      top[1]++;
      if (!seen.has(t.src[i])) stack.push([t.src[i], 0]);
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/** The Input leaves of a graph, by name; two different inputs with one name is an error. */
export function graphInputs(order: readonly Tensor[]): Map<string, Tensor> {
  const inputs = new Map<string, Tensor>();
  for (const t of order) {
    if (t.op !== 'Input') continue;
    const { name } = t.params as OpParams<'Input'>;
    const prev = inputs.get(name);
    if (prev && prev.hash() !== t.hash()) {
      throw new Error(`graph has two different inputs named '${name}': ${prev} and ${t}`);
    }
    inputs.set(name, prev ?? t);
  }
  return inputs;
}
