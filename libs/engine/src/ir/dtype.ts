/** @file Element types: names, typed-array constructors, ONNX enum numbers, and host tensors. */

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';

export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

/** Host-side tensor: what is fed to a graph and what comes back. `data.length === numel(shape)`. */
export interface HostTensor {
  readonly dtype: DType;
  readonly shape: number[];
  readonly data: TypedArray;
}

/** TensorProto.DataType numbers from the ONNX specification. */
export const onnxDataType: Record<DType, number> = { float32: 1, float64: 11, int64: 7, int32: 6, bool: 9 };

export const ortTypeName: Record<DType, 'float32' | 'float64' | 'int64' | 'int32' | 'bool'> = {
  float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', bool: 'bool',
};

export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64';

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function allocate(dtype: DType, n: number, shared = false): TypedArray {
  const bytes = bytesPerElement(dtype) * n;
  const buffer = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  switch (dtype) {
    case 'float32': return new Float32Array(buffer);
    case 'float64': return new Float64Array(buffer);
    case 'int64': return new BigInt64Array(buffer);
    case 'int32': return new Int32Array(buffer);
    case 'bool': return new Uint8Array(buffer);
  }
}

export function bytesPerElement(dtype: DType): number {
  return { float32: 4, float64: 8, int64: 8, int32: 4, bool: 1 }[dtype];
}

/** Builds a host tensor, copying `data` (numbers, bigints or a typed array) into the dtype's array. */
export function hostTensor(dtype: DType, shape: number[], data?: ArrayLike<number | bigint>): HostTensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`hostTensor: shape [${shape}] must hold non-negative integers`);
  }
  const n = numel(shape);
  const out = allocate(dtype, n);
  if (data !== undefined) {
    if (data.length !== n) {
      throw new Error(`hostTensor: data has ${data.length} elements but shape [${shape}] needs ${n}`);
    }
    if (out instanceof BigInt64Array) for (let i = 0; i < n; i++) out[i] = BigInt(data[i] as number);
    else for (let i = 0; i < n; i++) out[i] = Number(data[i]);
  }
  return { dtype, shape: [...shape], data: out };
}

/** Reads element i of any host tensor as a JS number. */
export function elementAt(t: HostTensor, i: number): number {
  return Number(t.data[i]);
}

export function toNumberArray(t: HostTensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}
