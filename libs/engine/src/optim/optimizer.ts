/** @file AdamW and SGD-with-momentum as IR: one param's update from its gradient, state and host-computed scalars (PyTorch semantics). */
import type { DType } from '../ir/dtype';
import type { Tensor } from '../frontend/tensor';

export interface AdamWConfig {
  kind: 'adamw';
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface SgdConfig {
  kind: 'sgd';
  momentum: number;
  weightDecay: number;
}

export type Optimizer = AdamWConfig | SgdConfig;

/** torch.optim.AdamW defaults: β = (0.9, 0.999), ε = 1e-8, weight decay 0.01. */
export function adamw(o: Partial<Omit<AdamWConfig, 'kind'>> = {}): AdamWConfig {
  return { kind: 'adamw', beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0.01 };
}

/** torch.optim.SGD defaults: no momentum, no weight decay. */
export function sgd(o: Partial<Omit<SgdConfig, 'kind'>> = {}): SgdConfig {
  return { kind: 'sgd', momentum: o.momentum ?? 0, weightDecay: o.weightDecay ?? 0 };
}

/** Per-parameter state slots (each shaped like the parameter, starting at zero). */
export function stateSlots(opt: Optimizer): string[] {
  if (opt.kind === 'adamw') return ['exp_avg', 'exp_avg_sq'];
  return opt.momentum !== 0 ? ['momentum_buffer'] : [];
}

/** Scalar graph inputs the host recomputes every step (so lr schedules never recompile the graph). */
export function scalarNames(opt: Optimizer): string[] {
  return opt.kind === 'adamw' ? ['opt.step_size', 'opt.bc2_sqrt', 'opt.decay'] : ['opt.lr', 'opt.buf_coef'];
}

/**
 * Host scalars for optimizer step t (1-based) at learning rate lr, computed in float64 as PyTorch
 * does in Python: step_size = lr / (1 − β1ᵗ), bc2_sqrt = √(1 − β2ᵗ), decay = 1 − lr·wd.
 */
export function hostScalars(opt: Optimizer, lr: number, t: number): Record<string, number> {
  if (opt.kind === 'adamw') {
    return {
      'opt.step_size': lr / (1 - Math.pow(opt.beta1, t)),
      'opt.bc2_sqrt': Math.sqrt(1 - Math.pow(opt.beta2, t)),
      'opt.decay': 1 - lr * opt.weightDecay,
    };
  }
  // PyTorch's first momentum step sets buf = g; later ones buf = μ·buf + g.
  return { 'opt.lr': lr, 'opt.buf_coef': t === 1 ? 0 : opt.momentum };
}

export interface UpdateResult {
  param: Tensor;
  state: Tensor[];
}

/** The updated parameter and state for one tensor, in PyTorch's operation order. */
export function applyUpdate(opt: Optimizer, p: Tensor, g: Tensor, state: Tensor[], s: Record<string, Tensor>): UpdateResult {
  if (opt.kind === 'adamw') {
    const [m, v] = state;
    const m2 = m.add(g.sub(m).mul(1 - opt.beta1)); // exp_avg.lerp_(g, 1 − β1)
    const v2 = v.mul(opt.beta2).add(g.mul(1 - opt.beta2).mul(g)); // exp_avg_sq·β2 + (1 − β2)·g·g (addcmul order)
    const denom = v2.sqrt().div(s['opt.bc2_sqrt']).add(opt.eps); // √v / √(1 − β2ᵗ) + ε
    const param = p.mul(s['opt.decay']).sub(m2.mul(s['opt.step_size']).div(denom)); // decoupled decay, then addcdiv
    return { param, state: [m2, v2] };
  }
  const gd = opt.weightDecay !== 0 ? g.add(p.mul(opt.weightDecay)) : g; // L2 into the gradient, as torch SGD
  if (opt.momentum === 0) return { param: p.sub(gd.mul(s['opt.lr'])), state: [] };
  const buf = state[0].mul(s['opt.buf_coef']).add(gd);
  return { param: p.sub(buf.mul(s['opt.lr'])), state: [buf] };
}

export type { DType };
