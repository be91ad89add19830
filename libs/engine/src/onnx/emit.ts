/** @file Graph → ONNX ModelProto through the generated protobuf types (opset 18, one table entry per op). */
import { onnxDataType, type HostTensor } from '../ir/dtype';
import { graphInputs, toposort } from '../ir/graph';
import type { Dim, OpKind, OpParams } from '../ir/ops';
import type { Tensor } from '../frontend/tensor';
import {
  AttributeProto, AttributeProto_AttributeType as AttrType, ModelProto, type NodeProto, type TensorProto,
  type ValueInfoProto,
} from './gen/onnx';

export const OPSET = 18;
/** ORT's contrib operator set, imported only by graphs that use one of its ops. */
const CONTRIB_DOMAIN = 'com.microsoft';
const IR_VERSION = 8;

/** What one IR node becomes: an op type, its ONNX inputs (names) and attributes. */
interface Lowered {
  opType: string;
  /** '' (ai.onnx) unless an ORT contrib op. */
  domain?: string;
  inputs: string[];
  attrs?: AttributeProto[];
}

/** Emission context: names of IR values, and a way to add int64 constant inputs and helper nodes. */
interface Ctx {
  name(t: Tensor): string;
  ints(values: readonly number[]): string;
  shapeOf(t: Tensor): string;
  /** Adds a helper node and returns its output name. */
  node(opType: string, inputs: string[], attrs?: AttributeProto[]): string;
}

const attrInt = (name: string, i: number): AttributeProto => AttributeProto.fromPartial({ name, type: AttrType.INT, i });
const attrInts = (name: string, ints: number[]): AttributeProto => AttributeProto.fromPartial({ name, type: AttrType.INTS, ints });
const attrStr = (name: string, s: string): AttributeProto =>
  AttributeProto.fromPartial({ name, type: AttrType.STRING, s: new TextEncoder().encode(s) });

type Emitter<K extends OpKind> = (t: Tensor, p: OpParams<K>, c: Ctx) => Lowered;

const same = (opType: string): Emitter<any> => (t, _p, c) => ({ opType, inputs: t.src.map(c.name) });
const reduce = (opType: string): Emitter<any> => (t, p: OpParams<'ReduceSum'>, c) => ({
  opType, inputs: [c.name(t.src[0]), c.ints(p.axes)], attrs: [attrInt('keepdims', p.keepdims ? 1 : 0)],
});

/** The Reshape target as constants (0 = copy the input's dim, −1 = the one unknown), or null when it needs the input's runtime shape. */
function constantReshapeTarget(from: readonly Dim[], shape: readonly Dim[]): number[] | null {
  let holes = 0;
  const target = shape.map((d, i) => {
    if (typeof d === 'number') return d;
    if (from[i] === d) return 0;
    holes++;
    return -1;
  });
  return holes <= 1 ? target : null;
}

/**
 * A Transpose that moves only size-1 axes leaves every element where it was, so it is emitted as a
 * Reshape, which ORT runs without a copy (a decode step's (B, 1, H, 1, D) → (B, H, 1, 1, D) head
 * split, ~20 copies per token otherwise). Only when the target needs no runtime shape.
 */
function unitTranspose(t: Tensor, perm: readonly number[]): number[] | null {
  const from = t.src[0].shape;
  const kept = perm.filter((axis) => from[axis] !== 1);
  if (kept.some((axis, i) => i > 0 && axis < kept[i - 1])) return null;
  return constantReshapeTarget(from, t.shape);
}

/**
 * Reshape target as ONNX wants it: numbers stay, a symbolic dim equal to the input's dim at the
 * same position becomes 0 ("copy"), and one remaining unknown becomes -1. When several symbolic
 * dims move, the target is assembled at run time from the input's Shape (Gather + Concat).
 */
function reshapeTarget(t: Tensor, shape: Dim[], c: Ctx): string {
  const from = t.src[0].shape;
  const simple = constantReshapeTarget(from, shape);
  if (simple) return c.ints(simple);
  let unknown = 0;
  const parts = shape.map((d) => {
    if (typeof d === 'number') return c.ints([d]);
    const j = from.indexOf(d);
    if (j >= 0) return c.node('Gather', [c.shapeOf(t.src[0]), c.ints([j])], [attrInt('axis', 0)]);
    if (++unknown > 1) throw new Error(`Reshape: cannot emit ${t.src[0]} → [${shape}]: several new symbolic dims; use reshapeLike`);
    return c.ints([-1]);
  });
  return c.node('Concat', parts, [attrInt('axis', 0)]);
}

export const emitters: { [K in OpKind]: Emitter<K> } = {
  Input: () => { throw new Error('Input is a graph input, not a node'); },
  Constant: () => { throw new Error('Constant is an initializer, not a node'); },
  Neg: same('Neg'), Exp: same('Exp'), Log: same('Log'), Sqrt: same('Sqrt'), Tanh: same('Tanh'),
  Sigmoid: same('Sigmoid'), Relu: same('Relu'), Reciprocal: same('Reciprocal'), Identity: same('Identity'),
  Cast: (t, p, c) => ({ opType: 'Cast', inputs: [c.name(t.src[0])], attrs: [attrInt('to', onnxDataType[p.to])] }),
  Add: same('Add'), Sub: same('Sub'), Mul: same('Mul'), Div: same('Div'), Pow: same('Pow'),
  Equal: same('Equal'), Less: same('Less'), Greater: same('Greater'), Where: same('Where'), MatMul: same('MatMul'),
  ReduceSum: reduce('ReduceSum'), ReduceMean: reduce('ReduceMean'), ReduceMax: reduce('ReduceMax'),
  Softmax: (t, p, c) => ({ opType: 'Softmax', inputs: [c.name(t.src[0])], attrs: [attrInt('axis', p.axis)] }),
  LogSoftmax: (t, p, c) => ({ opType: 'LogSoftmax', inputs: [c.name(t.src[0])], attrs: [attrInt('axis', p.axis)] }),
  Reshape: (t, p, c) => ({
    opType: 'Reshape',
    inputs: [c.name(t.src[0]), t.src.length === 2 ? c.shapeOf(t.src[1]) : reshapeTarget(t, p.shape, c)],
  }),
  // Expand broadcasts, so a symbolic dim can be written as 1 when the input already carries it.
  Expand: (t, p, c) => ({
    opType: 'Expand',
    inputs: [c.name(t.src[0]), t.src.length === 2 ? c.shapeOf(t.src[1]) : c.ints(p.shape.map((d) => (typeof d === 'number' ? d : 1)))],
  }),
  Transpose: (t, p, c) => {
    const reshape = unitTranspose(t, p.perm);
    if (reshape) return { opType: 'Reshape', inputs: [c.name(t.src[0]), c.ints(reshape)] };
    return { opType: 'Transpose', inputs: [c.name(t.src[0])], attrs: [attrInts('perm', p.perm)] };
  },
  Slice: (t, p, c) => ({ opType: 'Slice', inputs: [c.name(t.src[0]), c.ints(p.starts), c.ints(p.ends), c.ints(p.axes), c.ints(p.steps)] }),
  Pad: (t, p, c) => ({ opType: 'Pad', inputs: [c.name(t.src[0]), c.ints(p.pads)] }),
  Concat: (t, p, c) => ({ opType: 'Concat', inputs: t.src.map(c.name), attrs: [attrInt('axis', p.axis)] }),
  Gather: (t, p, c) => ({ opType: 'Gather', inputs: t.src.map(c.name), attrs: [attrInt('axis', p.axis)] }),
  GatherND: same('GatherND'),
  GatherElements: (t, p, c) => ({ opType: 'GatherElements', inputs: t.src.map(c.name), attrs: [attrInt('axis', p.axis)] }),
  ScatterElements: (t, p, c) => ({
    opType: 'ScatterElements', inputs: t.src.map(c.name),
    attrs: [attrInt('axis', p.axis), ...(p.reduction === 'none' ? [] : [attrStr('reduction', p.reduction)])],
  }),
  ScatterND: (t, p, c) => ({ opType: 'ScatterND', inputs: t.src.map(c.name), attrs: p.reduction === 'none' ? [] : [attrStr('reduction', p.reduction)] }),
  // interleaved 0 = HF's rotate_half; the head size comes from the tables (D = 2 · their width).
  RotaryEmbedding: (t, _p, c) => ({ opType: 'RotaryEmbedding', domain: CONTRIB_DOMAIN, inputs: t.src.map(c.name), attrs: [attrInt('interleaved', 0)] }),
};

function tensorProto(name: string, v: HostTensor): TensorProto {
  const raw = new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
  return { name, dims: [...v.shape], dataType: onnxDataType[v.dtype], rawData: raw };
}

function valueInfo(name: string, t: Tensor): ValueInfoProto {
  return {
    name,
    type: {
      value: {
        $case: 'tensorType',
        value: {
          elemType: onnxDataType[t.dtype],
          shape: { dim: t.shape.map((d) => ({ value: typeof d === 'number' ? { $case: 'dimValue', value: d } : { $case: 'dimParam', value: d } })) },
        },
      },
    },
  };
}

export interface EmittedModel {
  model: ModelProto;
  inputs: Tensor[];
  /** Whether any value is float64 (ORT's extended fusions, e.g. QuickGelu, only have float kernels). */
  usesFloat64: boolean;
}

/** Builds the ModelProto for `outputs`. Structurally equal nodes are emitted once (CSE by hash). */
export function emitModel(outputs: Record<string, Tensor>): EmittedModel {
  const outs = Object.entries(outputs);
  const order = toposort(outs.map(([, t]) => t));
  const inputs = graphInputs(order);
  const names = new Map<string, string>(); // hash → value name
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const intConsts = new Map<string, string>();
  const shapeNodes = new Map<string, string>();
  const c: Ctx = {
    name: (t) => {
      const n = names.get(t.hash());
      if (n === undefined) throw new Error(`emit: ${t} used before definition`);
      return n;
    },
    ints: (values) => {
      const key = values.join(',');
      let n = intConsts.get(key);
      if (n === undefined) {
        n = `i64_${intConsts.size}`;
        intConsts.set(key, n);
        const data = BigInt64Array.from(values, (v) => BigInt(Math.trunc(Math.max(Math.min(v, Number.MAX_SAFE_INTEGER), -Number.MAX_SAFE_INTEGER))));
        initializers.push(tensorProto(n, { dtype: 'int64', shape: [values.length], data }));
      }
      return n;
    },
    shapeOf: (t) => {
      const src = c.name(t);
      let n = shapeNodes.get(src);
      if (n === undefined) {
        n = `${src}_shape`;
        shapeNodes.set(src, n);
        nodes.push({ input: [src], output: [n], name: n, opType: 'Shape', attribute: [], domain: '' });
      }
      return n;
    },
    node: () => '',
  };
  let helpers = 0;
  c.node = (opType, input, attrs = []) => {
    const out = `h${helpers++}_${opType}`;
    nodes.push({ input, output: [out], name: out, opType, attribute: attrs, domain: '' });
    return out;
  };
  for (const t of order) {
    const h = t.hash();
    if (names.has(h)) continue;
    if (t.op === 'Input') {
      names.set(h, (t.params as OpParams<'Input'>).name);
      continue;
    }
    const name = `v${names.size}`;
    if (t.op === 'Constant') {
      initializers.push(tensorProto(name, (t.params as OpParams<'Constant'>).value));
    } else {
      const low = (emitters[t.op] as Emitter<OpKind>)(t, t.params, c);
      nodes.push({ input: low.inputs, output: [name], name: `${t.op}_${name}`, opType: low.opType, attribute: low.attrs ?? [], domain: low.domain ?? '' });
    }
    names.set(h, name);
  }
  // An output computed by a node takes that node's output name (ORT would copy it through an
  // Identity otherwise: every updated weight of a train step, every present key of a decode step).
  // A graph input, an initializer, or a value already claimed by an earlier output gets the Identity.
  const produced = new Set(nodes.map((n) => n.output[0]));
  const renamed = new Map<string, string>();
  for (const [outName, t] of outs) {
    if (inputs.has(outName)) throw new Error(`emit: output '${outName}' has the name of a graph input`);
    const value = c.name(t);
    if (produced.has(value) && !renamed.has(value)) renamed.set(value, outName);
    else nodes.push({ input: [renamed.get(value) ?? value], output: [outName], name: `out_${outName}`, opType: 'Identity', attribute: [], domain: '' });
  }
  for (const n of nodes) {
    n.input = n.input.map((i) => renamed.get(i) ?? i);
    n.output = n.output.map((o) => renamed.get(o) ?? o);
  }
  // Built as complete messages (every field set), not through fromPartial, which would deep-copy the whole graph.
  const model: ModelProto = {
    irVersion: IR_VERSION,
    producerName: '@seal/engine',
    producerVersion: '',
    docString: '',
    opsetImport: [{ domain: '', version: OPSET }, ...(nodes.some((n) => n.domain === CONTRIB_DOMAIN) ? [{ domain: CONTRIB_DOMAIN, version: 1 }] : [])],
    graph: {
      name: 'seal',
      node: nodes,
      initializer: initializers,
      input: [...inputs].map(([n, t]) => valueInfo(n, t)),
      output: outs.map(([n, t]) => valueInfo(n, t)),
    },
  };
  return { model, inputs: [...inputs.values()], usesFloat64: order.some((t) => t.dtype === 'float64') };
}

/** Serialized ModelProto bytes for `outputs`. */
export function toOnnxModel(outputs: Record<string, Tensor>): Uint8Array {
  return ModelProto.encode(emitModel(outputs).model).finish();
}
