/**
 * @file Throughput as students are added: for each student count, the same fixed number of
 * evaluations spread over the students (each pulls the next job when it has a free worker),
 * evaluations/s measured from first send to last answer.
 */
import { RemoteStudent } from '@seal/rpc';
import { evaluateJob } from './jobs';
import { startFleet, type FleetOptions } from './fleet';

export interface ThroughputRow {
  students: number;
  evaluations: number;
  seconds: number;
  perSecond: number;
}

export async function measureThroughput(counts: number[], evaluations: number, modelDir: string, root: string, options: FleetOptions, log: (line: string) => void): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  for (const count of counts) {
    const fleet = await startFleet(count, modelDir, root, options);
    const clients = fleet.map((s) => new RemoteStudent(s.address));
    try {
      const base = (await clients[0]!.info()).baseCheckpoint;
      // Warm-up: each student compiles its graphs on its first job; that is start-up, not throughput.
      await Promise.all(clients.map((c, i) => c.evaluate(evaluateJob(1000 + i, base, `warm-${count}`))));
      let next = 0;
      const started = performance.now();
      const worker = async (client: RemoteStudent) => {
        for (let i = next++; i < evaluations; i = next++) {
          const result = await client.evaluate(evaluateJob(i, base, `tp-${count}`));
          if (result.failure) throw new Error(`evaluation ${i} failed: ${result.failure.reason}`);
        }
      };
      await Promise.all(clients.flatMap((c) => Array.from({ length: options.workers }, () => worker(c))));
      const seconds = (performance.now() - started) / 1000;
      rows.push({ students: count, evaluations, seconds, perSecond: evaluations / seconds });
      log(`throughput: ${count} student(s): ${evaluations} evaluations in ${seconds.toFixed(1)} s = ${(evaluations / seconds).toFixed(2)}/s`);
    } finally {
      for (const c of clients) c.close();
      await Promise.all(fleet.map((s) => s.stop()));
    }
  }
  return rows;
}
