/** @file Run metrics through @opentelemetry/api (no-ops unless a process preloads the SDK): rewards, evaluations, retries, queue depth, pushes. */
import { meter } from '@seal/telemetry';
import type { RunEvent } from './rest-em';

/** Returns an event listener that records the run's metrics; chain it with the caller's own listener. */
export function runMetricsRecorder(runId: string): (event: RunEvent) => void {
  const m = meter();
  const evaluations = m.createCounter('seal.evaluations', { description: 'evaluations delivered (one per idempotency key)' });
  const retries = m.createCounter('seal.evaluation.retries', { description: 're-issued evaluations after unavailable-like failures' });
  const studentsDown = m.createCounter('seal.students.down', { description: 'students marked unavailable' });
  const reward = m.createHistogram('seal.round.mean_reward', { description: 'mean reward of a round' });
  const pushBytes = m.createCounter('seal.checkpoint.push_bytes', { unit: 'By', description: 'checkpoint bytes sent to students' });
  const pushMs = m.createHistogram('seal.checkpoint.push_ms', { unit: 'ms', description: 'checkpoint transfer time' });
  let queueDepth = 0;
  m.createObservableGauge('seal.evaluation.queue_depth', { description: 'evaluations not yet delivered' }).addCallback((result) =>
    result.observe(queueDepth, { 'seal.run_id': runId }),
  );
  let lastDone = 0;
  return (event) => {
    const attributes = { 'seal.run_id': runId };
    switch (event.type) {
      case 'progress':
        evaluations.add(Math.max(0, event.done - lastDone), attributes);
        lastDone = event.done;
        queueDepth = event.total - event.done;
        break;
      case 'phase-start':
        if (event.phase === 'evaluate') lastDone = 0;
        break;
      case 'retry':
        retries.add(1, { ...attributes, 'seal.student_id': event.studentId });
        break;
      case 'student-down':
        studentsDown.add(1, { ...attributes, 'seal.student_id': event.studentId });
        break;
      case 'round-end':
        reward.record(event.meanReward, { ...attributes, 'seal.round': event.round });
        break;
      case 'checkpoint-push':
        pushBytes.add(event.bytes, { ...attributes, 'seal.student_id': event.studentId });
        pushMs.record(event.ms, { ...attributes, 'seal.student_id': event.studentId });
        break;
      default:
        break;
    }
  };
}
