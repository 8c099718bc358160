/**
 * tfjs computes int64 tensors as int32. Inputs are range-checked on the way in, but arithmetic can
 * still leave the int32 range inside the graph (a Fibonacci loop, x * 2**32), and int64 constants
 * beyond int32 are saturated. So that this gives an error instead of a wrong answer, every int64
 * node that can overflow gets a float32 "twin" computing the same op on float32 copies of its
 * inputs (saturated constants at their true values), and a check op that fails when the two
 * disagree by more than float32 rounding could explain.
 */
import { DataType } from '../tensor/dtypes.js';
import { type HostTensor, tensorFromProto } from '../tensor/host-tensor.js';
import { boolAttr, float32TensorAttr, getTensor, getType, stringAttr, typeAttr } from './attrs.js';
import { type IrNode, formatRef, parseRef } from './ir.js';
import type { Body } from './library.js';
import { INT64_CHECK_OP } from './names.js';

/** Ops whose int64 result can leave the int32 range while their inputs are within it. */
const OVERFLOWING_OPS = new Set([
  'Add', 'AddV2', 'Sub', 'Mul', 'Neg', 'Abs', 'Square', 'Pow', 'AddN', 'Sum', 'Prod', 'Cumsum', 'Cumprod',
  'MatMul', 'BatchMatMul', 'BatchMatMulV2', 'SquaredDifference', 'BiasAdd',
]);
/** Of these, the ops whose later inputs are axes (kept as they are). */
const AXIS_OPS = new Set(['Sum', 'Prod', 'Cumsum', 'Cumprod']);

const INT32_MIN = -2147483648n;
const INT32_MAX = 2147483647n;

export function insertInt64Checks(body: Body): void {
  const checked = [...body.nodes.values()].filter((n) => OVERFLOWING_OPS.has(n.op) && getType(n, 'T') === DataType.DT_INT64);
  if (checked.length === 0) return;
  const twins = new Map<string, string>();

  /** A float32 tensor holding (approximately) the true value of the int64 tensor `ref`. */
  const twinOf = (ref: string): string => {
    const known = twins.get(ref);
    if (known) return known;
    const { node: name, index } = parseRef(ref);
    const producer = body.nodes.get(name);
    const value = producer?.op === 'Const' ? constValue(producer) : undefined;
    let twin: IrNode;
    if (value && isOutOfInt32(value)) {
      const floats = Float32Array.from(value.data as BigInt64Array, (v) => Number(v));
      twin = node(`${name}/tfm_float`, 'Const', [], { dtype: typeAttr(DataType.DT_FLOAT), value: float32TensorAttr(value.shape, floats) });
    } else {
      twin = node(`${name}/tfm_float_${index}`, 'Cast', [ref], {
        SrcT: typeAttr(DataType.DT_INT64), DstT: typeAttr(DataType.DT_FLOAT), Truncate: boolAttr(false),
      });
    }
    body.nodes.set(twin.name, twin);
    twins.set(ref, formatRef(twin.name, 0));
    return formatRef(twin.name, 0);
  };

  // Producers first, so a checked node's twin feeds the twins of its consumers.
  for (const original of topologicalOrder(body, checked)) {
    const intName = `${original.name}/tfm_int64`;
    const floatName = `${original.name}/tfm_float`;
    body.nodes.set(intName, { ...original, name: intName });
    body.nodes.set(floatName, {
      ...original,
      name: floatName,
      inputs: original.inputs.map((ref, i) => (AXIS_OPS.has(original.op) && i > 0 ? ref : twinOf(ref))),
      attr: { ...original.attr, T: typeAttr(DataType.DT_FLOAT) },
    });
    body.nodes.set(original.name, node(original.name, INT64_CHECK_OP, [formatRef(intName, 0), formatRef(floatName, 0)], {
      checked_op: stringAttr(original.op),
    }));
    twins.set(formatRef(original.name, 0), formatRef(floatName, 0));
  }
}

function node(name: string, op: string, inputs: string[], attr: IrNode['attr']): IrNode {
  return { name, op, inputs, controlInputs: [], device: '', attr };
}

function constValue(producer: IrNode): HostTensor | undefined {
  const proto = getTensor(producer, 'value');
  return proto?.dtype === DataType.DT_INT64 ? tensorFromProto(proto) : undefined;
}

function isOutOfInt32(value: HostTensor): boolean {
  return Array.from(value.data as BigInt64Array).some((v) => v < INT32_MIN || v > INT32_MAX);
}

function topologicalOrder(body: Body, nodes: IrNode[]): IrNode[] {
  const wanted = new Set(nodes.map((n) => n.name));
  const order: IrNode[] = [];
  const visited = new Set<string>();
  const visit = (name: string): void => {
    if (visited.has(name)) return;
    visited.add(name);
    const current = body.nodes.get(name);
    for (const input of current?.inputs ?? []) visit(parseRef(input).node);
    if (current && wanted.has(name)) order.push(current);
  };
  for (const n of nodes) visit(n.name);
  return order;
}
