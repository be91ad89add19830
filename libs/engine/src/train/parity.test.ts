/** @file Parity with PyTorch (llm.c style): a committed fixture from tools/fixtures/engine/make_engine_fixtures.py, compared tensor by tensor. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTensor, type DType, type HostTensor } from '../ir/dtype';
import { grad } from '../autodiff/backward';
import { adamw } from '../optim/optimizer';
import { constantSchedule } from '../optim/schedules';
import { createRuntime, type Runtime } from '../runtime/runtime';
import { tinyFeeds, tinyTransformer, type TinyConfig } from '../reference/tiny-transformer';
import '../testing/all-close';
import { createTrainer } from './trainer';

interface Dumped { shape: number[]; data: number[] }
const fx = JSON.parse(readFileSync(new URL('./fixtures/tiny-transformer-parity.json', import.meta.url), 'utf8')) as {
  config: TinyConfig; ids: number[][]; targets: number[][]; params: Record<string, Dumped>; logits: Dumped; loss: number;
  grads: Record<string, Dumped>; steps: { loss: number; gradNorm: number }[]; final: Record<string, Dumped>;
  optimizer: { lr: number; weightDecay: number; maxGradNorm: number };
};
const load = (d: Dumped, dtype: DType): HostTensor => hostTensor(dtype, d.shape, d.data);
const paramsAs = (dtype: DType) => Object.fromEntries(Object.entries(fx.params).map(([n, d]) => [n, load(d, dtype)]));

let rt: Runtime;
beforeAll(() => {
  rt = createRuntime({ intraOpThreads: 1 });
});
afterAll(async () => {
  await rt.release();
});

// float64 matches torch to rounding; float32 carries ~1e-7 relative rounding per op through two layers.
describe.each([
  ['float64', { rtol: 1e-9, atol: 1e-11 }],
  ['float32', { rtol: 2e-4, atol: 2e-5 }],
] as const)('tiny transformer vs PyTorch in %s', (dtype, tol) => {
  it('logits, loss and every parameter gradient', async () => {
    const { params, logits, loss } = tinyTransformer(fx.config, dtype);
    const names = Object.keys(params);
    const grads = grad(loss, names.map((n) => params[n]));
    const outputs = Object.fromEntries([['logits', logits], ['loss', loss], ...names.map((n, i) => [`grad:${n}`, grads[i]])]);
    const out = await (await rt.compile(outputs)).run({ ...paramsAs(dtype), ...tinyFeeds(fx.config, fx.ids, fx.targets, dtype) });
    expect(out.logits).toBeAllClose(load(fx.logits, 'float64'), tol);
    expect(out.loss).toBeAllClose([fx.loss], tol);
    for (const n of names) expect(out[`grad:${n}`], n).toBeAllClose(load(fx.grads[n], 'float64'), tol);
  });

  it('three AdamW steps with clipping: losses, grad norms, final parameters', async () => {
    const { params, loss } = tinyTransformer(fx.config, dtype);
    const { lr, weightDecay, maxGradNorm } = fx.optimizer;
    const t = await createTrainer(rt, { loss, params, optimizer: adamw({ weightDecay }), maxGradNorm }, paramsAs(dtype), constantSchedule(lr));
    for (const ref of fx.steps) {
      const r = await t.step(tinyFeeds(fx.config, fx.ids, fx.targets, dtype));
      if (!r.ok) throw new Error(r.reason);
      expect(r.loss).toBeAllClose([ref.loss], tol);
      expect(r.gradNorm).toBeAllClose([ref.gradNorm], tol);
    }
    const final = t.params();
    for (const n of Object.keys(fx.final)) expect(final[n], n).toBeAllClose(load(fx.final[n], 'float64'), tol);
    await t.release();
  });
});
