/** @file Checkpoint archive: verified writes (nothing left behind on a bad stream), verified reads, ids confined to the archive. */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointArchive } from './checkpoint-archive';
import type { CheckpointChunk, CheckpointRef } from './roles';
import { checkpointBytes, refOf } from './testing/deterministic-roles';
import { tempDirs } from './testing/temp-dirs';

const dirs = tempDirs('seal-archive-');
afterAll(dirs.removeAll);

async function* chunks(ref: CheckpointRef, bytes: Uint8Array, size = 1000): AsyncIterable<CheckpointChunk> {
  for (let offset = 0; offset < bytes.byteLength; offset += size) yield { checkpoint: ref, offset, data: bytes.subarray(offset, offset + size) };
}

async function collect(stream: AsyncIterable<CheckpointChunk>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk.data);
  return new Uint8Array(Buffer.concat(parts));
}

describe('CheckpointArchive', () => {
  const bytes = checkpointBytes('archive me');
  const ref = refOf('ckpt-1', bytes);

  it('round-trips a checkpoint and streams it back in chunks with contiguous offsets', async () => {
    const archive = new CheckpointArchive(dirs.make());
    expect(archive.has(ref)).toBe(false);
    await archive.save(ref, chunks(ref, bytes));
    expect(archive.has(ref)).toBe(true);
    const offsets: number[] = [];
    const read = await collect((async function* () {
      for await (const c of archive.read(ref, 1500)) {
        offsets.push(c.offset);
        yield c;
      }
    })());
    expect(read).toEqual(bytes);
    expect(offsets).toEqual([0, 1500, 3000]);
  });

  it('refuses a stream whose bytes do not match the announced sha256, leaving no file', async () => {
    const archive = new CheckpointArchive(dirs.make());
    const lying = { ...ref, sha256: '0'.repeat(64) };
    await expect(archive.save(lying, chunks(lying, bytes))).rejects.toThrow(/announced 4096 \/ 0000/);
    expect(archive.has(lying)).toBe(false);
    expect(readdirSync(archive.dir)).toEqual([]);
    const gap = (async function* () {
      yield { checkpoint: ref, offset: 0, data: bytes.subarray(0, 10) };
      yield { checkpoint: ref, offset: 20, data: bytes.subarray(20, 30) };
    })();
    await expect(archive.save(ref, gap)).rejects.toThrow(/offset 20, expected 10/);
  });

  it('detects an archived file corrupted on disk', async () => {
    const archive = new CheckpointArchive(dirs.make());
    await archive.save(ref, chunks(ref, bytes));
    writeFileSync(archive.path(ref), new Uint8Array(4096));
    await expect(collect(archive.read(ref, 1024))).rejects.toThrow(/is corrupt/);
  });

  it('refuses ids that would leave the archive', () => {
    const archive = new CheckpointArchive(dirs.make());
    for (const id of ['../escape', '/etc/passwd', 'a/b', '', '.hidden']) {
      expect(() => archive.path({ ...ref, id })).toThrow(/not a safe file name/);
    }
    expect(existsSync(join(archive.dir, '..', 'escape.ckpt'))).toBe(false);
  });
});
