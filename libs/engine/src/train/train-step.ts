/** @file Builds the one-graph training step: forward, backward, clipping, accumulation, optimizer update, and a finite guard. */
import { grad } from '../autodiff/backward';
import type { DType } from '../ir/dtype';
import type { OpParams } from '../ir/ops';
import { fmt } from '../ir/shape';
import { input, where, type Tensor } from '../frontend/tensor';
import { applyUpdate, scalarNames, stateSlots, type Optimizer } from '../optim/optimizer';

export interface TrainSpec {
  /** Scalar loss. */
  loss: Tensor;
  /** Trainable graph inputs by name (made with input(name, …)); every other input is frozen. */
  params: Record<string, Tensor>;
  optimizer: Optimizer;
  /** Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_). */
  maxGradNorm?: number;
  /** Micro-batches per optimizer update; gradients are averaged over them. */
  accumulationSteps?: number;
}

/** Graph input/output names of a training step (inputs are fed by Trainer; outputs come back). */
export const names = {
  state: (param: string, slot: string) => `${param}.${slot}`,
  acc: (param: string) => `${param}.grad_acc`,
  next: (name: string) => `next:${name}`,
  apply: 'train.apply',
  loss: 'loss',
  gradNorm: 'grad_norm',
};

export interface TrainStepGraph {
  outputs: Record<string, Tensor>;
  /** Trainable params and the state slots each carries (optimizer state, then accumulator). */
  params: { name: string; dtype: DType; shape: number[]; slots: string[] }[];
  scalars: string[];
  dtype: DType;
}

/**
 * The training step as outputs of one graph. With accumulation k > 1, each micro-step adds g/k to
 * the accumulator and the update happens when `train.apply` is 1. When the loss or any gradient is
 * NaN/±Inf, every output equals its input (params, state and accumulator unchanged).
 */
export function buildTrainStep(spec: TrainSpec): TrainStepGraph {
  const { loss, optimizer } = spec;
  const k = spec.accumulationSteps ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new Error(`train: accumulationSteps must be a positive integer, got ${k}`);
  if (loss.rank !== 0) throw new Error(`train: loss must be a scalar, got ${loss}`);
  const dtype = loss.dtype;
  const entries = Object.entries(spec.params);
  if (entries.length === 0) throw new Error('train: no trainable params');
  for (const [name, p] of entries) {
    if (p.op !== 'Input' || (p.params as OpParams<'Input'>).name !== name) {
      throw new Error(`train: param '${name}' must be the graph input named '${name}', got ${p}`);
    }
    if (p.dtype !== dtype) throw new Error(`train: param '${name}' is ${p.dtype} but the loss is ${dtype}`);
    if (p.shape.some((d) => typeof d !== 'number')) throw new Error(`train: param '${name}' has symbolic shape ${fmt(p.shape)}`);
  }
  const scalars = Object.fromEntries(scalarNames(optimizer).map((n) => [n, input(n, [], dtype)]));
  const grads = grad(loss, entries.map(([, p]) => p));
  const slots = stateSlots(optimizer);

  // ---- accumulate (mean over micro-batches) -------------------------------------------------
  const accs = entries.map(([name, p]) => (k > 1 ? input(names.acc(name), p.shape, dtype) : null));
  const totals = grads.map((g, i) => (k > 1 ? accs[i]!.add(g.mul(1 / k)) : g));

  // ---- global norm, clipping, finite guard ---------------------------------------------------
  const sumSq = totals.map((g) => g.mul(g).sum()).reduce((a, b) => a.add(b));
  const gradNorm = sumSq.sqrt();
  // NaN and ±Inf survive ·0 as NaN, so one comparison covers the loss and every gradient.
  const finite = loss.mul(0).add(sumSq.mul(0)).equal(0);
  let clip: Tensor | null = null;
  if (spec.maxGradNorm !== undefined) {
    const coef = gradNorm.add(1e-6).reciprocal().mul(spec.maxGradNorm); // max_norm / (norm + 1e-6), clamped to 1
    clip = where(coef.less(1), coef, 1);
  }
  const apply = k > 1 ? input(names.apply, [], dtype) : null;
  const update = apply ? finite.cast(dtype).mul(apply).greater(0.5) : finite;

  const outputs: Record<string, Tensor> = { [names.loss]: loss, [names.gradNorm]: gradNorm };
  const params: TrainStepGraph['params'] = [];
  entries.forEach(([name, p], i) => {
    const state = slots.map((s) => input(names.state(name, s), p.shape, dtype));
    const g = clip ? totals[i].mul(clip) : totals[i];
    const next = applyUpdate(optimizer, p, g, state, scalars);
    outputs[names.next(name)] = where(update, next.param, p);
    slots.forEach((s, j) => (outputs[names.next(names.state(name, s))] = where(update, next.state[j], state[j])));
    const ownSlots = slots.map((s) => names.state(name, s));
    if (apply) {
      // Applied: start a fresh accumulator; skipped (bad batch): keep it; otherwise carry the sum.
      outputs[names.next(names.acc(name))] = where(update, 0, where(finite, totals[i], accs[i]!));
      ownSlots.push(names.acc(name));
    }
    params.push({ name, dtype, shape: p.shape as number[], slots: ownSlots });
  });
  return { outputs, params, scalars: [...Object.keys(scalars), ...(apply ? [names.apply] : [])], dtype };
}
