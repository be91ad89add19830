/**
 * @file `pnpm load`: the load and fault command of issue 8 (not a timed test; results go to
 * BENCHMARKS.md by hand). Parts: `throughput` (1 → 2 → 4 students on loopback, evaluations/s),
 * `concurrency` (64 EvaluateStream calls from 8 clients against 2 students: all finish, health
 * stays SERVING, RSS before/after), `hostile` (500 malformed/hostile requests per StudentService
 * and TeacherService RPC: both processes survive and each request gets a right status code).
 * Exits 1 if any check fails.
 */
import { Command, Option } from 'commander';
import { checkHealth, RemoteStudent, RemoteTeacher } from '@seal/rpc';
import { runConcurrency } from './concurrency';
import { prepareWorkdir, startFleet, startStudent, startTeacher } from './fleet';
import { runHostile, runHostileTeacher } from './hostile';
import { measureThroughput } from './throughput';

const PARTS = ['throughput', 'concurrency', 'hostile'] as const;

const program = new Command('load')
  .description('load and fault checks against real StudentService processes on loopback')
  .addOption(new Option('--parts <list>', 'comma-separated parts to run').default(PARTS.join(',')))
  .option('--students <list>', 'throughput: student counts', '1,2,4')
  .option('--evaluations <n>', 'throughput: evaluations per student count', '8')
  .option('--clients <n>', 'concurrency: client channels', '8')
  .option('--streams-per-client <n>', 'concurrency: EvaluateStream calls per client', '8')
  .option('--bursts <n>', 'concurrency: times the whole set of streams is sent (RSS read after each)', '3')
  .option('--requests <n>', 'hostile: requests per RPC', '500')
  .option('--threads <n>', 'ORT intra-op threads per student', '1')
  .option('--json', 'print the results as one JSON object at the end');

program.parse();
const o = program.opts<{ parts: string; students: string; evaluations: string; clients: string; streamsPerClient: string; bursts: string; requests: string; threads: string; json?: boolean }>();
const parts = o.parts.split(',');
for (const p of parts) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--parts: unknown part "${p}" (expected ${PARTS.join(', ')})`);
const log = (line: string) => process.stderr.write(`${line}\n`);
const threads = Number(o.threads);
const MAX_MESSAGE_BYTES = 1024 * 1024;
const work = prepareWorkdir();
const results: Record<string, unknown> = {};
let failures = 0;
try {
  if (parts.includes('throughput')) {
    const counts = o.students.split(',').map(Number);
    results.throughput = await measureThroughput(counts, Number(o.evaluations), work.modelDir, work.root, { threads, workers: 1, maxMessageBytes: MAX_MESSAGE_BYTES }, log);
  }
  if (parts.includes('concurrency')) {
    const fleet = await startFleet(2, work.modelDir, work.root, { threads, workers: 2, maxMessageBytes: MAX_MESSAGE_BYTES });
    try {
      const r = await runConcurrency(fleet, Number(o.clients), Number(o.streamsPerClient), Number(o.bursts), log);
      results.concurrency = r;
      if (r.finished !== r.streams || r.notServing > 0 || fleet.some((s) => !s.alive())) failures++;
    } finally {
      await Promise.all(fleet.map((s) => s.stop()));
    }
  }
  if (parts.includes('hostile')) {
    const student = await startStudent(work.modelDir, `${work.root}/hostile-store`, { threads, workers: 1, maxMessageBytes: MAX_MESSAGE_BYTES });
    const teacher = await startTeacher(work.modelDir, `${work.root}/hostile-teacher-store`, MAX_MESSAGE_BYTES);
    try {
      const info = new RemoteStudent(student.address);
      const teacherInfo = new RemoteTeacher(teacher.address);
      const base = (await info.info()).baseCheckpoint;
      const rss = { student: student.rssBytes(), teacher: teacher.rssBytes() };
      const started = performance.now();
      const tallies = [
        ...(await runHostile(student.address, base, Number(o.requests), MAX_MESSAGE_BYTES)),
        ...(await runHostileTeacher(teacher.address, Number(o.requests), MAX_MESSAGE_BYTES)),
      ];
      const seconds = (performance.now() - started) / 1000;
      const health = {
        student: await checkHealth(student.address, 'seal.v1.StudentService', 5000).catch((e: Error) => e.message),
        teacher: await checkHealth(teacher.address, 'seal.v1.TeacherService', 5000).catch((e: Error) => e.message),
      };
      const infoAfter = {
        student: await info.info().then(() => 'ok', (e: Error) => e.message),
        teacher: await teacherInfo.info().then(() => 'ok', (e: Error) => e.message),
      };
      info.close();
      teacherInfo.close();
      const alive = { student: student.alive(), teacher: teacher.alive() };
      results.hostile = {
        tallies,
        seconds,
        alive,
        health,
        infoAfter,
        rssBeforeMiB: { student: rss.student / 2 ** 20, teacher: rss.teacher / 2 ** 20 },
        rssAfterMiB: { student: alive.student ? student.rssBytes() / 2 ** 20 : null, teacher: alive.teacher ? teacher.rssBytes() / 2 ** 20 : null },
      };
      for (const t of tallies) {
        log(`hostile ${t.rpc}: ${t.cases} requests, ${t.wrong.length} with an unexpected status`);
        for (const [category, c] of Object.entries(t.categories)) log(`  ${category}: ${c.count} → ${Object.entries(c.codes).map(([k, v]) => `${k}×${v}`).join(' ')}${c.wrong ? `  (${c.wrong} unexpected)` : ''}`);
        for (const w of t.wrong.slice(0, 3)) log(`    e.g. ${w.category}: ${w.code} ${w.details}`);
      }
      for (const role of ['student', 'teacher'] as const) log(`hostile ${role}: process alive ${alive[role]}, health ${health[role]}, Info after: ${infoAfter[role]}`);
      log(`hostile: ${seconds.toFixed(1)} s`);
      const healthy = (['student', 'teacher'] as const).every((role) => alive[role] && health[role] === 'SERVING' && infoAfter[role] === 'ok');
      if (!healthy || tallies.some((t) => t.wrong.length > 0)) failures++;
    } finally {
      await Promise.all([student.stop(), teacher.stop()]);
    }
  }
} finally {
  work.cleanup();
}
if (o.json) console.log(JSON.stringify(results, null, 2));
process.exit(failures > 0 ? 1 : 0);
