/**
 * Tensor lists in an unrolled loop (see unroll-while.ts): every index is a constant there, so a
 * list is either a tensor read row by row (TensorListFromTensor; GetItem reads a row of one Unpack) or a
 * row of slots holding the tensors written so far (TensorListReserve/EmptyTensorList; SetItem and
 * PushBack fill slots, GetItem reads one, TensorListStack packs them, zeros where none was
 * written, as TensorFlow does). Anything else about a list is not unrollable.
 */
import { intAttr, typeAttr, getType } from '../graph/attrs.js';
import { type IrNode, formatRef } from '../graph/ir.js';
import { type StaticValue, scalarValue } from '../graph/static-eval.js';
import { DataType } from '../tensor/dtypes.js';

export class NotUnrollable extends Error {}

export const bail = (why: string): never => {
  throw new NotUnrollable(why);
};

export type ListValue =
  | { readonly kind: 'tensor'; readonly ref: string }
  | { readonly kind: 'slots'; readonly slots: ReadonlyArray<string | undefined>; readonly growable: boolean };

/** A tensor of an unrolled iteration: a graph tensor, a static value, or a list. */
export type Value =
  | { readonly kind: 'ref'; readonly ref: string }
  /** `home`: the name of a Const shared by all iterations (a body Const), if it has one. */
  | { readonly kind: 'static'; readonly value: StaticValue; readonly home?: string }
  | { readonly kind: 'list'; readonly list: ListValue };

const LIST_OPS = new Set([
  'TensorListFromTensor', 'TensorListReserve', 'EmptyTensorList', 'TensorListGetItem', 'TensorListSetItem',
  'TensorListPushBack', 'TensorListLength', 'TensorListStack',
]);

export const isListOp = (op: string): boolean => LIST_OPS.has(op);

/** Turns a value into a graph tensor; `hint` names a Const made for a static value. */
export type AsRef = (value: Value, hint: string) => string;

export interface Lowered {
  readonly nodes: IrNode[];
  readonly result: Value;
}

function listInput(value: Value | undefined): ListValue {
  return value?.kind === 'list' ? value.list : bail('list op without a known list');
}

function staticIndex(value: Value | undefined, size: number | undefined): number {
  if (value?.kind !== 'static' || value.value.data.length !== 1) return bail('list index not static');
  const index = value.value.data[0]!;
  if (index < 0 || (size !== undefined && index >= size)) bail('list index out of range');
  return index;
}

/** The name of an Unpack (along axis 0) of a tensor, shared by every iteration. */
export type RowsOf = (ref: string, dtype: DataType) => string;

/** Lowers list op `node` (its copy is named `name`) given its inputs' values. */
export function lowerListOp(node: IrNode, inputs: readonly Value[], name: string, asRef: AsRef, rowsOf: RowsOf): Lowered {
  const dtype = getType(node, 'element_dtype') ?? DataType.DT_FLOAT;
  switch (node.op) {
    case 'TensorListFromTensor':
      return { nodes: [], result: { kind: 'list', list: { kind: 'tensor', ref: asRef(inputs[0]!, `${name}/tfm_tensor`) } } };
    case 'EmptyTensorList':
      return { nodes: [], result: { kind: 'list', list: { kind: 'slots', slots: [], growable: true } } };
    case 'TensorListReserve': {
      const size = inputs[1]?.kind === 'static' && inputs[1].value.data.length === 1 ? inputs[1].value.data[0]! : bail('reserved size not static');
      if (size < 0) bail('unknown reserved size');
      return { nodes: [], result: { kind: 'list', list: { kind: 'slots', slots: Array.from({ length: size }, () => undefined), growable: false } } };
    }
    case 'TensorListGetItem': {
      const list = listInput(inputs[0]);
      if (list.kind === 'slots') {
        const slot = list.slots[staticIndex(inputs[1], list.slots.length)];
        return { nodes: [], result: { kind: 'ref', ref: slot ?? bail('read of an unwritten list element') } };
      }
      // One Unpack for all iterations; a row it does not have fails the run (as TensorFlow does).
      return { nodes: [], result: { kind: 'ref', ref: formatRef(rowsOf(list.ref, dtype), staticIndex(inputs[1], undefined)) } };
    }
    case 'TensorListSetItem': {
      const list = listInput(inputs[0]);
      if (list.kind !== 'slots') return bail('write into a list made from a tensor');
      const slots = [...list.slots];
      slots[staticIndex(inputs[1], slots.length)] = asRef(inputs[2]!, `${name}/tfm_item`);
      return { nodes: [], result: { kind: 'list', list: { ...list, slots } } };
    }
    case 'TensorListPushBack': {
      const list = listInput(inputs[0]);
      if (list.kind !== 'slots' || !list.growable) return bail('push onto a fixed-size list');
      return { nodes: [], result: { kind: 'list', list: { ...list, slots: [...list.slots, asRef(inputs[1]!, `${name}/tfm_item`)] } } };
    }
    case 'TensorListLength': {
      const list = listInput(inputs[0]);
      if (list.kind !== 'slots') return bail('length of a list made from a tensor');
      return { nodes: [], result: { kind: 'static', value: scalarValue(DataType.DT_INT32, list.slots.length) } };
    }
    case 'TensorListStack': {
      const list = listInput(inputs[0]);
      if (list.kind === 'tensor') return { nodes: [], result: { kind: 'ref', ref: list.ref } };
      const { pack, zeros } = stackNode(name, list.slots, dtype);
      return { nodes: [...zeros, pack], result: { kind: 'ref', ref: formatRef(name, 0) } };
    }
    default:
      return bail(`list op ${node.op}`);
  }
}

/** Pack of the slots (zeros shaped like a written element where nothing was written). */
export function stackNode(name: string, slots: ReadonlyArray<string | undefined>, dtype: DataType): { pack: IrNode; zeros: IrNode[] } {
  const written = slots.find((s) => s !== undefined) ?? bail('stack of a list with nothing written');
  const zerosName = `${name}/tfm_zeros`;
  const zeros: IrNode[] = slots.includes(undefined)
    ? [{ name: zerosName, op: 'ZerosLike', inputs: [written], controlInputs: [], device: '', attr: { T: typeAttr(dtype) } }]
    : [];
  const pack: IrNode = {
    name, op: 'Pack', inputs: slots.map((s) => s ?? formatRef(zerosName, 0)), controlInputs: [], device: '',
    attr: { T: typeAttr(dtype), N: intAttr(slots.length), axis: intAttr(0) },
  };
  return { pack, zeros };
}
