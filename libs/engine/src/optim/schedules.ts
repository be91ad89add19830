/** @file Learning-rate schedules (host side, per optimizer step from 0), matching HF transformers' warmup schedules. */

export type Schedule = (step: number) => number;

const warm = (step: number, warmupSteps: number): number => (warmupSteps > 0 && step < warmupSteps ? step / warmupSteps : 1);

/** lr after a linear warmup. */
export function constantSchedule(lr: number, warmupSteps = 0): Schedule {
  return (step) => lr * warm(step, warmupSteps);
}

/** Linear warmup, then linear decay to 0 at totalSteps (get_linear_schedule_with_warmup). */
export function linearSchedule(o: { lr: number; warmupSteps?: number; totalSteps: number }): Schedule {
  const w = o.warmupSteps ?? 0;
  return (step) => (step < w ? o.lr * warm(step, w) : o.lr * Math.max(0, (o.totalSteps - step) / Math.max(1, o.totalSteps - w)));
}

/** Linear warmup, then half a cosine from lr down to minLr at totalSteps (get_cosine_schedule_with_warmup). */
export function cosineSchedule(o: { lr: number; warmupSteps?: number; totalSteps: number; minLr?: number }): Schedule {
  const w = o.warmupSteps ?? 0;
  const min = o.minLr ?? 0;
  return (step) => {
    if (step < w) return o.lr * warm(step, w);
    const progress = Math.min(1, (step - w) / Math.max(1, o.totalSteps - w));
    return min + (o.lr - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}
