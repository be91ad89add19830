/** @file AdamW / SGD steps against values computed by hand, and the LR schedules. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTensor } from '../ir/dtype';
import { input } from '../frontend/tensor';
import { createRuntime, type Runtime } from '../runtime/runtime';
import { createTrainer } from '../train/trainer';
import '../testing/all-close';
import { adamw, sgd } from './optimizer';
import { constantSchedule, cosineSchedule, linearSchedule } from './schedules';

let rt: Runtime;
beforeAll(() => {
  rt = createRuntime({ intraOpThreads: 1 });
});
afterAll(async () => {
  await rt.release();
});

/** loss = Σ c·w, so the gradient is exactly c every step. */
function linearLoss(dtype: 'float64' | 'float32' = 'float64') {
  const w = input('w', [2], dtype);
  const c = input('c', [2], dtype);
  return { w, loss: w.mul(c).sum() };
}

describe('AdamW', () => {
  it('matches the PyTorch update rule computed by hand for 3 steps', async () => {
    const { w, loss } = linearLoss();
    const opt = adamw({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 });
    const lr = 0.01;
    const t = await createTrainer(rt, { loss, params: { w }, optimizer: opt }, { w: hostTensor('float64', [2], [1, -2]) }, constantSchedule(lr));
    const g = [0.5, -3];
    let p = [1, -2];
    const m = [0, 0], v = [0, 0];
    for (let step = 1; step <= 3; step++) {
      const r = await t.step({ c: hostTensor('float64', [2], g) });
      expect(r.ok).toBe(true);
      p = p.map((pi, i) => {
        m[i] = 0.9 * m[i] + 0.1 * g[i];
        v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
        const mhat = m[i] / (1 - 0.9 ** step);
        const vhat = v[i] / (1 - 0.999 ** step);
        return pi * (1 - lr * 0.1) - (lr * mhat) / (Math.sqrt(vhat) + 1e-8); // decoupled decay, then Adam
      });
      expect(t.params().w).toBeAllClose(p, { rtol: 1e-12, atol: 1e-14 });
    }
    expect(t.optimizerState()['w.exp_avg']).toBeAllClose(m, { rtol: 1e-12 });
    expect(t.optimizerState()['w.exp_avg_sq']).toBeAllClose(v, { rtol: 1e-12 });
    expect(t.optimizerSteps).toBe(3);
    await t.release();
  });
});

describe('SGD', () => {
  it('with momentum and weight decay matches torch.optim.SGD by hand', async () => {
    const { w, loss } = linearLoss();
    const t = await createTrainer(rt, { loss, params: { w }, optimizer: sgd({ momentum: 0.9, weightDecay: 0.01 }) }, { w: hostTensor('float64', [2], [1, 2]) }, constantSchedule(0.1));
    const c = [1, -1];
    let p = [1, 2];
    let buf = [0, 0];
    for (let step = 1; step <= 3; step++) {
      await t.step({ c: hostTensor('float64', [2], c) });
      const g = c.map((ci, i) => ci + 0.01 * p[i]);
      buf = step === 1 ? g : buf.map((b, i) => 0.9 * b + g[i]);
      p = p.map((pi, i) => pi - 0.1 * buf[i]);
      expect(t.params().w).toBeAllClose(p, { rtol: 1e-12 });
    }
    await t.release();
  });

  it('plain SGD is p − lr·g', async () => {
    const { w, loss } = linearLoss();
    const t = await createTrainer(rt, { loss, params: { w }, optimizer: sgd() }, { w: hostTensor('float64', [2], [1, 2]) }, constantSchedule(0.5));
    await t.step({ c: hostTensor('float64', [2], [2, 4]) });
    expect(t.params().w).toBeAllClose([0, 0]);
    await t.release();
  });
});

describe('clipping and accumulation', () => {
  it('global-norm clipping scales the gradient to maxGradNorm and reports the unclipped norm', async () => {
    const { w, loss } = linearLoss();
    const t = await createTrainer(rt, { loss, params: { w }, optimizer: sgd(), maxGradNorm: 1 }, { w: hostTensor('float64', [2], [0, 0]) }, constantSchedule(1));
    const r = await t.step({ c: hostTensor('float64', [2], [3, 4]) });
    expect(r.ok && r.gradNorm).toBeCloseTo(5, 12);
    expect(t.params().w).toBeAllClose([-0.6, -0.8], { rtol: 1e-6 }); // g·1/(5 + 1e-6)
    await t.release();
  });

  it('k micro-batches with accumulation equal one step on their mean gradient', async () => {
    const { w, loss } = linearLoss();
    const init = { w: hostTensor('float64', [2], [1, 1]) };
    const acc = await createTrainer(rt, { loss, params: { w }, optimizer: adamw(), accumulationSteps: 2 }, init, constantSchedule(0.1));
    const one = await createTrainer(rt, { loss, params: { w }, optimizer: adamw() }, init, constantSchedule(0.1));
    const r1 = await acc.step({ c: hostTensor('float64', [2], [1, 3]) });
    expect(r1.ok && !r1.applied).toBe(true);
    expect(acc.params().w).toBeAllClose([1, 1]);
    const r2 = await acc.step({ c: hostTensor('float64', [2], [3, -1]) });
    expect(r2.ok && r2.applied).toBe(true);
    await one.step({ c: hostTensor('float64', [2], [2, 1]) });
    expect(acc.params().w).toBeAllClose(one.params().w, { rtol: 1e-12 });
    expect(acc.optimizerState()['w.grad_acc']).toBeAllClose([0, 0]);
    await Promise.all([acc.release(), one.release()]);
  });
});

describe('schedules', () => {
  it('warmup, linear decay and cosine follow the HF formulas', () => {
    const c = constantSchedule(1, 4);
    expect([0, 2, 4, 10].map(c)).toEqual([0, 0.5, 1, 1]);
    const l = linearSchedule({ lr: 1, warmupSteps: 2, totalSteps: 10 });
    expect([0, 1, 2, 6, 10, 12].map(l)).toEqual([0, 0.5, 1, 0.5, 0, 0]);
    const cos = cosineSchedule({ lr: 1, warmupSteps: 0, totalSteps: 10, minLr: 0.1 });
    expect(cos(0)).toBeCloseTo(1);
    expect(cos(5)).toBeCloseTo(0.55);
    expect(cos(10)).toBeCloseTo(0.1);
  });
});
