/**
 * @file A client for the standard gRPC health service (grpc.health.v1.Health/Check), used to
 * wait for servers to come up and to show their state; servers get theirs from ./server.
 */
import * as grpc from '@grpc/grpc-js';
import { service as healthService, type ServingStatus } from 'grpc-health-check';

const HealthClient = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');

/** The serving status of `service` ('' = the whole server) at `address`, within `timeoutMs`. */
export function checkHealth(address: string, service = '', timeoutMs = 2000, credentials = grpc.credentials.createInsecure()): Promise<ServingStatus> {
  const client = new HealthClient(address, credentials);
  return new Promise<ServingStatus>((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (m: { service: string }) => (healthService.Check.requestSerialize as (v: unknown) => Buffer)(m),
      (b: Buffer) => (healthService.Check.responseDeserialize as (b: Buffer) => { status: ServingStatus })(b),
      { service },
      { deadline: Date.now() + timeoutMs },
      (error, response) => (error ? reject(error) : resolve(response!.status)),
    );
  }).finally(() => client.close());
}

/** Polls until `address` reports SERVING; rejects with the last failure after `timeoutMs`. */
export async function waitForServing(address: string, timeoutMs = 30_000, service = ''): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      if ((await checkHealth(address, service, Math.min(2000, until - Date.now()))) === 'SERVING') return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${address} did not report SERVING within ${timeoutMs} ms${last instanceof Error ? `: ${last.message}` : ''}`);
}
