/** @file Safetensors: dtype conversion, sharded checkpoints, round trips and every kind of lying header. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bf16BitsToF32,
  encodeSafetensors,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  openCheckpoint,
  readAll,
  SafetensorsFile,
  writeSafetensors,
} from './safetensors';

const fixtures = join(import.meta.dirname, 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'seal-st-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Builds a file from a raw header object and a data section, to forge bad inputs. */
function forge(name: string, header: unknown, data: Buffer): string {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const path = join(tmp, name);
  writeFileSync(path, Buffer.concat([len, json, data]));
  return path;
}

describe('dtype conversion', () => {
  it('bf16 rounds to nearest even and round-trips exactly representable values', () => {
    for (const x of [0, 1, -2.5, 3.140625, 2 ** 100]) expect(bf16BitsToF32(f32ToBf16Bits(x))).toBe(x);
    expect(bf16BitsToF32(f32ToBf16Bits(1 + 2 ** -8))).toBe(1); // tie → even
    expect(bf16BitsToF32(f32ToBf16Bits(1 + 3 * 2 ** -8))).toBe(1 + 2 ** -6); // tie → even (up)
    expect(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN)))).toBe(true);
  });
  it('f16 handles normals, subnormals, overflow and ties', () => {
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
    for (const x of [1, -0.5, 65504, 2 ** -24, 2 ** -14, 0.1]) expect(Math.abs(f16BitsToF32(f32ToF16Bits(x)) - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11);
    expect(f32ToF16Bits(1e6)).toBe(0x7c00);
    expect(f16BitsToF32(f32ToF16Bits(1 + 2 ** -11))).toBe(1);
  });
});

describe('safetensors files', () => {
  const tensors: [string, { shape: number[]; data: Float32Array }][] = [
    ['a', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ['b', { shape: [], data: Float32Array.from([-7.5]) }],
  ];

  it.each(['F32', 'BF16', 'F16'] as const)('round-trips %s with an 8-byte aligned header', (dtype) => {
    const path = join(tmp, `rt-${dtype}.safetensors`);
    writeSafetensors(path, tensors, { dtype, metadata: { format: 'pt' } });
    expect(Number(readFileSync(path).readBigUInt64LE(0)) % 8).toBe(0);
    const file = SafetensorsFile.open(path);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(file.info('a')).toMatchObject({ dtype, shape: [2, 3] });
    expect([...file.read('a')]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...file.read('b')]).toEqual([-7.5]);
  });

  it('reads a sharded bf16 checkpoint through its index, equal to the fp32 one rounded', () => {
    const sharded = readAll(openCheckpoint(join(fixtures, 'llama-bf16')));
    const single = readAll(openCheckpoint(join(fixtures, 'llama-fp32')));
    expect([...sharded.keys()].sort()).toEqual([...single.keys()].sort());
    for (const [name, t] of single) {
      const s = sharded.get(name)!;
      expect(s.shape).toEqual(t.shape);
      const mismatches = s.data.filter((v, i) => v !== bf16BitsToF32(f32ToBf16Bits(t.data[i]))).length;
      expect(mismatches, name).toBe(0);
    }
  });

  const good = encodeSafetensors(tensors);
  it.each([
    ['missing file', () => join(tmp, 'nope.safetensors'), /nope.safetensors: file not found/],
    ['empty file', () => forgeRaw('empty.safetensors', Buffer.alloc(3)), /empty.safetensors: truncated/],
    ['truncated data', () => forgeRaw('trunc.safetensors', good.subarray(0, good.length - 4)), /trunc.safetensors: tensor "b".*truncated/],
    ['header length too big', () => forgeRaw('hl.safetensors', Buffer.concat([Buffer.from([255, 255, 0, 0, 0, 0, 0, 0]), Buffer.alloc(4)])), /hl.safetensors: .*header length/],
    ['offsets beyond file', () => forge('beyond.safetensors', { x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, Buffer.alloc(8)), /beyond.safetensors: tensor "x"/],
    ['offsets vs shape', () => forge('size.safetensors', { x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8)), /tensor "x".*needs 12/],
    ['overlap', () => forge('ov.safetensors', { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, Buffer.alloc(12)), /"x" and "y" overlap/],
    ['unknown dtype', () => forge('dt.safetensors', { x: { dtype: 'F8_E9', shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1)), /tensor "x": unknown dtype "F8_E9"/],
    ['bad json', () => forgeRaw('json.safetensors', Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{x')])), /json.safetensors: header is not valid JSON/],
  ])('rejects %s with the file and tensor named', (_label, make, message) => {
    expect(() => {
      const f = SafetensorsFile.open(make());
      for (const n of f.names()) f.read(n);
    }).toThrow(message);
  });

  it('names a missing shard and a checkpoint without weights', () => {
    const dir = mkdtempSync(join(tmp, 'ck-'));
    expect(() => openCheckpoint(dir)).toThrow(/no model.safetensors/);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { w: 'model-1.safetensors' } }));
    expect(() => openCheckpoint(dir)).toThrow(/model-1.safetensors: file not found/);
  });
});

function forgeRaw(name: string, bytes: Buffer): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}
