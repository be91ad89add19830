/** @file Central finite-difference gradient check of any graph builder against the engine's reverse mode. */
import { hostTensor, type HostTensor } from '../ir/dtype';
import { constant, input, type Tensor } from '../frontend/tensor';
import { grad } from '../autodiff/backward';
import { Rng } from '../random';
import type { Runtime } from '../runtime/runtime';

export interface GradCheckOptions {
  /** Finite-difference step (default 1e-6 for float64, 1e-3 for float32). */
  eps?: number;
  /** Which inputs to differentiate (default: every float input). */
  wrt?: number[];
  seed?: number;
}

export interface GradCheckResult {
  /** max over elements of |analytic − numeric| / max(1, |analytic|, |numeric|). */
  maxError: number;
  analytic: number[][];
  numeric: number[][];
  worst: string;
}

/**
 * Checks d/dx of L = Σ build(x)⊙R (R a fixed random projection, so every output element matters)
 * against (L(x+ε) − L(x−ε)) / 2ε, element by element.
 */
export async function gradCheck(
  rt: Runtime,
  build: (...xs: Tensor[]) => Tensor,
  inputs: HostTensor[],
  opts: GradCheckOptions = {},
): Promise<GradCheckResult> {
  const xs = inputs.map((h, i) => input(`x${i}`, h.shape, h.dtype));
  const y = build(...xs);
  const rng = new Rng(opts.seed ?? 7);
  const ys = y.shape as number[];
  const projection = constant(hostTensor(y.dtype, ys, rng.normalArray(ys.reduce((p, q) => p * q, 1))));
  const loss = y.mul(projection).sum();
  const wrt = opts.wrt ?? inputs.map((h, i) => (h.dtype === 'float32' || h.dtype === 'float64' ? i : -1)).filter((i) => i >= 0);
  const grads = grad(loss, wrt.map((i) => xs[i]));
  const outputs: Record<string, Tensor> = { loss };
  grads.forEach((g, k) => (outputs[`g${k}`] = g));
  const [both, lossOnly] = await Promise.all([rt.compile(outputs), rt.compile({ loss })]);
  const feeds: Record<string, HostTensor> = {};
  inputs.forEach((h, i) => (feeds[`x${i}`] = h));
  const base = await both.run(feeds);
  const analytic = wrt.map((_, k) => Array.from(base[`g${k}`].data as ArrayLike<number>));
  const eps = opts.eps ?? (y.dtype === 'float64' ? 1e-6 : 1e-3);
  const numeric: number[][] = [];
  let maxError = 0;
  let worst = '';
  for (const [k, i] of wrt.entries()) {
    const h = inputs[i];
    const col: number[] = [];
    for (let j = 0; j < h.data.length; j++) {
      const at = (delta: number) => {
        const data = (h.data as Float64Array).slice();
        data[j] += delta;
        return lossOnly.run({ ...feeds, [`x${i}`]: { ...h, data } }).then((o) => Number(o.loss.data[0]));
      };
      const [lp, lm] = await Promise.all([at(eps), at(-eps)]);
      const n = (lp - lm) / (2 * eps);
      col.push(n);
      const a = analytic[k][j];
      const err = Math.abs(a - n) / Math.max(1, Math.abs(a), Math.abs(n));
      if (err > maxError || Number.isNaN(err)) {
        maxError = Number.isNaN(err) ? Infinity : err;
        worst = `input ${i} element ${j}: analytic ${a}, numeric ${n}`;
      }
    }
    numeric.push(col);
  }
  return { maxError, analytic, numeric, worst };
}
