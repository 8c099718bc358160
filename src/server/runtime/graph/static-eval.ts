/**
 * Evaluates the small integer and boolean arithmetic that loop counters and loop conditions are
 * made of (Keras' `time < 10 && i < max_iterations`), exactly, on the host: scalars and short
 * vectors of int32/int64/bool, from Consts and values bound to a function's arguments. Anything
 * else (floats, other ops, large tensors) is "not static" and answers undefined.
 */
import { DataType } from '../tensor/dtypes.js';
import { type HostTensor, tensorFromProto } from '../tensor/host-tensor.js';
import { getTensor, getType } from './attrs.js';
import { ARG_OP, type IrNode, parseRef } from './ir.js';
import type { Body } from './library.js';

export interface StaticValue {
  readonly dtype: DataType;
  readonly shape: readonly number[];
  /** Elements as numbers (bool: 0 or 1); int64 values are exact up to 2^53. */
  readonly data: readonly number[];
}

/** Larger Consts are not loop bookkeeping. */
const MAX_ELEMENTS = 64;
const INTEGER_TYPES = new Set([DataType.DT_INT32, DataType.DT_INT64]);
const STATIC_TYPES = new Set([DataType.DT_INT32, DataType.DT_INT64, DataType.DT_BOOL]);

type Binary = (a: number, b: number) => number;
const ARITHMETIC: Readonly<Record<string, Binary>> = {
  Add: (a, b) => a + b,
  AddV2: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Maximum: Math.max,
  Minimum: Math.min,
  FloorDiv: (a, b) => Math.floor(a / b),
  FloorMod: (a, b) => a - Math.floor(a / b) * b,
};
const COMPARISON: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  Less: (a, b) => a < b,
  LessEqual: (a, b) => a <= b,
  Greater: (a, b) => a > b,
  GreaterEqual: (a, b) => a >= b,
  Equal: (a, b) => a === b,
  NotEqual: (a, b) => a !== b,
  LogicalAnd: (a, b) => a !== 0 && b !== 0,
  LogicalOr: (a, b) => a !== 0 || b !== 0,
};
const REDUCTIONS: Readonly<Record<string, (values: number[]) => number>> = {
  Max: (v) => v.reduce((m, x) => Math.max(m, x), -Infinity),
  Min: (v) => v.reduce((m, x) => Math.min(m, x), Infinity),
  Sum: (v) => v.reduce((s, x) => s + x, 0),
  Prod: (v) => v.reduce((s, x) => s * x, 1),
};

export const scalarValue = (dtype: DataType, value: number): StaticValue => ({ dtype, shape: [], data: [value] });

/** Wraps int32 results the way TensorFlow's kernels do. */
function normalize(dtype: DataType, values: number[]): number[] | undefined {
  if (values.some((v) => !Number.isFinite(v))) return undefined;
  if (dtype === DataType.DT_INT32) return values.map((v) => v | 0);
  if (dtype === DataType.DT_INT64) return values.every((v) => Number.isSafeInteger(v)) ? values : undefined;
  return values;
}

function fromHost(host: HostTensor): StaticValue | undefined {
  if (!STATIC_TYPES.has(host.dtype) || host.shape.length > 1 || host.data.length > MAX_ELEMENTS) return undefined;
  const data = host.dtype === DataType.DT_INT64 ? Array.from(host.data as BigInt64Array, Number) : Array.from(host.data as ArrayLike<number>);
  return { dtype: host.dtype, shape: host.shape, data };
}

/** Elementwise over equal shapes or a scalar against anything. */
function broadcast(a: StaticValue, b: StaticValue, dtype: DataType, f: (x: number, y: number) => number): StaticValue | undefined {
  const shape = a.data.length === 1 && a.shape.length === 0 ? b.shape : a.shape;
  if (a.shape.length > 0 && b.shape.length > 0 && (a.shape.length !== b.shape.length || a.shape[0] !== b.shape[0])) return undefined;
  const n = Math.max(a.data.length, b.data.length);
  const values = Array.from({ length: n }, (_, i) => f(a.data[a.data.length === 1 ? 0 : i]!, b.data[b.data.length === 1 ? 0 : i]!));
  const data = normalize(dtype, values);
  return data ? { dtype, shape, data } : undefined;
}

export type ArgValues = (name: string) => StaticValue | undefined;

/**
 * The value of `ref` in `body`, if it is static given the arguments' values. `memo` caches per
 * node (null: not static) and must not outlive one set of argument values.
 */
export function evaluateStatic(body: Body, ref: string, args: ArgValues, memo: Map<string, StaticValue | null>): StaticValue | undefined {
  const { node: name, index } = parseRef(ref);
  if (index !== 0) return undefined;
  const cached = memo.get(name);
  if (cached !== undefined) return cached ?? undefined;
  memo.set(name, null); // cycles (there are none in a valid body) end here
  const node = body.nodes.get(name);
  const value = node ? evaluateNode(body, node, args, memo) : undefined;
  memo.set(name, value ?? null);
  return value;
}

function evaluateNode(body: Body, node: IrNode, args: ArgValues, memo: Map<string, StaticValue | null>): StaticValue | undefined {
  if (node.op === ARG_OP) return args(node.name);
  if (node.op === 'Const') {
    const proto = getTensor(node, 'value');
    return proto ? fromHost(tensorFromProto(proto)) : undefined;
  }
  const inputs: StaticValue[] = [];
  for (const ref of node.inputs) {
    const value = evaluateStatic(body, ref, args, memo);
    if (!value) return undefined;
    inputs.push(value);
  }
  const [a, b] = inputs;
  if ((node.op === 'Identity' || node.op === 'Snapshot') && a) return a;
  const arithmetic = ARITHMETIC[node.op];
  if (arithmetic && a && b && INTEGER_TYPES.has(a.dtype) && a.dtype === b.dtype) {
    if ((node.op === 'FloorDiv' || node.op === 'FloorMod') && b.data.includes(0)) return undefined;
    return broadcast(a, b, a.dtype, arithmetic);
  }
  const comparison = COMPARISON[node.op];
  if (comparison && a && b && a.dtype === b.dtype) return broadcast(a, b, DataType.DT_BOOL, (x, y) => (comparison(x, y) ? 1 : 0));
  if (node.op === 'LogicalNot' && a?.dtype === DataType.DT_BOOL) return { ...a, data: a.data.map((v) => (v ? 0 : 1)) };
  const reduction = REDUCTIONS[node.op];
  if (reduction && a && b && INTEGER_TYPES.has(a.dtype) && a.data.length > 0 && a.shape.length <= 1) {
    // Over a vector (or a scalar), along its only axis: a scalar unless keep_dims.
    if (!b.data.every((axis) => axis === 0 || axis === -1)) return undefined;
    const data = normalize(a.dtype, [reduction([...a.data])]);
    return data ? { dtype: a.dtype, shape: keepDims(node) && a.shape.length === 1 ? [1] : [], data } : undefined;
  }
  if (node.op === 'Range' && inputs.length === 3 && inputs.every((v) => v.data.length === 1 && INTEGER_TYPES.has(v.dtype))) {
    const [start, limit, delta] = inputs.map((v) => v.data[0]!) as [number, number, number];
    if (delta === 0 || Math.abs((limit - start) / delta) > MAX_ELEMENTS) return undefined;
    const data: number[] = [];
    for (let v = start; delta > 0 ? v < limit : v > limit; v += delta) data.push(v);
    return { dtype: a!.dtype, shape: [data.length], data };
  }
  if (node.op === 'Cast' && a) {
    const to = getType(node, 'DstT');
    if (to === undefined || !STATIC_TYPES.has(to)) return undefined;
    const data = normalize(to, a.data.map((v) => (to === DataType.DT_BOOL ? (v !== 0 ? 1 : 0) : v)));
    return data ? { dtype: to, shape: a.shape, data } : undefined;
  }
  return undefined;
}

function keepDims(node: IrNode): boolean {
  const attr = node.attr['keep_dims']?.value;
  return attr?.case === 'b' && attr.value;
}

/** The value as a host tensor (for a Const). */
export function toHostTensor(value: StaticValue): HostTensor {
  const { dtype, shape, data } = value;
  if (dtype === DataType.DT_INT64) return { dtype, shape, data: BigInt64Array.from(data, (v) => BigInt(v)) };
  if (dtype === DataType.DT_BOOL) return { dtype, shape, data: Uint8Array.from(data) };
  return { dtype, shape, data: Int32Array.from(data) };
}
