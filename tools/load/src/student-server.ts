/**
 * @file One student process for the load tool: the real StudentService (`serveStudent`) over a
 * real InProcessStudent on a small model, with its ORT threads limited so several fit on one
 * machine. Prints `listening on HOST:PORT` like `seal serve`, drains on SIGTERM.
 *
 * Usage: node --import tsx tools/load/src/student-server.ts MODEL_DIR STORE_DIR THREADS WORKERS MAX_MESSAGE_BYTES
 */
import { createRuntime } from '@seal/engine';
import { InProcessStudent } from '@seal/coordinator/in-process';
import { parseConfig, shutdownOnSignals } from '@seal/rpc';
import { serveStudent, studentConfigSchema } from '@seal/student';

const [modelDir, storeDir, threads, workers, maxMessageBytes] = process.argv.slice(2);
if (!modelDir || !storeDir || !threads || !workers || !maxMessageBytes) {
  process.stderr.write('usage: student-server.ts MODEL_DIR STORE_DIR THREADS WORKERS MAX_MESSAGE_BYTES\n');
  process.exit(2);
}
const runtime = createRuntime({ intraOpThreads: Number(threads) });
const student = new InProcessStudent({ modelDir, storeDir, capacity: Number(workers), runtime, studentId: `load-${process.pid}` });
const config = parseConfig({ server: { port: 0, maxMessageBytes: Number(maxMessageBytes) }, workers: Number(workers) }, studentConfigSchema);
const server = await serveStudent(config, student);
console.log(`listening on ${server.address}`);
shutdownOnSignals(server, () => {
  void runtime.release().finally(() => process.exit(0));
});
