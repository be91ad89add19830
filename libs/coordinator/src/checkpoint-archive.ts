/**
 * @file The run's checkpoint archive (`<runDir>/checkpoints/<id>.ckpt`): every checkpoint the run
 * produced, sha256-verified on the way in and out, so a resumed run can restore a restarted teacher
 * and push to students without the teacher.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgument, SealError, throwIfAborted } from './errors';
import type { CheckpointChunk, CheckpointRef } from './roles';

/** Ids become file names: a conservative charset keeps them inside the archive (no traversal). */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class CheckpointArchive {
  readonly dir: string;

  constructor(runDir: string) {
    this.dir = join(runDir, 'checkpoints');
  }

  path(ref: CheckpointRef): string {
    if (!SAFE_ID.test(ref.id)) throw invalidArgument(`checkpoint id ${JSON.stringify(ref.id)} is not a safe file name (letters, digits, . _ -)`);
    return join(this.dir, `${ref.id}.ckpt`);
  }

  has(ref: CheckpointRef): boolean {
    return existsSync(this.path(ref));
  }

  /** Writes the stream to a temporary file, verifies offsets, size and sha256, then renames it into place. */
  async save(ref: CheckpointRef, chunks: AsyncIterable<CheckpointChunk>, signal?: AbortSignal): Promise<void> {
    const final = this.path(ref);
    mkdirSync(this.dir, { recursive: true });
    const temporary = `${final}.partial`;
    const file = await open(temporary, 'w');
    const hash = createHash('sha256');
    let offset = 0;
    try {
      for await (const chunk of chunks) {
        throwIfAborted(signal);
        if (chunk.checkpoint.id !== ref.id) throw new SealError('internal', `archiving ${ref.id}: the stream names checkpoint ${chunk.checkpoint.id}`);
        if (chunk.offset !== offset) throw new SealError('internal', `archiving ${ref.id}: chunk at offset ${chunk.offset}, expected ${offset}`);
        hash.update(chunk.data);
        await file.write(chunk.data);
        offset += chunk.data.byteLength;
      }
      await file.sync();
    } catch (error) {
      await file.close();
      rmSync(temporary, { force: true });
      throw error;
    }
    await file.close();
    const sha256 = hash.digest('hex');
    if (offset !== ref.size || sha256 !== ref.sha256) {
      rmSync(temporary, { force: true });
      throw new SealError('internal', `archiving ${ref.id}: received ${offset} bytes with sha256 ${sha256}, the teacher announced ${ref.size} / ${ref.sha256}`);
    }
    renameSync(temporary, final);
  }

  /** Streams an archived checkpoint; a file whose sha256 no longer matches fails at the end of the stream. */
  async *read(ref: CheckpointRef, chunkBytes: number): AsyncIterable<CheckpointChunk> {
    const hash = createHash('sha256');
    let offset = 0;
    for await (const data of createReadStream(this.path(ref), { highWaterMark: chunkBytes })) {
      const bytes = new Uint8Array(data as Buffer);
      hash.update(bytes);
      yield { checkpoint: ref, offset, data: bytes };
      offset += bytes.byteLength;
    }
    const sha256 = hash.digest('hex');
    if (offset !== ref.size || sha256 !== ref.sha256) {
      throw new SealError('internal', `archived checkpoint ${this.path(ref)} is corrupt: ${offset} bytes, sha256 ${sha256}, expected ${ref.size} / ${ref.sha256}`);
    }
  }
}
