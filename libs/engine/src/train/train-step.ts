/** @file Builds the one-graph training step: forward, backward, clipping, accumulation, optimizer update, and a finite guard. */
import { grad } from '../autodiff/backward';
import type { DType } from '../ir/dtype';
import type { OpParams } from '../ir/ops';
import { fmt } from '../ir/shape';
import { substitute } from '../frontend/substitute';
import { concat, input, where, type Tensor } from '../frontend/tensor';
import { applyUpdate, scalarNames, stateSlots, type Optimizer } from '../optim/optimizer';

export interface TrainSpec {
  /** Scalar loss. */
  loss: Tensor;
  /** Trainable graph inputs by name (made with input(name, …)); every other input is frozen. */
  params: Record<string, Tensor>;
  optimizer: Optimizer;
  /** Global-norm clipping (torch.nn.utils.clip_grad_norm_). */
  maxGradNorm?: number;
  /** Micro-batches per optimizer update; gradients are averaged over them. */
  accumulationSteps?: number;
}

/** Graph input/output names of a training step (inputs are fed by Trainer; outputs come back). */
export const names = {
  /** All trainable values, flattened and concatenated in `params` order. */
  params: 'train.params',
  state: (slot: string) => `train.${slot}`,
  acc: 'train.grad_acc',
  next: (name: string) => `next:${name}`,
  apply: 'train.apply',
  loss: 'loss',
  gradNorm: 'grad_norm',
};

export interface TrainStepGraph {
  outputs: Record<string, Tensor>;
  /** Each trainable param's place in the flat vectors. */
  params: { name: string; dtype: DType; shape: number[]; offset: number; size: number }[];
  /** Flat state vectors carried from step to step, as graph input names (optimizer slots, then the accumulator). */
  state: { name: string; slot: string }[];
  size: number;
  scalars: string[];
  dtype: DType;
}

/**
 * The training step as outputs of one graph. All trainables live in one flat vector (sliced back
 * into the named params inside the graph), so the optimizer, clipping and guard are a dozen
 * large elementwise ops rather than a dozen per parameter. With accumulation k > 1, each
 * micro-step adds g/k to the accumulator and the update happens when `train.apply` is 1. When the
 * loss or any gradient is NaN/±Inf, every output equals its input.
 */
export function buildTrainStep(spec: TrainSpec): TrainStepGraph {
  const { optimizer } = spec;
  const k = spec.accumulationSteps ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new Error(`train: accumulationSteps must be a positive integer, got ${k}`);
  if (spec.loss.rank !== 0) throw new Error(`train: loss must be a scalar, got ${spec.loss}`);
  const dtype = spec.loss.dtype;
  const entries = Object.entries(spec.params);
  if (entries.length === 0) throw new Error('train: no trainable params');
  const params: TrainStepGraph['params'] = [];
  let size = 0;
  for (const [name, p] of entries) {
    if (p.op !== 'Input' || (p.params as OpParams<'Input'>).name !== name) {
      throw new Error(`train: param '${name}' must be the graph input named '${name}', got ${p}`);
    }
    if (p.dtype !== dtype) throw new Error(`train: param '${name}' is ${p.dtype} but the loss is ${dtype}`);
    if (p.shape.some((d) => typeof d !== 'number')) throw new Error(`train: param '${name}' has symbolic shape ${fmt(p.shape)}`);
    const n = (p.shape as number[]).reduce((a, b) => a * b, 1);
    params.push({ name, dtype, shape: [...(p.shape as number[])], offset: size, size: n });
    size += n;
  }

  // ---- params as views of one flat vector ----------------------------------------------------
  const flat = input(names.params, [size], dtype);
  const views = params.map((p) => flat.slice([p.offset], [p.offset + p.size], [0]).reshape(p.shape));
  const [loss] = substitute([spec.loss], new Map(entries.map(([, p], i) => [p, views[i]])));
  const g = concat(grad(loss, views).map((gi) => gi.reshape([-1])), 0); // (size,)

  // ---- accumulate (mean over micro-batches) -------------------------------------------------
  const acc = k > 1 ? input(names.acc, [size], dtype) : null;
  const total = acc ? acc.add(g.mul(1 / k)) : g;

  // ---- global norm, clipping, finite guard ---------------------------------------------------
  const sumSq = total.mul(total).sum();
  const gradNorm = sumSq.sqrt();
  // NaN and ±Inf survive ·0 as NaN, so one comparison covers the loss and every gradient.
  const finite = loss.mul(0).add(sumSq.mul(0)).equal(0);
  let clipped = total;
  if (spec.maxGradNorm !== undefined) {
    const coef = gradNorm.add(1e-6).reciprocal().mul(spec.maxGradNorm); // max_norm / (norm + 1e-6), clamped to 1
    clipped = total.mul(where(coef.less(1), coef, 1));
  }
  const apply = k > 1 ? input(names.apply, [], dtype) : null;
  const update = apply ? finite.cast(dtype).mul(apply).greater(0.5) : finite;

  // ---- optimizer --------------------------------------------------------------------------
  const scalars = Object.fromEntries(scalarNames(optimizer).map((n) => [n, input(n, [], dtype)]));
  const slots = stateSlots(optimizer);
  const stateIn = slots.map((s) => input(names.state(s), [size], dtype));
  const next = applyUpdate(optimizer, flat, clipped, stateIn, scalars);
  const outputs: Record<string, Tensor> = {
    [names.loss]: loss,
    [names.gradNorm]: gradNorm,
    [names.next(names.params)]: where(update, next.param, flat),
  };
  const state = slots.map((slot) => ({ name: names.state(slot), slot }));
  slots.forEach((s, j) => (outputs[names.next(names.state(s))] = where(update, next.state[j], stateIn[j])));
  if (acc) {
    // Applied: start a fresh accumulator; skipped (bad batch): keep it; otherwise carry the sum.
    outputs[names.next(names.acc)] = where(update, 0, where(finite, total, acc));
    state.push({ name: names.acc, slot: 'grad_acc' });
  }
  return { outputs, params, state, size, scalars: [...Object.keys(scalars), ...(apply ? [names.apply] : [])], dtype };
}
