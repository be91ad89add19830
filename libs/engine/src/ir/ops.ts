/** @file The primitive op set: ONNX op_type names, and each op's params through one mapped interface. */
import type { DType, HostTensor } from './dtype';

/** A dimension: a number, or a symbolic name ('B', 'T', 'B*T') bound when the graph runs. */
export type Dim = number | string;
export type Shape = readonly Dim[];

type NoParams = Record<string, never>;
type Reduce = { axes: number[]; keepdims: boolean };

/**
 * Params per op. Keys ARE the op kinds, so adding an op here forces a VJP rule, an emitter and a
 * gradcheck case (each of those tables is typed `{ [K in OpKind]: … }`).
 */
export interface OpParamsMap {
  // leaves
  Input: { name: string };
  Constant: { value: HostTensor };
  // unary elementwise
  Neg: NoParams; Exp: NoParams; Log: NoParams; Sqrt: NoParams; Tanh: NoParams;
  Sigmoid: NoParams; Relu: NoParams; Reciprocal: NoParams;
  /** `detach: true` emits Identity but stops gradients (the walker's detach). */
  Identity: { detach: boolean };
  Cast: { to: DType };
  // binary elementwise (numpy broadcasting)
  Add: NoParams; Sub: NoParams; Mul: NoParams; Div: NoParams; Pow: NoParams;
  Equal: NoParams; Less: NoParams; Greater: NoParams;
  Where: NoParams;
  // linear algebra, reductions, normalisers
  MatMul: NoParams;
  ReduceSum: Reduce; ReduceMean: Reduce; ReduceMax: Reduce;
  Softmax: { axis: number }; LogSoftmax: { axis: number };
  // shape and indexing. Reshape/Expand with a second source take that source's runtime shape.
  Reshape: { shape: Dim[] };
  Expand: { shape: Dim[] };
  Transpose: { perm: number[] };
  Slice: { starts: number[]; ends: number[]; axes: number[]; steps: number[] };
  Pad: { pads: number[] };
  Concat: { axis: number };
  Gather: { axis: number };
  GatherND: NoParams;
  ScatterND: { reduction: 'none' | 'add' };
  GatherElements: { axis: number };
  ScatterElements: { axis: number; reduction: 'none' | 'add' };
  // ORT contrib (com.microsoft) ops, for speed where ORT has a kernel
  /**
   * rotate-half RoPE of x (B, T, H·D) with the table rows `positions` (B, T) int64 picks from
   * cos/sin (N, D/2); com.microsoft.RotaryEmbedding (float32 only).
   */
  RotaryEmbedding: NoParams;
}

export type OpKind = keyof OpParamsMap;
export type OpParams<K extends OpKind> = OpParamsMap[K];

/** Every op kind, in one list (tests iterate it; its type is checked against OpKind below). */
export const allOpKinds = [
  'Input', 'Constant', 'Neg', 'Exp', 'Log', 'Sqrt', 'Tanh', 'Sigmoid', 'Relu', 'Reciprocal', 'Identity', 'Cast',
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Equal', 'Less', 'Greater', 'Where', 'MatMul',
  'ReduceSum', 'ReduceMean', 'ReduceMax', 'Softmax', 'LogSoftmax',
  'Reshape', 'Expand', 'Transpose', 'Slice', 'Pad', 'Concat', 'Gather', 'GatherND', 'ScatterND',
  'GatherElements', 'ScatterElements', 'RotaryEmbedding',
] as const satisfies readonly OpKind[];

// Compile-time check that the list is exhaustive.
type Missing = Exclude<OpKind, (typeof allOpKinds)[number]>;
const _exhaustive: [Missing] extends [never] ? true : Missing = true;
void _exhaustive;

export const unaryOps = new Set<OpKind>(['Neg', 'Exp', 'Log', 'Sqrt', 'Tanh', 'Sigmoid', 'Relu', 'Reciprocal', 'Identity']);
export const binaryOps = new Set<OpKind>(['Add', 'Sub', 'Mul', 'Div', 'Pow']);
export const comparisonOps = new Set<OpKind>(['Equal', 'Less', 'Greater']);
