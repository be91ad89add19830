/**
 * @file `seal demo`: the gRPC services alone, no model needed. Starts
 * a teacher and a student in this process on free ports, checks health and Info over real gRPC,
 * shows that the SEAL-loop RPCs refuse bad input by name (no model is served), and shuts both down.
 */
import * as grpc from '@grpc/grpc-js';
import type { Command } from 'commander';
import * as pb from '@seal/proto';
import { checkHealth, parseConfig, type RunningServer } from '@seal/rpc';
import { serveStudent, studentConfigSchema } from '@seal/student';
import { serveTeacher, teacherConfigSchema } from '@seal/teacher';
import { flushTelemetry, withSpan } from '@seal/telemetry';

type Callback<Res> = (error: grpc.ServiceError | null, response?: Res) => void;
const call = <Res>(fn: (cb: Callback<Res>) => unknown) => new Promise<Res>((resolve, reject) => fn((e, r) => (e ? reject(e) : resolve(r as Res))));

export async function runDemo(log: (line: string) => void = console.log): Promise<void> {
  const servers: RunningServer[] = [];
  const credentials = grpc.credentials.createInsecure();
  try {
    await withSpan('run demo', {}, async () => {
      const teacher = await serveTeacher(parseConfig({ server: { port: 0 } }, teacherConfigSchema));
      servers.push(teacher);
      const student = await serveStudent(parseConfig({ server: { port: 0 }, workers: 1 }, studentConfigSchema));
      servers.push(student);
      log(`teacher listening on ${teacher.address}, student listening on ${student.address}`);

      for (const [name, server, service] of [['teacher', teacher, 'seal.v1.TeacherService'], ['student', student, 'seal.v1.StudentService']] as const) {
        log(`${name} health: ${await checkHealth(server.address, service)}`);
      }
      const teacherClient = new pb.TeacherServiceClient(teacher.address, credentials);
      const studentClient = new pb.StudentServiceClient(student.address, credentials);
      const teacherInfo = await call<pb.TeacherServiceInfoResponse>((cb) => teacherClient.info({}, cb));
      log(`teacher info: model ${teacherInfo.model?.name}, ${teacherInfo.checkpoints.length} checkpoints, pid ${teacherInfo.server?.pid}`);
      const studentInfo = await call<pb.StudentServiceInfoResponse>((cb) => studentClient.info({}, cb));
      log(`student info: id ${studentInfo.studentId}, model ${studentInfo.model?.name}, capacity ${studentInfo.capacity}, ${studentInfo.loadedCheckpoints.length} checkpoints loaded`);
      const evaluate = await call((cb) => studentClient.evaluate(pb.EvaluateRequest.fromPartial({}), cb)).catch((e: grpc.ServiceError) => e);
      log(`student Evaluate with an empty request: ${grpc.status[(evaluate as grpc.ServiceError).code]}: ${(evaluate as grpc.ServiceError).details}`);
      teacherClient.close();
      studentClient.close();
    });
  } finally {
    const outcomes = await Promise.all(servers.map((s) => s.shutdown()));
    log(`shut down: ${outcomes.join(', ')}`);
    await flushTelemetry();
  }
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('start a teacher and a student on free ports, check health and Info over gRPC, shut down')
    .action(() => runDemo());
}
