/**
 * @file A student name resolving to several addresses, over real gRPC: two StudentServices on one
 * port of two loopback addresses behind one name are two pool members, each with its own Info
 * capacity; when the name stops resolving to one, it leaves. Plus the product resolver (node:dns)
 * on `localhost`, and address parsing.
 */
import { parseRunConfig, StudentPool, type PoolEvent, type Student } from '@seal/coordinator';
import { DeterministicStudent, tinyContexts } from '@seal/coordinator/testing';
import { buildEvaluateJob, type SelfEdit } from '@seal/coordinator';
import { DnsStudentGroup, parseConfig, parseStudentAddress, remoteStudentSources, RemoteStudent, type RunningServer } from '@seal/rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { studentConfigSchema } from './config';
import { serveStudent } from './serve';

const servers: RunningServer[] = [];
const replicas = [new DeterministicStudent({ studentId: 'replica-a', capacity: 1, workMs: 5 }), new DeterministicStudent({ studentId: 'replica-b', capacity: 3, workMs: 5 })];
let port = 0;
beforeAll(async () => {
  // The same port on two loopback addresses, as one Service port on two pods.
  servers.push(await serveStudent(parseConfig({ server: { host: '127.0.0.1', port: 0 } }, studentConfigSchema), replicas[0]));
  port = servers[0]!.port;
  servers.push(await serveStudent(parseConfig({ server: { host: '127.0.0.2', port, allowInsecure: true } }, studentConfigSchema), replicas[1]));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.shutdown()));
});

const config = parseRunConfig({ inner: { evalTimes: 1 } });
function jobs(n: number) {
  const base = replicas[0]!.base.ref;
  return tinyContexts(n).map((context, i) => {
    const selfEdit: SelfEdit = { id: `c/${context.id}/0`, passageId: context.id, index: 0, promptStyle: 'implications', prompt: 'P', completion: `line ${i}`, seed: i, tokenCount: 2, checkpointId: 'c' };
    return buildEvaluateJob({ config, runId: 'group', round: 1, baseCheckpoint: base, context, selfEdit, subject: selfEdit.id });
  });
}

function poolOf(sources: ConstructorParameters<typeof StudentPool>[0], events: PoolEvent[]) {
  return new StudentPool(sources, {
    retry: { maxAttempts: 3, initialBackoffMs: 5, maxBackoffMs: 20, multiplier: 2 },
    evaluateDeadlineMs: 5_000,
    infoDeadlineMs: 2_000,
    maxEvaluateAttempts: 4,
    resolveIntervalMs: 10,
    onEvent: (e) => events.push(e),
  });
}

describe('a student name resolving to many addresses', () => {
  it('is one pool member per address with its own capacity, and a replica whose address vanishes leaves', async () => {
    let answer = ['127.0.0.1', '127.0.0.2'];
    const group = new DnsStudentGroup(`dns:///students.test:${port}`, {}, async (host) => {
      expect(host).toBe('students.test');
      return answer;
    });
    const events: PoolEvent[] = [];
    const pool = poolOf([group], events);
    try {
      await pool.connect();
      expect(pool.members.map((m) => [m.id, m.address, m.capacity])).toEqual([
        ['replica-a', `127.0.0.1:${port}`, 1],
        ['replica-b', `127.0.0.2:${port}`, 3],
      ]);
      const delivered: string[] = [];
      await pool.evaluateAll(jobs(8), { onResult: (_job, _result, meta) => void delivered.push(meta.studentId) });
      expect(new Set(delivered)).toEqual(new Set(['replica-a', 'replica-b']));
      expect(replicas[0]!.maxInFlight).toBe(1);

      answer = ['127.0.0.2'];
      const before = replicas[0]!.evaluateCalls;
      await new Promise((resolve) => setTimeout(resolve, 20));
      await pool.evaluateAll(jobs(4).map((j) => ({ ...j, idempotencyKey: `${j.idempotencyKey}/again` })), { onResult: () => undefined });
      expect(replicas[0]!.evaluateCalls).toBe(before);
      expect(events).toContainEqual({ type: 'student-leave', studentId: 'replica-a', group: `dns:///students.test:${port}`, address: `127.0.0.1:${port}` });
      expect(pool.members.map((m) => m.id)).toEqual(['replica-b']);
    } finally {
      group.close();
    }
  });

  it('resolves names with the system resolver (localhost), keeps IP literals single, and refuses malformed addresses', async () => {
    const { sources, close } = remoteStudentSources([`localhost:${port}`, `127.0.0.2:${port}`]);
    try {
      expect(sources[0]).toBeInstanceOf(DnsStudentGroup);
      expect(sources[1]).toBeInstanceOf(RemoteStudent);
      const resolved = await (sources[0] as DnsStudentGroup).resolve();
      expect([...resolved.keys()]).toContain(`127.0.0.1:${port}`);
      expect(await [...resolved.values()][0]!.info()).toMatchObject({ studentId: 'replica-a' });
      expect(await (sources[1] as Student).info()).toMatchObject({ studentId: 'replica-b' });
    } finally {
      close();
    }
    await expect(new DnsStudentGroup('dns:///no-such-host.invalid:1').resolve()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('cannot resolve no-such-host.invalid') });
    expect(parseStudentAddress('[::1]:5')).toEqual({ host: '::1', port: 5, named: false });
    expect(parseStudentAddress('dns:///students:50052')).toEqual({ host: 'students', port: 50052, named: true });
    expect(() => parseStudentAddress('students')).toThrow('student address must be host:port, [v6]:port or dns:///host:port, got "students"');
  });
});
