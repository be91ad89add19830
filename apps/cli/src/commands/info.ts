/**
 * @file `seal info <address>`: asks a running teacher or student for its health and Info over
 * gRPC and prints them as JSON (the operator's first check, and a traced client call).
 */
import * as grpc from '@grpc/grpc-js';
import type { Command } from 'commander';
import * as pb from '@seal/proto';
import { checkHealth } from '@seal/rpc';
import { withSpan } from '@seal/telemetry';

type Callback<Res> = (error: grpc.ServiceError | null, response?: Res) => void;
const call = <Res>(fn: (cb: Callback<Res>) => unknown) => new Promise<Res>((resolve, reject) => fn((e, r) => (e ? reject(e) : resolve(r as Res))));

/** Health and Info of every SEAL service at `address`; errors name the address. */
export async function queryInfo(address: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
  return withSpan('query info', { 'seal.address': address }, async () => {
    const credentials = grpc.credentials.createInsecure();
    const metadata = new grpc.Metadata();
    if (process.env.SEAL_TOKEN) metadata.set('authorization', `Bearer ${process.env.SEAL_TOKEN}`);
    const deadline = () => ({ deadline: Date.now() + timeoutMs });
    const report: Record<string, unknown> = { address, health: await checkHealth(address, '', timeoutMs).catch((e: Error) => { throw new Error(`${address}: ${e.message}`); }) };
    const serving = async (service: string) => (await checkHealth(address, service, timeoutMs).catch(() => 'NOT_FOUND')) === 'SERVING';
    if (await serving('seal.v1.TeacherService')) {
      const client = new pb.TeacherServiceClient(address, credentials);
      report.teacher = pb.TeacherServiceInfoResponse.toJSON(await call<pb.TeacherServiceInfoResponse>((cb) => client.info({}, metadata, deadline(), cb)));
      client.close();
    }
    if (await serving('seal.v1.StudentService')) {
      const client = new pb.StudentServiceClient(address, credentials);
      report.student = pb.StudentServiceInfoResponse.toJSON(await call<pb.StudentServiceInfoResponse>((cb) => client.info({}, metadata, deadline(), cb)));
      client.close();
    }
    return report;
  });
}

export function register(program: Command): void {
  program
    .command('info')
    .description('print the health and Info of the SEAL service(s) at host:port, as JSON')
    .argument('<address>', 'host:port of a teacher or student')
    .action(async (address: string) => {
      console.log(JSON.stringify(await queryInfo(address), null, 2));
    });
}
