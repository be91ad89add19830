/** @file Safetensors read (F32/F16/BF16 → Float32Array, sharded index) and write, with every header checked. */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export type FloatDtype = 'F32' | 'F16' | 'BF16';

/** Bytes per element; non-float dtypes are listed so their offsets can still be checked. */
const dtypeBytes: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface TensorInfo {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Absolute byte range in the file. */
  readonly begin: number;
  readonly end: number;
}

/** A float tensor in memory, row-major. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Anything tensors can be read from by name: one file or a sharded checkpoint. */
export interface TensorSource {
  names(): string[];
  info(name: string): TensorInfo & { file: string };
  read(name: string): Float32Array;
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------
// Dtype conversion

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → bfloat16 bits, round to nearest even (as torch does); NaN stays NaN. */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16BitsToF32(bits: number): number {
  u32[0] = bits << 16;
  return f32[0];
}

export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float32 → float16 bits, round to nearest even, overflow to ±Inf. */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

function decode(bytes: Buffer, dtype: string, file: string, name: string): Float32Array {
  const n = bytes.length / dtypeBytes[dtype];
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = bytes.readFloatLE(4 * i);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = bytes.readDoubleLE(8 * i);
      return out;
    case 'BF16':
      for (let i = 0; i < n; i++) out[i] = bf16BitsToF32(bytes.readUInt16LE(2 * i));
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = f16BitsToF32(bytes.readUInt16LE(2 * i));
      return out;
    default:
      throw new SafetensorsError(`${file}: tensor "${name}" has dtype ${dtype}; only F32, F16, BF16 (and F64) load as floats`);
  }
}

// ---------------------------------------------------------------------------------------------
// One file

/** Reads the header eagerly and each tensor's bytes on demand (files can be many GB). */
export class SafetensorsFile implements TensorSource {
  readonly path: string;
  readonly metadata: Readonly<Record<string, string>>;
  private readonly tensors: Map<string, TensorInfo>;

  private constructor(path: string, tensors: Map<string, TensorInfo>, metadata: Record<string, string>) {
    this.path = path;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  static open(path: string): SafetensorsFile {
    if (!existsSync(path)) throw new SafetensorsError(`${path}: file not found`);
    const fd = openSync(path, 'r');
    try {
      const fileSize = fstatSync(fd).size;
      if (fileSize < 8) throw new SafetensorsError(`${path}: truncated (${fileSize} bytes; the 8-byte header length is missing)`);
      const lenBuf = Buffer.alloc(8);
      readSync(fd, lenBuf, 0, 8, 0);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen > fileSize - 8) {
        throw new SafetensorsError(`${path}: truncated or corrupt: header length ${headerLen} exceeds the file (${fileSize} bytes)`);
      }
      const headerBuf = Buffer.alloc(headerLen);
      readSync(fd, headerBuf, 0, headerLen, 8);
      let header: Record<string, any>;
      try {
        header = JSON.parse(headerBuf.toString('utf8'));
      } catch (e) {
        throw new SafetensorsError(`${path}: header is not valid JSON (${(e as Error).message})`);
      }
      if (typeof header !== 'object' || header === null || Array.isArray(header)) {
        throw new SafetensorsError(`${path}: header must be a JSON object`);
      }
      const dataStart = 8 + headerLen;
      const { __metadata__: metadata = {}, ...entries } = header;
      const tensors = new Map<string, TensorInfo>();
      for (const [name, entry] of Object.entries(entries)) {
        tensors.set(name, checkEntry(path, name, entry, dataStart, fileSize));
      }
      checkNoOverlap(path, tensors);
      return new SafetensorsFile(path, tensors, metadata);
    } finally {
      closeSync(fd);
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  info(name: string): TensorInfo & { file: string } {
    const info = this.tensors.get(name);
    if (!info) throw new SafetensorsError(`${this.path}: no tensor named "${name}"`);
    return { ...info, file: this.path };
  }

  read(name: string): Float32Array {
    const info = this.info(name);
    const bytes = Buffer.alloc(info.end - info.begin);
    const fd = openSync(this.path, 'r');
    try {
      const got = readSync(fd, bytes, 0, bytes.length, info.begin);
      if (got !== bytes.length) throw new SafetensorsError(`${this.path}: tensor "${name}" is truncated (read ${got} of ${bytes.length} bytes)`);
    } finally {
      closeSync(fd);
    }
    return decode(bytes, info.dtype, this.path, name);
  }
}

function checkEntry(path: string, name: string, entry: any, dataStart: number, fileSize: number): TensorInfo {
  const where = `${path}: tensor "${name}"`;
  if (typeof entry !== 'object' || entry === null) throw new SafetensorsError(`${where}: header entry must be an object`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (!(dtype in dtypeBytes)) throw new SafetensorsError(`${where}: unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new SafetensorsError(`${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    throw new SafetensorsError(`${where}: data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${JSON.stringify(offsets)}`);
  }
  const expected = numel(shape) * dtypeBytes[dtype];
  if (offsets[1] - offsets[0] !== expected) {
    throw new SafetensorsError(
      `${where}: data_offsets ${JSON.stringify(offsets)} span ${offsets[1] - offsets[0]} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`,
    );
  }
  const begin = dataStart + offsets[0];
  const end = dataStart + offsets[1];
  if (end > fileSize) {
    throw new SafetensorsError(`${where}: data ends at byte ${end} but the file has ${fileSize} bytes (truncated, or the header's offsets lie)`);
  }
  return { dtype, shape, begin, end };
}

function checkNoOverlap(path: string, tensors: Map<string, TensorInfo>): void {
  const sorted = [...tensors.entries()].filter(([, t]) => t.end > t.begin).sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i][1].begin < sorted[i - 1][1].end) {
      throw new SafetensorsError(`${path}: tensors "${sorted[i - 1][0]}" and "${sorted[i][0]}" overlap in the data section (the header's offsets lie)`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A checkpoint directory: model.safetensors, or model.safetensors.index.json + shards

class ShardedCheckpoint implements TensorSource {
  constructor(private readonly owner: Map<string, SafetensorsFile>) {}
  names(): string[] {
    return [...this.owner.keys()];
  }
  info(name: string): TensorInfo & { file: string } {
    const file = this.owner.get(name);
    if (!file) throw new SafetensorsError(`checkpoint: no tensor named "${name}"`);
    return file.info(name);
  }
  read(name: string): Float32Array {
    return this.owner.get(name)!.read(name);
  }
}

/** Opens the weights of a checkpoint directory (single file or sharded via `model.safetensors.index.json`). */
export function openCheckpoint(dir: string): TensorSource {
  const indexPath = join(dir, 'model.safetensors.index.json');
  const singlePath = join(dir, 'model.safetensors');
  if (existsSync(indexPath)) {
    let index: any;
    try {
      index = JSON.parse(readFileSync(indexPath, 'utf8'));
    } catch (e) {
      throw new SafetensorsError(`${indexPath}: invalid JSON (${(e as Error).message})`);
    }
    const weightMap = index?.weight_map;
    if (typeof weightMap !== 'object' || weightMap === null) throw new SafetensorsError(`${indexPath}: missing field "weight_map"`);
    const shards = new Map<string, SafetensorsFile>();
    const owner = new Map<string, SafetensorsFile>();
    for (const [name, shard] of Object.entries(weightMap)) {
      if (typeof shard !== 'string') throw new SafetensorsError(`${indexPath}: weight_map["${name}"] must be a file name`);
      if (!shards.has(shard)) shards.set(shard, SafetensorsFile.open(join(dir, shard)));
      const file = shards.get(shard)!;
      if (!file.names().includes(name)) throw new SafetensorsError(`${file.path}: tensor "${name}" listed in ${indexPath} is not in the shard`);
      owner.set(name, file);
    }
    return new ShardedCheckpoint(owner);
  }
  if (existsSync(singlePath)) return SafetensorsFile.open(singlePath);
  throw new SafetensorsError(`${dir}: no model.safetensors or model.safetensors.index.json found`);
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface WriteOptions {
  dtype?: FloatDtype;
  metadata?: Record<string, string>;
}

/** Serializes tensors (in the given order) as safetensors bytes. */
export function encodeSafetensors(tensors: Iterable<[string, HostTensor]>, options: WriteOptions = {}): Buffer {
  const dtype = options.dtype ?? 'F32';
  const width = dtypeBytes[dtype];
  const header: Record<string, unknown> = {};
  if (options.metadata) header.__metadata__ = options.metadata;
  const list = [...tensors];
  let offset = 0;
  for (const [name, t] of list) {
    if (t.data.length !== numel(t.shape)) {
      throw new SafetensorsError(`tensor "${name}": data has ${t.data.length} elements but shape ${JSON.stringify(t.shape)} needs ${numel(t.shape)}`);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length * width] };
    offset += t.data.length * width;
  }
  // The spec pads the header with spaces to an 8-byte boundary so the data is aligned.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of list) {
    for (let i = 0; i < t.data.length; i++, pos += width) {
      if (dtype === 'F32') out.writeFloatLE(t.data[i], pos);
      else if (dtype === 'BF16') out.writeUInt16LE(f32ToBf16Bits(t.data[i]), pos);
      else out.writeUInt16LE(f32ToF16Bits(t.data[i]), pos);
    }
  }
  return out;
}

export function writeSafetensors(path: string, tensors: Iterable<[string, HostTensor]>, options: WriteOptions = {}): void {
  writeFileSync(path, encodeSafetensors(tensors, options));
}

/** Reads every tensor of a source into memory, keyed by name. */
export function readAll(source: TensorSource): Map<string, HostTensor> {
  return new Map(source.names().map((n) => [n, { shape: source.info(n).shape, data: source.read(n) }]));
}
