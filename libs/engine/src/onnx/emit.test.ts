/** @file Emission: the ModelProto decodes back to what we meant (opset, names, CSE, symbolic dims), and the generated protobuf code matches onnx.proto. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../ir/dtype';
import { constant, input, node } from '../frontend/tensor';
import { OPSET, toOnnxModel } from './emit';
import { ModelProto } from './gen/onnx';

describe('emitModel', () => {
  it('writes an opset-18 model with named inputs/outputs, symbolic dims and one node per distinct subexpression', () => {
    const x = input('x', ['B', 3]);
    const w = input('w', [3, 2]);
    // Built twice as separate objects: structural hashing must emit the MatMul once.
    const y = x.matmul(w).add(x.matmul(w));
    const model = ModelProto.decode(toOnnxModel({ y, twice: y.mul(constant(hostTensor('float32', [2], [1, 2]))) }));
    expect(model.opsetImport).toEqual([{ domain: '', version: OPSET }]);
    const graph = model.graph!;
    expect(graph.input.map((i) => i.name).sort()).toEqual(['w', 'x']);
    expect(graph.output.map((o) => o.name)).toEqual(['y', 'twice']);
    const xType = graph.input.find((i) => i.name === 'x')!.type!.value;
    expect(xType?.$case === 'tensorType' && xType.value.shape!.dim.map((d) => d.value?.value)).toEqual(['B', 3]);
    expect(graph.node.filter((n) => n.opType === 'MatMul')).toHaveLength(1);
    expect(graph.initializer.some((t) => t.dims.join() === '2' && t.dataType === 1)).toBe(true);
  });

  it('emits a Transpose that moves only size-1 axes as a Reshape (no copy), and any other as a Transpose', () => {
    const x = input('x', ['B', 1, 4, 1, 8]);
    const ops = (y: ReturnType<typeof input>) => ModelProto.decode(toOnnxModel({ y })).graph!.node.map((n) => n.opType);
    expect(ops(x.transpose([0, 2, 1, 3, 4]))).toEqual(['Reshape']); // (B, 4, 1, 1, 8): B, 4, 8 keep their order
    expect(ops(x.transpose([0, 2, 3, 4, 1]))).toEqual(['Reshape']);
    expect(ops(x.transpose([0, 4, 1, 3, 2]))).toEqual(['Transpose']); // 8 before 4: elements move
    expect(ops(x.transpose([2, 0, 1, 3, 4]))).toEqual(['Transpose']); // 4 before B
    expect(ops(input('t', ['B', 'T', 4, 1, 8]).transpose([0, 2, 3, 1, 4]))).toEqual(['Transpose']); // T may be > 1
  });

  it('names a computed output by its node (no Identity copy); an input, a constant or a second name of one value gets an Identity', () => {
    const x = input('x', [2]);
    const y = x.mul(2);
    const graph = ModelProto.decode(toOnnxModel({ y, again: y, z: y.add(1), passthrough: x, fixed: constant(1) })).graph!;
    const producer = (name: string) => graph.node.find((n) => n.output.includes(name))!;
    expect(producer('y').opType).toBe('Mul');
    expect(producer('z').opType).toBe('Add');
    expect(producer('z').input[0]).toBe('y'); // the consumer reads the renamed value
    expect(producer('again')).toMatchObject({ opType: 'Identity', input: ['y'] });
    expect(producer('passthrough')).toMatchObject({ opType: 'Identity', input: ['x'] });
    expect(producer('fixed').opType).toBe('Identity');
    expect(graph.node.filter((n) => n.opType === 'Identity')).toHaveLength(3);
  });

  it('imports com.microsoft only when a contrib op is used', () => {
    const x = input('x', [1, 2, 4]);
    const rows = input('rows', [1, 2], 'int64');
    const model = ModelProto.decode(toOnnxModel({ y: node('RotaryEmbedding', [x, rows, input('c', [3, 2]), input('s', [3, 2])], {}) }));
    expect(model.opsetImport).toEqual([{ domain: '', version: OPSET }, { domain: 'com.microsoft', version: 1 }]);
    expect(model.graph!.node.find((n) => n.opType === 'RotaryEmbedding')!.domain).toBe('com.microsoft');
  });

  it('refuses an output named like an input', () => {
    const x = input('x', [2]);
    expect(() => toOnnxModel({ x: x.mul(2) })).toThrow(/output 'x' has the name of a graph input/);
  });
});

describe('generated protobuf code', () => {
  it('is what buf + ts-proto generate from src/onnx/proto/onnx.proto today', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const out = mkdtempSync(join(tmpdir(), 'seal-onnx-gen-'));
    try {
      execFileSync(join(root, '../proto/node_modules/.bin/buf'), ['generate', '-o', out], { cwd: root, timeout: 60_000 });
      const fresh = readFileSync(join(out, 'src/onnx/gen/onnx.ts'), 'utf8');
      expect(fresh).toBe(readFileSync(join(root, 'src/onnx/gen/onnx.ts'), 'utf8'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
