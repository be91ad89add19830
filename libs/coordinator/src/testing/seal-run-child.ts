/**
 * @file A SEAL run with deterministic roles in its own process, killed with SIGKILL after a given
 * number of evaluations or self-edits: the crash half of the journal and diamond tests.
 * Usage: node --import tsx seal-run-child.ts '<json: { runDir, runId, config, contexts, killAfterEvaluations?, killAfterSelfEdits?, resume? }>'
 */
import { parseRunConfig } from '../config';
import { resumeSeal, runSeal } from '../rest-em';
import { DeterministicStudent, DeterministicTeacher, tinyContexts } from './deterministic-roles';

interface ChildArgs {
  runDir: string;
  runId: string;
  config: unknown;
  contexts: number;
  killAfterEvaluations?: number;
  killAfterSelfEdits?: number;
  resume?: boolean;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
let evaluations = 0;
let selfEdits = 0;
// NOTE: SIGKILL, not process.exit: no finally blocks, no journal close — the harshest stop there is.
const die = () => process.kill(process.pid, 'SIGKILL');
const teacher = new DeterministicTeacher({
  beforeYield: () => {
    if (args.killAfterSelfEdits !== undefined && ++selfEdits > args.killAfterSelfEdits) die();
  },
});
const students = ['a', 'b'].map(
  (studentId) =>
    new DeterministicStudent({
      studentId,
      fault: (call) => {
        if (call === 'evaluate' && args.killAfterEvaluations !== undefined && ++evaluations > args.killAfterEvaluations) die();
      },
    }),
);
const config = parseRunConfig(args.config);
const common = { runDir: args.runDir, teacher, students, trainContexts: tinyContexts(args.contexts) };
const summary = args.resume ? await resumeSeal({ ...common, config }) : await runSeal({ ...common, config, runId: args.runId });
process.stdout.write(JSON.stringify(summary.rounds));
