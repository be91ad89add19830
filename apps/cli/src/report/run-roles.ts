/**
 * @file The teacher and students of a `seal run`: gRPC clients where the config names addresses,
 * in-process roles on the model folder otherwise (one shared runtime, so base weights load once).
 */
import { join } from 'node:path';
import type { RunConfig, StudentSource, Teacher } from '@seal/coordinator';
import { createRuntime } from '@seal/engine';
import type { MainJobExtras } from './main-job-settings';

export interface RunRoles {
  teacher: Teacher;
  students: StudentSource[];
  release(): Promise<void>;
}

/** Evaluations each in-process student runs at once: one per worker, one ORT thread each. */
const IN_PROCESS_CAPACITY = 2;

export async function createRunRoles(config: RunConfig, extras: MainJobExtras, runDir: string): Promise<RunRoles> {
  const remoteTeacher = config.teacher.address;
  const remoteStudents = config.students.addresses;
  const releases: (() => Promise<void> | void)[] = [];
  let teacher: Teacher;
  let students: StudentSource[];
  // The remote clients load grpc-js; an in-process run never pays for it.
  const rpc = remoteTeacher || remoteStudents.length > 0 ? await import('@seal/rpc') : undefined;
  const needsLocal = !remoteTeacher || remoteStudents.length === 0;
  const { InProcessStudent, InProcessTeacher } = needsLocal ? await import('@seal/coordinator/in-process') : ({} as typeof import('@seal/coordinator/in-process'));
  const runtime = needsLocal ? createRuntime({ intraOpThreads: 1, workers: IN_PROCESS_CAPACITY }) : undefined;

  if (remoteTeacher) {
    const client = new rpc!.RemoteTeacher(remoteTeacher);
    releases.push(() => client.close());
    teacher = client;
  } else {
    const local = new InProcessTeacher({ modelDir: extras.model, storeDir: join(runDir, 'roles', 'teacher'), runtime });
    releases.push(() => local.release());
    teacher = local;
  }
  if (remoteStudents.length > 0) {
    // A name (or dns:///name:port) is one pool member per address it resolves to, re-resolved as the run goes.
    const remote = rpc!.remoteStudentSources(remoteStudents);
    releases.push(() => remote.close());
    students = remote.sources;
  } else {
    students = Array.from({ length: config.students.inProcess }, (_, i) => {
      const local = new InProcessStudent({
        modelDir: extras.studentModel ?? extras.model,
        storeDir: join(runDir, 'roles', `student-${i}`),
        studentId: `in-process-${i}`,
        capacity: IN_PROCESS_CAPACITY,
        runtime,
      });
      releases.push(() => local.release());
      return local;
    });
  }
  return {
    teacher,
    students,
    async release() {
      for (const release of releases) await release();
      await runtime?.release();
    },
  };
}
