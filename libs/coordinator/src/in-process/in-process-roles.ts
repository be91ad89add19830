/** @file One call that builds the in-process roles of `seal run` (merged mode, no services): one teacher, N students, one shared runtime. */
import { join } from 'node:path';
import { createRuntime, type RuntimeOptions } from '@seal/engine';
import { InProcessStudent } from './in-process-student';
import { InProcessTeacher } from './in-process-teacher';

export interface InProcessRolesOptions {
  /** the base checkpoint directory. */
  modelDir: string;
  /** where checkpoints live (e.g. `<runDir>/roles`); kept across a resume. */
  workDir: string;
  /** number of in-process students (config students.inProcess). */
  students: number;
  /** evaluations each student runs at once. */
  capacity?: number;
  runtime?: RuntimeOptions;
}

export function createInProcessRoles(options: InProcessRolesOptions) {
  // One runtime: the frozen base weights are uploaded once per model, whoever uses them.
  const runtime = createRuntime({ intraOpThreads: 1, ...options.runtime });
  const teacher = new InProcessTeacher({ modelDir: options.modelDir, storeDir: join(options.workDir, 'teacher'), runtime });
  const students = Array.from(
    { length: options.students },
    (_, i) => new InProcessStudent({ modelDir: options.modelDir, storeDir: join(options.workDir, `student-${i}`), studentId: `in-process-${i}`, capacity: options.capacity, runtime }),
  );
  return {
    teacher,
    students,
    async release(): Promise<void> {
      await teacher.release();
      for (const student of students) await student.release();
      await runtime.release();
    },
  };
}
