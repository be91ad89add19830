/** @file Trainer: holds trainable values and optimizer state on the host, runs one compiled training-step graph per call. */
import { allocate, hostTensor, type HostTensor } from '../ir/dtype';
import { fmt } from '../ir/shape';
import { hostScalars } from '../optim/optimizer';
import type { Schedule } from '../optim/schedules';
import type { CompiledGraph, Feed, Runtime } from '../runtime/runtime';
import { buildTrainStep, names, type TrainSpec, type TrainStepGraph } from './train-step';

export type StepResult =
  | { ok: true; loss: number; gradNorm: number; lr: number; applied: boolean }
  | { ok: false; reason: 'non-finite-loss' | 'non-finite-gradient'; loss: number; gradNorm: number };

/** A snapshot to resume from: optimizer state keyed '<param>.<slot>' (as optimizerState() returns) and the step count. */
export interface TrainerResume {
  state: Record<string, HostTensor>;
  optimizerSteps: number;
}

export class Trainer {
  private state = new Map<string, HostTensor>();
  private micro = 0;
  private steps = 0;

  private constructor(
    private readonly graph: TrainStepGraph,
    private readonly compiled: CompiledGraph,
    private readonly spec: TrainSpec,
    private readonly schedule: Schedule,
  ) {}

  static async create(rt: Runtime, spec: TrainSpec, init: Record<string, HostTensor>, schedule: Schedule, resume?: TrainerResume): Promise<Trainer> {
    const graph = buildTrainStep(spec);
    const problems: string[] = [];
    for (const p of graph.params) {
      const v = init[p.name];
      if (!v) problems.push(`missing initial value for '${p.name}' (${p.dtype}${fmt(p.shape)})`);
      else if (v.dtype !== p.dtype || v.shape.join(',') !== p.shape.join(',')) {
        problems.push(`'${p.name}' is ${v.dtype}${fmt(v.shape)}, graph wants ${p.dtype}${fmt(p.shape)}`);
      }
    }
    for (const n of Object.keys(init)) if (!graph.params.some((p) => p.name === n)) problems.push(`unexpected initial value '${n}'`);
    if (resume) {
      const want = new Map<string, TrainStepGraph['params'][number]>(graph.state.flatMap((s) => graph.params.map((p) => [`${p.name}.${s.slot}`, p] as const)));
      for (const [k, p] of want) {
        const v = resume.state[k];
        if (!v) problems.push(`resume: missing optimizer state '${k}'`);
        else if (v.dtype !== p.dtype || v.shape.join(',') !== p.shape.join(',')) problems.push(`resume: '${k}' is ${v.dtype}${fmt(v.shape)}, want ${p.dtype}${fmt(p.shape)}`);
      }
      for (const k of Object.keys(resume.state)) if (!want.has(k)) problems.push(`resume: unexpected optimizer state '${k}'`);
      if (!Number.isInteger(resume.optimizerSteps) || resume.optimizerSteps < 0) problems.push(`resume: optimizerSteps must be a non-negative integer, got ${resume.optimizerSteps}`);
    }
    if (problems.length > 0) throw new Error(`createTrainer: ${problems.join('; ')}`);
    const trainer = new Trainer(graph, await rt.compile(graph.outputs), spec, schedule);
    const flat = allocate(graph.dtype, graph.size);
    for (const p of graph.params) (flat as any).set(init[p.name].data, p.offset);
    trainer.state.set(names.params, { dtype: graph.dtype, shape: [graph.size], data: flat });
    for (const s of graph.state) {
      const data = allocate(graph.dtype, graph.size);
      if (resume) for (const p of graph.params) (data as any).set(resume.state[`${p.name}.${s.slot}`].data, p.offset);
      trainer.state.set(s.name, { dtype: graph.dtype, shape: [graph.size], data });
    }
    trainer.steps = resume?.optimizerSteps ?? 0;
    return trainer;
  }

  /** Optimizer updates applied so far (skipped non-finite steps do not count). */
  get optimizerSteps(): number {
    return this.steps;
  }

  /**
   * One micro-batch: forward, backward and (every accumulationSteps-th call) the update, in one
   * session run. `feeds` holds the data and the frozen weights (HostTensors or uploaded WeightRefs). A non-finite loss or gradient
   * returns `ok: false` and leaves every parameter and state value as it was.
   */
  async step(feeds: Record<string, Feed>): Promise<StepResult> {
    const k = this.spec.accumulationSteps ?? 1;
    const apply = (this.micro + 1) % k === 0;
    const lr = this.schedule(this.steps);
    const all: Record<string, Feed> = { ...feeds };
    for (const [n, v] of Object.entries(hostScalars(this.spec.optimizer, lr, this.steps + 1))) all[n] = hostTensor(this.graph.dtype, [], [v]);
    if (k > 1) all[names.apply] = hostTensor(this.graph.dtype, [], [apply ? 1 : 0]);
    const transfer: ArrayBuffer[] = [];
    for (const [n, v] of this.state) {
      all[n] = v;
      // Our own buffers move to the worker without a copy; the step returns their successors.
      if (v.data.buffer instanceof ArrayBuffer) transfer.push(v.data.buffer);
    }
    let out: Record<string, HostTensor>;
    try {
      out = await this.compiled.run(all, { transfer });
    } catch (e) {
      // Feed errors are caught before anything is sent; only a failure inside the worker loses the moved buffers.
      const detached = [...this.state.values()].some((v) => v.data.byteLength === 0 && v.data.length === 0 && v.shape[0] !== 0);
      if (!detached) throw e;
      this.state.clear();
      throw new Error(`training step failed in the worker; trainer state is lost: ${(e as Error).message}`);
    }
    for (const n of this.state.keys()) this.state.set(n, out[names.next(n)]);
    const loss = Number(out[names.loss].data[0]);
    const gradNorm = Number(out[names.gradNorm].data[0]);
    if (!Number.isFinite(loss)) return { ok: false, reason: 'non-finite-loss', loss, gradNorm };
    if (!Number.isFinite(gradNorm)) return { ok: false, reason: 'non-finite-gradient', loss, gradNorm };
    this.micro++;
    if (apply) this.steps++;
    return { ok: true, loss, gradNorm, lr, applied: apply };
  }

  /** Copies of the current trainable values. */
  params(): Record<string, HostTensor> {
    return this.split(names.params, (p) => p.name);
  }

  /** Copies of optimizer state and accumulators, keyed '<param>.<slot>' (exp_avg, exp_avg_sq, momentum_buffer, grad_acc). */
  optimizerState(): Record<string, HostTensor> {
    return Object.assign({}, ...this.graph.state.map((s) => this.split(s.name, (p) => `${p.name}.${s.slot}`)));
  }

  /** Cuts a flat state vector back into per-parameter tensors. */
  private split(vector: string, key: (p: TrainStepGraph['params'][number]) => string): Record<string, HostTensor> {
    const flat = this.state.get(vector);
    if (!flat) throw new Error('trainer state is lost (an earlier step failed)');
    return Object.fromEntries(
      this.graph.params.map((p) => [key(p), { dtype: p.dtype, shape: [...p.shape], data: flat.data.slice(p.offset, p.offset + p.size) as HostTensor['data'] }]),
    );
  }

  async release(): Promise<void> {
    await this.compiled.release();
  }
}

export function createTrainer(
  rt: Runtime, spec: TrainSpec, init: Record<string, HostTensor>, schedule: Schedule, resume?: TrainerResume,
): Promise<Trainer> {
  return Trainer.create(rt, spec, init, schedule, resume);
}
