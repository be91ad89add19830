/** @file Composites: float64 gradchecks through their decompositions, plus forward values checked by hand. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTensor } from '../ir/dtype';
import { Rng } from '../random';
import { createRuntime, type Runtime } from '../runtime/runtime';
import { gradCheck } from '../testing/grad-check';
import '../testing/all-close';
import { applyRotary, attention, causalMask, crossEntropy, rmsNorm, ropeTables, rotaryEmbedding, silu, swiglu } from './composite';
import { concat, constant, input } from './tensor';
import { grad } from '../autodiff/backward';

const rng = new Rng(99);
const normal = (...shape: number[]) => rng.normalTensor(shape, 1, 'float64');
let rt: Runtime;
beforeAll(() => {
  rt = createRuntime({ intraOpThreads: 1 });
});
afterAll(async () => {
  await rt.release();
});

describe('composite gradients (float64 finite differences, error ≤ 1e-6)', () => {
  const ok = (r: { maxError: number; worst: string }) => expect(r.maxError, r.worst).toBeLessThanOrEqual(1e-6);

  it('silu and swiglu', async () => {
    ok(await gradCheck(rt, (x) => silu(x), [normal(2, 3)]));
    ok(await gradCheck(rt, swiglu, [normal(2, 4), normal(4, 6), normal(4, 6), normal(6, 4)]));
  });

  it('rmsNorm', async () => {
    ok(await gradCheck(rt, (x, w) => rmsNorm(x, w, 1e-5), [normal(2, 3, 4), normal(4)]));
  });

  it('rotary embedding', async () => {
    const { cos, sin } = ropeTables(3, 4, 10000, 0, 'float64');
    ok(await gradCheck(rt, (x) => applyRotary(x, constant(cos), constant(sin)), [normal(1, 2, 3, 4)]));
  });

  it('grouped-query causal attention with an additive mask', async () => {
    const mask = constant(causalMask(3, 3, 'float64'));
    ok(await gradCheck(rt, (q, k, v) => attention(q, k, v, { mask }), [normal(1, 4, 3, 2), normal(1, 2, 3, 2), normal(1, 2, 3, 2)]));
  });

  it('attention with a per-batch bool mask (B, 1, T, S) and GQA', async () => {
    const keep = hostTensor('bool', [2, 1, 2, 3], [1, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1]);
    ok(await gradCheck(rt, (q, k, v) => attention(q, k, v, { mask: constant(keep) }), [normal(2, 2, 2, 2), normal(2, 1, 3, 2), normal(2, 1, 3, 2)]));
  });

  it('cross-entropy with ignored targets', async () => {
    const targets = constant(hostTensor('int64', [2, 3], [1, -100, 4, 0, 2, -100]));
    ok(await gradCheck(rt, (logits) => crossEntropy(logits, targets), [normal(2, 3, 5)]));
  });
});

describe('composite values', () => {
  it("rotaryEmbedding (ORT's contrib kernel) equals applyRotary at each row's own position", async () => {
    const [b, t, h, d] = [2, 3, 2, 8];
    const { cos, sin } = ropeTables(6, d);
    const positions = [[5, 0, 2], [1, 1, 4]];
    const x = input('x', [b, t, h * d]);
    // applyRotary on (B, H, T, D) with each (b, t)'s table row gathered out of the (6, D) tables.
    const rows = constant(hostTensor('int64', [b, t], positions.flat()));
    const pick = (table: typeof cos) => constant(table).gather(rows).reshape([b, 1, t, d]);
    const heads = x.reshape([b, t, h, d]).transpose([0, 2, 1, 3]);
    const composite = applyRotary(heads, pick(cos), pick(sin)).transpose([0, 2, 1, 3]).reshape([b, t, h * d]);
    const halfTable = (table: typeof cos) => constant(hostTensor('float32', [6, d / 2], Array.from({ length: 6 * d / 2 }, (_, i) => table.data[Math.floor(i / (d / 2)) * d + (i % (d / 2))] as number)));
    const kernel = rotaryEmbedding(x, rows, halfTable(cos), halfTable(sin));
    const g = await rt.compile({ composite, kernel });
    const out = await g.run({ x: rng.normalTensor([b, t, h * d]) });
    expect(out.kernel).toBeAllClose(Array.from(out.composite.data as Float32Array), { atol: 1e-6 });
  });

  it('rotaryEmbedding refuses tables that do not fit the head size, and non-(B, T) positions', () => {
    const x = input('x', [2, 3, 12]);
    const pos = input('pos', [2, 3], 'int64');
    expect(() => rotaryEmbedding(x, pos, input('c', [8, 5]), input('s', [8, 5]))).toThrow(/RotaryEmbedding: needs float32 x/);
    expect(() => rotaryEmbedding(x, input('p', [2], 'int64'), input('c', [8, 3]), input('s', [8, 3]))).toThrow(/positions must be int64 \(B, T\)/);
  });

  it('cross-entropy equals the mean NLL over kept targets, and 0 when all are ignored', async () => {
    const logits = input('logits', [3, 2], 'float64');
    const t = input('t', [3], 'int64');
    const g = await rt.compile({ loss: crossEntropy(logits, t) });
    const l = hostTensor('float64', [3, 2], [0, 1, 2, 0, 1, 1]);
    const out = await g.run({ logits: l, t: hostTensor('int64', [3], [1, -100, 0]) });
    const nll = (a: number, b: number, pick: number) => -(pick === 0 ? a : b) + Math.log(Math.exp(a) + Math.exp(b));
    expect(out.loss).toBeAllClose([(nll(0, 1, 1) + nll(1, 1, 0)) / 2], { rtol: 1e-12 });
    const none = await g.run({ logits: l, t: hostTensor('int64', [3], [-100, -100, -100]) });
    expect(none.loss).toBeAllClose([0]);
  });

  it('causal attention: the first query sees only the first key', async () => {
    const q = input('q', [1, 1, 2, 2], 'float64');
    const k = input('k', [1, 1, 2, 2], 'float64');
    const v = input('v', [1, 1, 2, 2], 'float64');
    const g = await rt.compile({ o: attention(q, k, v, { mask: constant(causalMask(2, 2, 'float64')) }) });
    const out = await g.run({
      q: hostTensor('float64', [1, 1, 2, 2], [1, 0, 0, 1]), k: hostTensor('float64', [1, 1, 2, 2], [1, 0, 0, 1]),
      v: hostTensor('float64', [1, 1, 2, 2], [1, 2, 3, 4]),
    });
    const w = Math.exp(0) / (Math.exp(0) + Math.exp(1 / Math.SQRT2)); // second query: scores 0 and 1/√2
    expect(out.o).toBeAllClose([1, 2, w * 1 + (1 - w) * 3, w * 2 + (1 - w) * 4], { rtol: 1e-12 });
  });

  it('symbolic batch and sequence dims run at several sizes with one session', async () => {
    const x = input('x', ['B', 'T', 4]);
    const w = input('w', [4]);
    const y = rmsNorm(x, w).reshape([-1, 4]).sum([1]);
    const g = await rt.compile({ y });
    for (const [b, t] of [[1, 2], [3, 5]]) {
      const out = await g.run({ x: rng.normalTensor([b, t, 4]), w: hostTensor('float32', [4], [1, 1, 1, 1]) });
      expect(out.y.shape).toEqual([b * t]);
    }
  });
});

describe('fused forward lowering', () => {
  it('rmsNorm runs as ORT SimplifiedLayerNormalization on a forward-only graph, with the decomposition\'s values', async () => {
    const x = input('x', ['B', 'T', 16]);
    const w = input('w', [16]);
    const y = rmsNorm(x, w, 1e-5);
    const ops = await rt.optimizedOpTypes({ y });
    expect(ops).toContain('SimplifiedLayerNormalization');
    expect(ops).not.toContain('ReduceMean');
    // Reference: the same decomposition, left unfused (float64 graphs optimise at 'basic' level).
    const feeds = { x: rng.normalTensor([2, 3, 16]), w: rng.normalTensor([16]) };
    const fused = (await (await rt.compile({ y })).run(feeds)).y;
    const x64 = input('x', ['B', 'T', 16], 'float64');
    const ref = rmsNorm(x64, input('w', [16], 'float64'), 1e-5);
    expect(await rt.optimizedOpTypes({ y: ref })).toContain('ReduceMean');
    const toF64 = (h: typeof feeds.x) => hostTensor('float64', h.shape, h.data as Float32Array);
    const want = (await (await rt.compile({ y: ref })).run({ x: toF64(feeds.x), w: toF64(feeds.w) })).y;
    expect(fused).toBeAllClose(want, { rtol: 1e-5, atol: 1e-6 });
  });

  it('silu (x·σ(x)) runs as one ORT QuickGelu kernel on a forward-only float32 graph', async () => {
    const x = input('x', [4, 8]);
    const ops = await rt.optimizedOpTypes({ y: silu(x) });
    expect(ops).toEqual(['com.microsoft.QuickGelu']);
    const feeds = { x: rng.normalTensor([4, 8]) };
    const got = (await (await rt.compile({ y: silu(x) })).run(feeds)).y;
    const want = Array.from(feeds.x.data as Float32Array, (v) => v / (1 + Math.exp(-v)));
    expect(got).toBeAllClose(want, { rtol: 1e-5, atol: 1e-6 });
  });

  it('in a training graph the decomposition stays (its intermediates feed the backward pass)', async () => {
    const x = input('x', [2, 16]);
    const w = input('w', [16]);
    const [gw] = grad(rmsNorm(x, w).sum(), [w]);
    expect(await rt.optimizedOpTypes({ gw })).not.toContain('SimplifiedLayerNormalization');
  });
});

describe('symbolic shapes through attention', () => {
  it('GQA with a per-batch (B, 1, T, S) mask over symbolic B, T, S compiles once and runs at two sizes', async () => {
    const q = input('q', ['B', 4, 'T', 2]);
    const k = input('k', ['B', 2, 'S', 2]);
    const v = input('v', ['B', 2, 'S', 2]);
    const mask = input('mask', ['B', 1, 'T', 'S']);
    const o = attention(q, k, v, { mask });
    const [gq] = grad(o.sum(), [q]);
    const g = await rt.compile({ o, gq });
    for (const [b, t, s] of [[1, 2, 3], [2, 3, 5]]) {
      const out = await g.run({
        q: rng.normalTensor([b, 4, t, 2]), k: rng.normalTensor([b, 2, s, 2]), v: rng.normalTensor([b, 2, s, 2]),
        mask: hostTensor('float32', [b, 1, t, s]),
      });
      expect(out.o.shape).toEqual([b, 4, t, 2]);
      expect(out.gq.shape).toEqual([b, 4, t, 2]);
    }
  });

  it("slices inside a concatenated dim's static tail keep the shape known: 'C+2' → 'C', 'C+1', 2", async () => {
    const joined = concat([input('a', ['B', 'C']), input('b', ['B', 2])], 1); // (B, C+2)
    expect(joined.shape).toEqual(['B', 'C+2']);
    expect(joined.slice([0], [-2], [1]).shape).toEqual(['B', 'C']);
    expect(joined.slice([0], [-1], [1]).shape).toEqual(['B', 'C+1']);
    expect(joined.slice([-2], [Number.MAX_SAFE_INTEGER], [1]).shape).toEqual(['B', 2]);
    expect(() => joined.slice([0], [-3], [1])).toThrow(/slice \[0, -3\) of symbolic dim C\+2 needs a static dim/);
    expect(() => joined.slice([1], [Number.MAX_SAFE_INTEGER], [1])).toThrow(/needs a static dim/);
    const g = await rt.compile({ head: joined.slice([0], [-2], [1]).add(input('a', ['B', 'C'])), tail: joined.slice([-2], [Number.MAX_SAFE_INTEGER], [1]) });
    const out = await g.run({ a: hostTensor('float32', [1, 3], [1, 2, 3]), b: hostTensor('float32', [1, 2], [7, 8]) });
    expect([...out.head.data]).toEqual([2, 4, 6]);
    expect([...out.tail.data]).toEqual([7, 8]);
  });
});
