/** Builders and readers for AttrValue messages. */
import { create } from '@bufbuild/protobuf';
import {
  type AttrValue,
  AttrValueSchema,
  AttrValue_ListValueSchema,
} from '../../../gen/tensorflow/core/framework/attr_value_pb.js';
import { type TensorProto, TensorProtoSchema } from '../../../gen/tensorflow/core/framework/tensor_pb.js';
import { TensorShapeProtoSchema } from '../../../gen/tensorflow/core/framework/tensor_shape_pb.js';
import { DataType } from '../tensor/dtypes.js';
import type { HostTensor } from '../tensor/host-tensor.js';
import type { IrNode } from './ir.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const stringAttr = (value: string): AttrValue =>
  create(AttrValueSchema, { value: { case: 's', value: encoder.encode(value) } });
export const intAttr = (value: number): AttrValue => create(AttrValueSchema, { value: { case: 'i', value: BigInt(value) } });
export const floatAttr = (value: number): AttrValue => create(AttrValueSchema, { value: { case: 'f', value } });
export const boolAttr = (value: boolean): AttrValue => create(AttrValueSchema, { value: { case: 'b', value } });
export const typeAttr = (value: DataType): AttrValue => create(AttrValueSchema, { value: { case: 'type', value } });
export const typeListAttr = (types: DataType[]): AttrValue =>
  create(AttrValueSchema, { value: { case: 'list', value: create(AttrValue_ListValueSchema, { type: types }) } });

/** A scalar TensorProto attr (Const `value`) of an int32/int64/bool/string/float dtype. */
export function scalarTensorAttr(dtype: DataType, value: number | boolean | string): AttrValue {
  const tensor = create(TensorProtoSchema, { dtype, tensorShape: create(TensorShapeProtoSchema, {}) });
  if (dtype === DataType.DT_BOOL) tensor.boolVal = [Boolean(value)];
  else if (dtype === DataType.DT_STRING) tensor.stringVal = [encoder.encode(String(value))];
  else if (dtype === DataType.DT_INT64) tensor.int64Val = [BigInt(value as number)];
  else if (dtype === DataType.DT_FLOAT) tensor.floatVal = [Number(value)];
  else tensor.intVal = [Number(value)];
  return create(AttrValueSchema, { value: { case: 'tensor', value: tensor } });
}

/** A Const `value` attr holding any host tensor (numbers as tensor_content, strings as string_val). */
export function hostTensorAttr(host: HostTensor): AttrValue {
  const tensor = create(TensorProtoSchema, {
    dtype: host.dtype,
    tensorShape: create(TensorShapeProtoSchema, { dim: host.shape.map((size) => ({ size: BigInt(size), name: '' })) }),
  });
  if (host.dtype === DataType.DT_STRING) tensor.stringVal = [...(host.data as Uint8Array[])];
  else {
    const data = host.data as Exclude<HostTensor['data'], Uint8Array[]>;
    tensor.tensorContent = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return create(AttrValueSchema, { value: { case: 'tensor', value: tensor } });
}

/** A Const `value` attr holding a float32 tensor. */
export function float32TensorAttr(shape: readonly number[], values: Float32Array): AttrValue {
  const tensor = create(TensorProtoSchema, {
    dtype: DataType.DT_FLOAT,
    tensorShape: create(TensorShapeProtoSchema, { dim: shape.map((size) => ({ size: BigInt(size), name: '' })) }),
    tensorContent: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  });
  return create(AttrValueSchema, { value: { case: 'tensor', value: tensor } });
}

export function getString(node: IrNode, name: string): string | undefined {
  const v = node.attr[name]?.value;
  return v?.case === 's' ? decoder.decode(v.value) : undefined;
}

export function getInt(node: IrNode, name: string): number | undefined {
  const v = node.attr[name]?.value;
  return v?.case === 'i' ? Number(v.value) : undefined;
}

export function getType(node: IrNode, name: string): DataType | undefined {
  const v = node.attr[name]?.value;
  return v?.case === 'type' ? v.value : undefined;
}

export function getTypeList(node: IrNode, name: string): DataType[] | undefined {
  const v = node.attr[name]?.value;
  return v?.case === 'list' ? [...v.value.type] : undefined;
}

export function getTensor(node: IrNode, name: string): TensorProto | undefined {
  const v = node.attr[name]?.value;
  return v?.case === 'tensor' ? v.value : undefined;
}
