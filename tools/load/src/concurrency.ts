/**
 * @file Many streams at once: `clients` channels each open `streamsPerClient` EvaluateStream calls
 * (one job per stream) against the students, alternating, in one or more bursts; all must
 * finish, health must stay SERVING throughout (polled), and the students' RSS is read before,
 * after each burst, and after.
 */
import * as grpc from '@grpc/grpc-js';
import * as pb from '@seal/proto';
import { checkHealth, RemoteStudent, toProto } from '@seal/rpc';
import { evaluateJob } from './jobs';
import type { StudentProcess } from './fleet';

export interface ConcurrencyResult {
  streams: number;
  finished: number;
  failed: string[];
  seconds: number;
  healthChecks: number;
  notServing: number;
  rssBeforeMiB: number[];
  rssAfterMiB: number[];
  /** RSS after each burst (students × bursts): a leak keeps climbing, a cache levels off. */
  rssPerBurstMiB: number[][];
}

function oneStream(client: pb.StudentServiceClient, request: pb.EvaluateRequest): Promise<pb.EvaluateStreamResponse> {
  return new Promise((resolve, reject) => {
    const call = client.evaluateStream();
    let answer: pb.EvaluateStreamResponse | undefined;
    call.on('data', (message: pb.EvaluateStreamResponse) => (answer = message));
    call.on('error', reject);
    call.on('end', () => (answer ? resolve(answer) : reject(new Error('stream ended without an answer'))));
    call.write(pb.EvaluateStreamRequest.fromPartial({ request }));
    call.end();
  });
}

export async function runConcurrency(fleet: StudentProcess[], clients: number, streamsPerClient: number, bursts: number, log: (line: string) => void): Promise<ConcurrencyResult> {
  const info = new RemoteStudent(fleet[0]!.address);
  const base = (await info.info()).baseCheckpoint;
  // Warm each student first so the "before" RSS includes its compiled graphs, not only start-up.
  await Promise.all(fleet.map((s, i) => new RemoteStudent(s.address).evaluate(evaluateJob(2000 + i, base, 'warm-conc'))));
  info.close();
  const rssBeforeMiB = fleet.map((s) => s.rssBytes() / 2 ** 20);
  const channels = Array.from({ length: clients }, (_, c) => new pb.StudentServiceClient(fleet[c % fleet.length]!.address, grpc.credentials.createInsecure()));
  let healthChecks = 0;
  let notServing = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      for (const s of fleet) {
        healthChecks++;
        const status = await checkHealth(s.address, 'seal.v1.StudentService', 5000).catch((e: Error) => e.message);
        if (status !== 'SERVING') {
          notServing++;
          log(`concurrency: ${s.address} health ${status}`);
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  const started = performance.now();
  const failed: string[] = [];
  let finished = 0;
  const rssPerBurstMiB: number[][] = [];
  for (let burst = 0; burst < bursts; burst++) {
    // Every burst sends the same jobs: caches keyed by passage are full after the first.
    await Promise.all(
      channels.flatMap((channel, c) =>
        Array.from({ length: streamsPerClient }, async (_, s) => {
          const i = c * streamsPerClient + s;
          try {
            const answer = await oneStream(channel, toProto.evaluateRequest(evaluateJob(i, base, 'conc')));
            if (answer.outcome?.$case !== 'result') throw new Error(`item error ${answer.outcome?.value.statusCode}: ${answer.outcome?.value.message}`);
            finished++;
          } catch (error) {
            failed.push(`stream ${i}: ${(error as Error).message}`);
          }
        }),
      ),
    );
    rssPerBurstMiB.push(fleet.map((s) => s.rssBytes() / 2 ** 20));
  }
  const seconds = (performance.now() - started) / 1000;
  polling = false;
  await poller;
  for (const channel of channels) channel.close();
  // Let the students settle (GC after the burst) before the second reading.
  await new Promise((r) => setTimeout(r, 2000));
  const rssAfterMiB = fleet.map((s) => s.rssBytes() / 2 ** 20);
  const result = { streams: clients * streamsPerClient * bursts, finished, failed, seconds, healthChecks, notServing, rssBeforeMiB, rssAfterMiB, rssPerBurstMiB };
  log(`concurrency: ${finished}/${result.streams} streams finished in ${seconds.toFixed(1)} s; health ${healthChecks - notServing}/${healthChecks} SERVING; RSS MiB before ${rssBeforeMiB.map((r) => r.toFixed(0)).join(',')} after ${rssAfterMiB.map((r) => r.toFixed(0)).join(',')}; per burst ${rssPerBurstMiB.map((b) => b.map((r) => r.toFixed(0)).join(',')).join(' | ')}`);
  return result;
}
