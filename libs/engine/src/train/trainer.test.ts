/** @file Training end to end: an MLP and a 2-layer transformer learn, NaN/Inf steps are refused, runs are bit-reproducible, LoRA-style training leaves the base alone. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTensor, type HostTensor } from '../ir/dtype';
import { toposort } from '../ir/graph';
import { crossEntropy } from '../frontend/composite';
import { input } from '../frontend/tensor';
import { adamw, sgd } from '../optim/optimizer';
import { constantSchedule, cosineSchedule } from '../optim/schedules';
import { Rng } from '../random';
import { createRuntime, type Runtime } from '../runtime/runtime';
import { tinyFeeds, tinyInit, tinyTransformer, type TinyConfig } from '../reference/tiny-transformer';
import '../testing/all-close';
import { buildTrainStep } from './train-step';
import { createTrainer } from './trainer';

let rt: Runtime;
beforeAll(() => {
  rt = createRuntime({ intraOpThreads: 1 });
});
afterAll(async () => {
  await rt.release();
});

describe('learning', () => {
  it('an MLP learns XOR', async () => {
    const x = input('x', [4, 2]);
    const y = input('y', [4], 'int64');
    const w1 = input('w1', [2, 16]), b1 = input('b1', [16]), w2 = input('w2', [16, 2]), b2 = input('b2', [2]);
    const loss = crossEntropy(x.matmul(w1).add(b1).tanh().matmul(w2).add(b2), y);
    const rng = new Rng(3);
    const init = { w1: rng.normalTensor([2, 16]), b1: hostTensor('float32', [16]), w2: rng.normalTensor([16, 2], 0.5), b2: hostTensor('float32', [2]) };
    const t = await createTrainer(rt, { loss, params: { w1, b1, w2, b2 }, optimizer: adamw({ weightDecay: 0 }) }, init, constantSchedule(0.05));
    const feeds = { x: hostTensor('float32', [4, 2], [0, 0, 0, 1, 1, 0, 1, 1]), y: hostTensor('int64', [4], [0, 1, 1, 0]) };
    let last = Infinity;
    for (let i = 0; i < 150; i++) {
      const r = await t.step(feeds);
      if (!r.ok) throw new Error(r.reason);
      last = r.loss;
    }
    expect(last).toBeLessThan(0.02);
    await t.release();
  });

  it('a 2-layer transformer learns to copy a sequence (attention needed), over symbolic (B, T)', async () => {
    const c: TinyConfig = { vocab: 10, dim: 32, heads: 4, kvHeads: 2, hidden: 64, layers: 2, ropeTheta: 10000, normEps: 1e-5 };
    const { params, loss } = tinyTransformer(c);
    const t = await createTrainer(rt, { loss, params, optimizer: adamw(), maxGradNorm: 1 }, tinyInit(c, 1), cosineSchedule({ lr: 3e-3, warmupSteps: 20, totalSteps: 400 }));
    const rng = new Rng(5);
    const batch = () => {
      const ids: number[][] = [], tg: number[][] = [];
      for (let b = 0; b < 16; b++) {
        const half = Array.from({ length: 4 }, () => 1 + rng.int(c.vocab - 1));
        const seq = [...half, ...half];
        ids.push(seq.slice(0, 7));
        tg.push(seq.slice(1).map((v, i) => (i >= 3 ? v : -100))); // only the copied half is scored
      }
      return tinyFeeds(c, ids, tg);
    };
    let first = 0, last = 0;
    for (let i = 0; i < 400; i++) {
      const r = await t.step(batch());
      if (!r.ok) throw new Error(r.reason);
      if (i === 0) first = r.loss;
      last = r.loss;
    }
    expect(first).toBeGreaterThan(2);
    expect(last).toBeLessThan(0.1);
    await t.release();
  }, 120_000);
});

describe('non-finite steps', () => {
  const setup = async () => {
    const w = input('w', [2]);
    const c = input('c', [2]);
    const loss = w.mul(c).sum().add(w.sqrt().sum());
    return createTrainer(rt, { loss, params: { w }, optimizer: adamw() }, { w: hostTensor('float32', [2], [1, 4]) }, constantSchedule(0.1));
  };

  it('a NaN loss is reported and nothing changes; training continues after', async () => {
    const t = await setup();
    const ok = await t.step({ c: hostTensor('float32', [2], [1, 1]) });
    expect(ok.ok).toBe(true);
    const before = { ...t.params(), ...t.optimizerState() };
    const bad = await t.step({ c: hostTensor('float32', [2], [NaN, 1]) });
    expect(bad).toMatchObject({ ok: false, reason: 'non-finite-loss' });
    for (const [n, v] of Object.entries({ ...t.params(), ...t.optimizerState() })) expect(v, n).toBeAllClose(before[n], { rtol: 0, atol: 0 });
    expect(t.optimizerSteps).toBe(1);
    expect((await t.step({ c: hostTensor('float32', [2], [1, 1]) })).ok).toBe(true);
    expect(t.optimizerSteps).toBe(2);
    await t.release();
  });

  it('an infinite gradient with a finite loss is reported as non-finite-gradient', async () => {
    const w = input('w', [2]);
    const loss = w.sqrt().sum(); // d√w/dw = ∞ at 0
    const t = await createTrainer(rt, { loss, params: { w }, optimizer: sgd() }, { w: hostTensor('float32', [2], [0, 1]) }, constantSchedule(0.1));
    const r = await t.step({});
    expect(r).toMatchObject({ ok: false, reason: 'non-finite-gradient', loss: 1 });
    expect(t.params().w).toBeAllClose([0, 1], { rtol: 0, atol: 0 });
    await t.release();
  });
});

describe('bad feeds', () => {
  it('a missing or misshaped feed is a clear error and the trainer carries on', async () => {
    const w = input('w', [2]);
    const c = input('c', [2]);
    const t = await createTrainer(rt, { loss: w.mul(c).sum(), params: { w }, optimizer: sgd() }, { w: hostTensor('float32', [2], [1, 1]) }, constantSchedule(1));
    await expect(t.step({})).rejects.toThrow(/missing feed 'c'/);
    await expect(t.step({ c: hostTensor('float32', [3]) })).rejects.toThrow(/feed 'c' has shape \[3\]/);
    expect((await t.step({ c: hostTensor('float32', [2], [1, 2]) })).ok).toBe(true);
    expect(t.params().w).toBeAllClose([0, -1]);
    await t.release();
  });

  it('createTrainer lists every missing, misshaped and unexpected initial value at once', async () => {
    const a = input('a', [2]);
    const b = input('b', [3]);
    await expect(createTrainer(rt, { loss: a.sum().add(b.sum()), params: { a, b }, optimizer: sgd() },
      { b: hostTensor('float32', [2]), z: hostTensor('float32', [1]) }, constantSchedule(1)))
      .rejects.toThrow(/missing initial value for 'a'.*'b' is float32\[2\], graph wants float32\[3\].*unexpected initial value 'z'/);
  });
});

describe('resume', () => {
  it('a trainer rebuilt from params, optimizer state and step count continues bit-identically', async () => {
    const w = input('w', [3]);
    const c = input('c', [3]);
    const loss = w.mul(c).sum().add(w.mul(w).sum());
    const spec = { loss, params: { w }, optimizer: adamw() };
    const schedule = cosineSchedule({ lr: 0.1, warmupSteps: 1, totalSteps: 10 });
    const feeds = (i: number) => ({ c: hostTensor('float32', [3], [i, -1, 0.5]) });
    const a = await createTrainer(rt, spec, { w: hostTensor('float32', [3], [1, 2, 3]) }, schedule);
    for (let i = 0; i < 3; i++) await a.step(feeds(i));
    const b = await createTrainer(rt, spec, a.params(), schedule, { state: a.optimizerState(), optimizerSteps: a.optimizerSteps });
    const [ra, rb] = [await a.step(feeds(3)), await b.step(feeds(3))];
    expect(rb).toEqual(ra);
    expect(b.params().w).toBeAllClose(a.params().w, { rtol: 0, atol: 0 });
    await expect(createTrainer(rt, spec, a.params(), schedule, { state: {}, optimizerSteps: 1 })).rejects.toThrow(/missing optimizer state 'w.exp_avg'/);
    await Promise.all([a.release(), b.release()]);
  });
});

describe('determinism', () => {
  it.each([1, 2])('same seed and inputs give bit-identical parameters across fresh runtimes (%i intra-op threads)', async (threads) => {
    const c: TinyConfig = { vocab: 11, dim: 16, heads: 2, kvHeads: 1, hidden: 32, layers: 2, ropeTheta: 10000, normEps: 1e-5 };
    const run = async () => {
      const own = createRuntime({ intraOpThreads: threads });
      const { params, loss } = tinyTransformer(c);
      const t = await createTrainer(own, { loss, params, optimizer: adamw(), maxGradNorm: 1 }, tinyInit(c, 42), constantSchedule(1e-2));
      const rng = new Rng(9);
      for (let i = 0; i < 5; i++) {
        const ids = [Array.from({ length: 6 }, () => rng.int(c.vocab)), Array.from({ length: 6 }, () => rng.int(c.vocab))];
        await t.step(tinyFeeds(c, ids, ids.map((r) => [...r.slice(1), -100])));
      }
      const p = t.params();
      await own.release();
      return p;
    };
    const [a, b] = [await run(), await run()];
    const bytes = (h: HostTensor) => Buffer.from(h.data.buffer, h.data.byteOffset, h.data.byteLength);
    for (const n of Object.keys(a)) expect(bytes(a[n]).equals(bytes(b[n])), n).toBe(true);
  });
});

describe('LoRA-style training (frozen base)', () => {
  it('trains only the adapter, never differentiates into the base weight, and takes the base as an uploaded weight', async () => {
    const x = input('x', ['N', 8]);
    const target = input('target', ['N', 4]);
    const base = input('base', [8, 4]); // frozen: a graph input that is not in params
    const a = input('lora_a', [8, 2]);
    const b = input('lora_b', [2, 4]);
    const pred = x.matmul(base).add(x.matmul(a).matmul(b).mul(2)); // scale = alpha / r
    const diff = pred.sub(target);
    const loss = diff.mul(diff).mean();
    const step = buildTrainStep({ loss, params: { lora_a: a, lora_b: b }, optimizer: adamw() });
    // The only MatMuls with the base are the forward one and dL/dx-style products, none yielding a (8, 4) gradient.
    const nodes = toposort(Object.values(step.outputs));
    expect(nodes.filter((t) => t.op === 'MatMul' && t.shape.join() === '8,4')).toEqual([]);
    const rng = new Rng(11);
    const baseW = rng.normalTensor([8, 4]);
    const { base: baseRef } = await rt.uploadWeights({ base: baseW });
    const t = await createTrainer(rt, { loss, params: { lora_a: a, lora_b: b }, optimizer: adamw({ weightDecay: 0 }) },
      { lora_a: rng.normalTensor([8, 2], 0.3), lora_b: hostTensor('float32', [2, 4]) }, constantSchedule(0.02));
    const xs = rng.normalTensor([16, 8]);
    const ys = rng.normalTensor([16, 4]);
    const first = await t.step({ x: xs, target: ys, base: baseRef });
    let last = first;
    for (let i = 0; i < 60; i++) last = await t.step({ x: xs, target: ys, base: baseRef });
    expect(first.ok && last.ok && last.loss < first.loss * 0.9).toBe(true);
    // The uploaded base is still what it was: the plain forward with B = 0 reproduces x·W.
    const fwd = await rt.compile({ y: x.matmul(base) });
    expect((await fwd.run({ x: xs, base: baseRef })).y).toBeAllClose((await fwd.run({ x: xs, base: baseW })).y, { rtol: 0, atol: 0 });
    await rt.dropWeights({ base: baseRef });
    await expect(fwd.run({ x: xs, base: baseRef })).rejects.toThrow(/not uploaded or were dropped/);
    await t.release();
  });
});
