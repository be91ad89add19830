/** @file Every VJP rule against central finite differences in float64 (float32 for ORT's float32-only contrib kernel), one case per OpKind, plus coverage and composition checks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTensor, type HostTensor } from '../ir/dtype';
import { toposort } from '../ir/graph';
import { allOpKinds, type OpKind } from '../ir/ops';
import { constant, input, node, where, type Tensor } from '../frontend/tensor';
import { Rng } from '../random';
import { createRuntime, type Runtime } from '../runtime/runtime';
import { gradCheck } from '../testing/grad-check';
import { grad } from './backward';
import '../testing/all-close';

const rng = new Rng(1234);
/** float64 inputs: normal, positive (for log/sqrt/pow bases), or distinct values away from kinks. */
const normal = (...shape: number[]) => rng.normalTensor(shape, 1, 'float64');
const positive = (...shape: number[]) => rng.uniformTensor(shape, 0.5, 2, 'float64');
/** Shuffled values on a 0.3 grid, shifted by `offset` so two such tensors never tie. */
const distinctFrom = (offset: number, ...shape: number[]): HostTensor => {
  const n = shape.reduce((p, q) => p * q, 1);
  const vals = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.3 + 0.07 + offset);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [vals[i], vals[j]] = [vals[j], vals[i]];
  }
  return hostTensor('float64', shape, vals);
};
const distinct = (...shape: number[]) => distinctFrom(0, ...shape);
const ints = (shape: number[], values: number[]) => hostTensor('int64', shape, values);

interface Case {
  inputs: HostTensor[];
  build: (...xs: Tensor[]) => Tensor;
  eps?: number;
}

/** One gradient-check case per op kind: typed so a new OpKind without a case does not compile. */
const cases: { [K in OpKind]: Case } = {
  Input: { inputs: [normal(2, 3)], build: (x) => x.mul(x) },
  Constant: { inputs: [normal(2, 3)], build: (x) => x.mul(constant(normal(2, 3))) },
  Neg: { inputs: [normal(2, 3)], build: (x) => x.neg().mul(x) },
  Exp: { inputs: [normal(2, 3)], build: (x) => x.exp() },
  Log: { inputs: [positive(2, 3)], build: (x) => x.log() },
  Sqrt: { inputs: [positive(2, 3)], build: (x) => x.sqrt() },
  Tanh: { inputs: [normal(2, 3)], build: (x) => x.tanh() },
  Sigmoid: { inputs: [normal(2, 3)], build: (x) => x.sigmoid() },
  Relu: { inputs: [distinct(2, 3)], build: (x) => x.relu() },
  Reciprocal: { inputs: [positive(2, 3)], build: (x) => x.reciprocal() },
  Identity: { inputs: [normal(2, 3)], build: (x) => node('Identity', [x], { detach: false }).mul(x) },
  // float64 → float32 → float64 is linear, so FD is exact with a big step on values exact in float32.
  Cast: { inputs: [hostTensor('float64', [2, 3], [0.25, -1.5, 2, 0.75, -0.5, 1])], build: (x) => x.cast('float32').cast('float64'), eps: 0.5 },
  Add: { inputs: [normal(2, 3), normal(3)], build: (a, b) => a.add(b).mul(a) },
  Sub: { inputs: [normal(2, 1), normal(2, 3)], build: (a, b) => a.sub(b).mul(b) },
  Mul: { inputs: [normal(2, 3), normal(1, 3)], build: (a, b) => a.mul(b) },
  Div: { inputs: [normal(2, 3), positive(2, 1)], build: (a, b) => a.div(b) },
  Pow: { inputs: [positive(2, 3), normal(2, 3)], build: (a, b) => a.pow(b) },
  Equal: { inputs: [distinct(2, 3), distinctFrom(0.11, 2, 3)], build: (a, b) => where(a.equal(b), a, b.mul(a)) },
  Less: { inputs: [distinct(2, 3), distinctFrom(0.11, 2, 3)], build: (a, b) => where(a.less(b), a.mul(2), b.mul(3)) },
  Greater: { inputs: [distinct(2, 3), distinctFrom(0.11, 3)], build: (a, b) => where(a.greater(b), a.mul(b), b) },
  Where: {
    inputs: [normal(2, 3), normal(3)],
    build: (a, b) => where(constant(hostTensor('bool', [2, 3], [1, 0, 1, 0, 0, 1])), a, b),
  },
  MatMul: { inputs: [normal(2, 2, 3), normal(3, 4)], build: (a, b) => a.matmul(b) },
  ReduceSum: { inputs: [normal(2, 3, 4)], build: (x) => x.sum([1]).mul(x.sum([0, 2], true).sum()) },
  ReduceMean: { inputs: [normal(2, 3, 4)], build: (x) => x.mean([0, 2], true).mul(x.mean([1], true)) },
  ReduceMax: { inputs: [distinct(2, 3, 4)], build: (x) => x.max([-1]) },
  Softmax: { inputs: [normal(2, 3, 4)], build: (x) => x.softmax(-1) },
  LogSoftmax: { inputs: [normal(2, 3, 4)], build: (x) => x.logSoftmax(1) },
  Reshape: { inputs: [normal(2, 3, 4)], build: (x) => x.reshape([-1, 4]).matmul(constant(normal(4, 2))) },
  Expand: { inputs: [normal(3, 1)], build: (x) => x.expand([2, 3, 4]).mul(constant(normal(2, 3, 4))) },
  Transpose: { inputs: [normal(2, 3, 4)], build: (x) => x.transpose([2, 0, 1]).mul(constant(normal(4, 2, 3))) },
  Slice: { inputs: [normal(4, 5)], build: (x) => x.slice([1, 0], [3, -1], [0, 1]).mul(x.slice([2, 1], [4, 5], [0, 1])) },
  Pad: { inputs: [normal(2, 3)], build: (x) => x.pad([1, 0, 0, 2]).mul(constant(normal(3, 5))) },
  Concat: { inputs: [normal(2, 3), normal(2, 1)], build: (a, b) => node('Concat', [a, b, a], { axis: 1 }).mul(constant(normal(2, 7))) },
  // Repeated ids check that the scatter accumulates.
  Gather: { inputs: [normal(5, 3)], build: (t) => t.gather(constant(ints([2, 2], [0, 2, 2, 4]))) },
  GatherND: { inputs: [normal(3, 4)], build: (x) => node('GatherND', [x, constant(ints([3, 2], [0, 1, 2, 3, 0, 1]))], {}) },
  GatherElements: {
    inputs: [normal(3, 4)],
    build: (x) => node('GatherElements', [x, constant(ints([3, 2], [0, 3, 2, 2, 1, 0]))], { axis: 1 }),
  },
  ScatterElements: {
    inputs: [normal(3, 4), normal(3, 1)],
    build: (x, u) => node('ScatterElements', [x, constant(ints([3, 1], [2, 0, 3])), u], { axis: 1, reduction: 'none' }).mul(x),
  },
  ScatterND: {
    inputs: [normal(4, 3), normal(2, 3)],
    build: (x, u) => node('ScatterND', [x, constant(ints([2, 1], [1, 3])), u], { reduction: 'none' }).mul(x),
  },
  // ORT's kernel is float32 only; the op is linear in x, so a large step is exact up to float32 round-off.
  RotaryEmbedding: {
    inputs: [rng.normalTensor([2, 3, 8], 1, 'float32')],
    build: (x) => {
      const table = (f: (a: number) => number) => constant(hostTensor('float32', [5, 2], Array.from({ length: 10 }, (_, i) => f(0.3 * i + 0.1))));
      return node('RotaryEmbedding', [x, constant(ints([2, 3], [4, 0, 2, 1, 1, 3])), table(Math.cos), table(Math.sin)], {});
    },
    eps: 4,
  },
};

/** Extra cases for variants a single entry cannot cover. */
const variants: [string, Case][] = [
  // Constant exponents take the rule's shortcut (no run-time b − 1): x² as in RMSNorm, x³, √x.
  ['Pow with constant exponent 2', { inputs: [normal(2, 3)], build: (x) => x.pow(2) }],
  ['Pow with constant exponent 3', { inputs: [normal(2, 3)], build: (x) => x.pow(3) }],
  ['Pow with constant exponent 0.5', { inputs: [positive(2, 3)], build: (x) => x.pow(0.5) }],
  ['ScatterElements reduction=add with repeated indices', {
    inputs: [normal(2, 4), normal(2, 3)],
    build: (x, u) => node('ScatterElements', [x, constant(ints([2, 3], [1, 1, 3, 0, 2, 0])), u], { axis: 1, reduction: 'add' }).mul(x),
  }],
  ['ScatterND reduction=add', {
    inputs: [normal(4, 3), normal(3, 3)],
    build: (x, u) => node('ScatterND', [x, constant(ints([3, 1], [1, 3, 1])), u], { reduction: 'add' }).mul(x),
  }],
  ['MatMul batch broadcast on both sides', { inputs: [normal(2, 1, 2, 3), normal(3, 3, 2)], build: (a, b) => a.matmul(b) }],
  ['Reshape back from a flattened view', { inputs: [normal(2, 6)], build: (x) => x.reshape([3, 4]).transpose([1, 0]).reshape([2, 6]).mul(x) }],
];

let rt: Runtime;
beforeAll(() => {
  rt = createRuntime({ intraOpThreads: 1 });
});
afterAll(async () => {
  await rt.release();
});

describe('VJP rules against central finite differences (float64, error ≤ 1e-6)', () => {
  it.each(Object.entries(cases) as [OpKind, Case][])('%s', async (op, c) => {
    const xs = c.inputs.map((h, i) => input(`x${i}`, h.shape, h.dtype));
    expect(toposort([c.build(...xs)]).map((t) => t.op), `case for ${op} must use ${op}`).toContain(op);
    const r = await gradCheck(rt, c.build, c.inputs, { eps: c.eps });
    expect(r.maxError, r.worst).toBeLessThanOrEqual(1e-6);
  });

  it.each(variants)('%s', async (_name, c) => {
    const r = await gradCheck(rt, c.build, c.inputs, { eps: c.eps });
    expect(r.maxError, r.worst).toBeLessThanOrEqual(1e-6);
  });

  it('has a case for every OpKind', () => {
    const missing = allOpKinds.filter((k) => !(k in cases));
    expect(missing).toEqual([]);
  });
});

describe('random compositions', () => {
  const unary: ((x: Tensor) => Tensor)[] = [(x) => x.tanh(), (x) => x.sigmoid(), (x) => x.exp().add(1).log(), (x) => x.mul(x).add(1).sqrt(), (x) => x.softmax(-1)];
  const binary: ((a: Tensor, b: Tensor) => Tensor)[] = [(a, b) => a.add(b), (a, b) => a.mul(b), (a, b) => a.sub(b.mul(0.5)), (a, b) => a.div(b.mul(b).add(1))];
  it.each([1, 2, 3, 4, 5, 6])('composition seed %i', async (seed) => {
    const r = new Rng(seed);
    const build = (a: Tensor, b: Tensor, w: Tensor) => {
      const pool = [a, b, a.matmul(w)];
      for (let i = 0; i < 6; i++) {
        const x = pool[r.int(pool.length)];
        const y = pool[r.int(pool.length)];
        pool.push(r.uniform() < 0.5 ? unary[r.int(unary.length)](x) : binary[r.int(binary.length)](x, y));
      }
      return pool[pool.length - 1].add(pool[pool.length - 2]);
    };
    const res = await gradCheck(rt, build, [normal(2, 3), normal(1, 3), normal(3, 3)], { seed });
    expect(res.maxError, res.worst).toBeLessThanOrEqual(1e-6);
  });
});

describe('walker', () => {
  it('ReduceMax shares the gradient evenly between tied maxima, like torch.amax', async () => {
    const x = input('x', [2, 3], 'float64');
    const [g] = grad(x.max([1]).sum(), [x]);
    const out = await (await rt.compile({ g })).run({ x: hostTensor('float64', [2, 3], [1, 5, 5, 2, 0, 1]) });
    expect(out.g).toBeAllClose([0, 0.5, 0.5, 1, 0, 0]);
  });

  it('detach stops the gradient', async () => {
    const x = input('x', [3], 'float64');
    const [g] = grad(x.detach().mul(x).sum(), [x]);
    const out = await (await rt.compile({ g })).run({ x: hostTensor('float64', [3], [1, 2, 3]) });
    expect(out.g).toBeAllClose([1, 2, 3]);
  });

  it('a target the loss does not depend on gets zeros; frozen paths are not differentiated', async () => {
    const x = input('x', [2, 2], 'float64');
    const frozen = input('w', [2, 2], 'float64');
    const unused = input('u', [2], 'float64');
    const [gx, gu] = grad(x.matmul(frozen).sum(), [x, unused]);
    // Nothing in the gradient graph is a MatMul producing a [2,2] gradient for w: Aᵀ·g would need x transposed.
    const ops = toposort([gx]).filter((t) => t.op === 'Transpose' && t.src[0] === x);
    expect(ops).toEqual([]);
    const out = await (await rt.compile({ gx, gu })).run({
      x: hostTensor('float64', [2, 2], [1, 2, 3, 4]), w: hostTensor('float64', [2, 2], [1, 2, 3, 4]), u: hostTensor('float64', [2], [5, 6]),
    });
    expect(out.gx).toBeAllClose([3, 7, 3, 7]);
    expect(out.gu).toBeAllClose([0, 0]);
  });

  it('shape mismatches name the op and both shapes', () => {
    const a = input('a', [2, 3]);
    const b = input('b', [4, 3]);
    expect(() => a.matmul(b)).toThrow(/MatMul: inner dims differ: \[2, 3\] @ \[4, 3\]/);
    expect(() => a.add(b)).toThrow(/Add: shapes \[2, 3\] and \[4, 3\] do not broadcast/);
  });
});
