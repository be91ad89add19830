/**
 * @file Checkpoints of one model family on disk, for the in-process roles. A checkpoint's bytes
 * (what CheckpointRef hashes and LoadCheckpoint streams) are its `model.safetensors`; config and
 * tokenizer files come from the family's base directory, since every checkpoint of a run shares them.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { failedPrecondition, invalidArgument, notFound, throwIfAborted } from '../errors';
import type { CallOptions, CheckpointChunk, CheckpointRef } from '../roles';

export const WEIGHTS_FILE = 'model.safetensors';
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Non-weight files a checkpoint directory borrows from the base directory. */
const FAMILY_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'chat_template.jinja'];


/** The ref of a checkpoint directory: id `${prefix}-${sha256[:12]}` so equal weights get equal ids everywhere. */
export function refOfDir(dir: string, prefix: string): CheckpointRef {
  const weights = join(dir, WEIGHTS_FILE);
  if (!existsSync(weights)) throw invalidArgument(`${dir}: no ${WEIGHTS_FILE} (a single-file safetensors checkpoint is required)`);
  const bytes = readFileSync(weights);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { id: `${prefix}-${sha256.slice(0, 12)}`, sha256, size: bytes.byteLength };
}

export class ModelStore {
  readonly root: string;
  readonly baseDir: string;
  readonly base: CheckpointRef;
  private readonly dirs = new Map<string, { ref: CheckpointRef; dir: string }>();

  /** `baseDir` is the family's base checkpoint; `root` holds every other checkpoint (kept across restarts). */
  constructor(baseDir: string, root: string) {
    this.baseDir = baseDir;
    this.root = root;
    this.base = refOfDir(baseDir, 'base');
    this.dirs.set(this.base.id, { ref: this.base, dir: baseDir });
    mkdirSync(root, { recursive: true });
    for (const id of readdirSync(root)) {
      const ref = this.readRef(id);
      if (ref) this.dirs.set(id, { ref, dir: join(root, id) });
    }
  }

  refs(): CheckpointRef[] {
    return [...this.dirs.values()].map((d) => d.ref);
  }

  has(ref: CheckpointRef): boolean {
    return this.dirs.get(ref.id)?.ref.sha256 === ref.sha256;
  }

  /** The directory of a held checkpoint; unknown → failed_precondition naming it (the caller may push it). */
  dirOf(ref: CheckpointRef): string {
    const held = this.dirs.get(ref.id);
    if (!held || held.ref.sha256 !== ref.sha256) {
      throw failedPrecondition(`checkpoint ${ref.id} (sha256 ${ref.sha256.slice(0, 12)}…) is not loaded here`, { checkpointId: ref.id });
    }
    return held.dir;
  }

  /** Adopts a directory written elsewhere (an M-step's output): renames it into the store under its ref id. */
  adopt(dir: string, prefix: string): CheckpointRef {
    const ref = refOfDir(dir, prefix);
    const target = join(this.root, ref.id);
    if (this.dirs.has(ref.id)) {
      rmSync(dir, { recursive: true, force: true });
      return this.dirs.get(ref.id)!.ref;
    }
    writeFileSync(join(dir, 'checkpoint-ref.json'), JSON.stringify(ref));
    renameSync(dir, target);
    this.dirs.set(ref.id, { ref, dir: target });
    return ref;
  }

  /** Receives a checkpoint stream: weights to a temporary directory, verified, family files copied, then renamed in. */
  async receive(chunks: AsyncIterable<CheckpointChunk>, opts?: CallOptions): Promise<CheckpointRef> {
    const staging = join(this.root, `.incoming-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    mkdirSync(staging, { recursive: true });
    try {
      const file = await open(join(staging, WEIGHTS_FILE), 'w');
      const hash = createHash('sha256');
      let ref: CheckpointRef | undefined;
      let offset = 0;
      try {
        for await (const chunk of chunks) {
          throwIfAborted(opts?.signal);
          ref ??= chunk.checkpoint;
          if (chunk.checkpoint.id !== ref.id) throw invalidArgument(`checkpoint stream switched from ${ref.id} to ${chunk.checkpoint.id}`);
          if (chunk.offset !== offset) throw invalidArgument(`checkpoint ${ref.id}: chunk at offset ${chunk.offset}, expected ${offset}`);
          hash.update(chunk.data);
          await file.write(chunk.data);
          offset += chunk.data.byteLength;
        }
        await file.sync();
      } finally {
        await file.close();
      }
      if (!ref) throw invalidArgument('checkpoint stream is empty');
      if (!SAFE_ID.test(ref.id)) throw invalidArgument(`checkpoint id ${JSON.stringify(ref.id)} is not a safe name`);
      const sha256 = hash.digest('hex');
      if (offset !== ref.size || sha256 !== ref.sha256) {
        throw invalidArgument(`checkpoint ${ref.id}: received ${offset} bytes with sha256 ${sha256}, expected ${ref.size} / ${ref.sha256}`);
      }
      if (this.has(ref)) return ref;
      for (const name of FAMILY_FILES) if (existsSync(join(this.baseDir, name))) copyFileSync(join(this.baseDir, name), join(staging, name));
      writeFileSync(join(staging, 'checkpoint-ref.json'), JSON.stringify(ref));
      const target = join(this.root, ref.id);
      rmSync(target, { recursive: true, force: true });
      renameSync(staging, target);
      this.dirs.set(ref.id, { ref, dir: target });
      return ref;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  /** Streams a held checkpoint's weights. */
  async *read(checkpointId: string, chunkBytes = 1 << 20): AsyncIterable<CheckpointChunk> {
    const held = this.dirs.get(checkpointId);
    if (!held) throw notFound(`unknown checkpoint ${checkpointId}`);
    let offset = 0;
    for await (const data of createReadStream(join(held.dir, WEIGHTS_FILE), { highWaterMark: chunkBytes })) {
      const bytes = new Uint8Array(data as Buffer);
      yield { checkpoint: held.ref, offset, data: bytes };
      offset += bytes.byteLength;
    }
  }

  private readRef(id: string): CheckpointRef | undefined {
    const path = join(this.root, id, 'checkpoint-ref.json');
    if (id.startsWith('.') || !existsSync(path)) return undefined;
    return JSON.parse(readFileSync(path, 'utf8')) as CheckpointRef;
  }
}
