/**
 * TensorProto <-> HostTensor for the gRPC API and warmup records. Requests may use
 * tensor_content or the typed *_val fields; responses use the typed fields, as TF Serving's
 * Predict does (Tensor::AsProtoField).
 */
import { create } from '@bufbuild/protobuf';
import { type TensorProto, TensorProtoSchema } from '../../gen/tensorflow/core/framework/tensor_pb.js';
import { TensorShapeProtoSchema } from '../../gen/tensorflow/core/framework/tensor_shape_pb.js';
import { Code, ServingError, invalidArgument, unimplemented } from '../errors.js';
import { DataType, dtypeEnumName, isSupportedHostDtype } from '../runtime/tensor/dtypes.js';
import { type HostTensor, tensorFromProto } from '../runtime/tensor/host-tensor.js';

/**
 * The most bytes a tensor may be filled to from fewer typed values than elements (TensorFlow's
 * rule: the last value repeats). A tensor given in full is bounded by the message size already; a
 * fill is not: a 60-byte request with shape [2^31] and one int64 value would ask for 16 GiB.
 */
export const MAX_FILLED_TENSOR_BYTES = 64 * 1024 * 1024;

/** Decodes a request tensor; `alias` names it in errors. */
export function hostTensorFromProto(proto: TensorProto, alias: string): HostTensor {
  if (!isSupportedHostDtype(proto.dtype)) {
    throw unimplemented(`tensor ${alias}: dtype ${dtypeEnumName(proto.dtype)} is not supported`);
  }
  if (proto.tensorShape?.unknownRank) throw invalidArgument(`tensor parsing error: ${alias}`);
  checkFill(proto, alias);
  try {
    return tensorFromProto(proto);
  } catch (error) {
    throw invalidArgument(`tensor parsing error: ${alias} (${(error as Error).message})`);
  }
}

function checkFill(proto: TensorProto, alias: string): void {
  if (proto.tensorContent.length > 0 && proto.dtype !== DataType.DT_STRING) return;
  let elements = 1;
  for (const dim of proto.tensorShape?.dim ?? []) elements *= Math.max(0, Number(dim.size));
  const given = Math.max(proto.floatVal.length, proto.doubleVal.length, proto.intVal.length, proto.int64Val.length, proto.stringVal.length,
    proto.boolVal.length, proto.halfVal.length, proto.uint32Val.length, proto.uint64Val.length, proto.scomplexVal.length / 2, proto.dcomplexVal.length / 2);
  if (given >= elements) return;
  const bytes = elements * 8;
  if (bytes > MAX_FILLED_TENSOR_BYTES) {
    const shape = (proto.tensorShape?.dim ?? []).map((d) => String(d.size)).join(',');
    throw new ServingError(Code.RESOURCE_EXHAUSTED,
      `tensor ${alias}: shape [${shape}] with ${given} value(s) would be filled to ${elements} elements, more than the ${MAX_FILLED_TENSOR_BYTES} bytes a filled tensor may take`);
  }
}

export function hostTensorToProto(tensor: HostTensor): TensorProto {
  const proto = create(TensorProtoSchema, {
    dtype: tensor.dtype,
    tensorShape: create(TensorShapeProtoSchema, { dim: tensor.shape.map((size) => ({ size: BigInt(size), name: '' })) }),
  });
  const data = tensor.data;
  switch (tensor.dtype) {
    case DataType.DT_FLOAT:
      proto.floatVal = Array.from(data as Float32Array);
      break;
    case DataType.DT_DOUBLE:
      proto.doubleVal = Array.from(data as Float64Array);
      break;
    case DataType.DT_INT32:
    case DataType.DT_INT16:
    case DataType.DT_INT8:
    case DataType.DT_UINT8:
    case DataType.DT_UINT16:
      proto.intVal = Array.from(data as ArrayLike<number>);
      break;
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16:
      proto.halfVal = Array.from(data as Uint16Array);
      break;
    case DataType.DT_INT64:
      proto.int64Val = Array.from(data as BigInt64Array);
      break;
    case DataType.DT_UINT32:
      proto.uint32Val = Array.from(data as Uint32Array);
      break;
    case DataType.DT_UINT64:
      proto.uint64Val = Array.from(data as BigUint64Array);
      break;
    case DataType.DT_BOOL:
      proto.boolVal = Array.from(data as Uint8Array, (v) => v !== 0);
      break;
    case DataType.DT_STRING:
      proto.stringVal = [...(data as Uint8Array[])];
      break;
    case DataType.DT_COMPLEX64:
      proto.scomplexVal = Array.from(data as Float32Array);
      break;
    case DataType.DT_COMPLEX128:
      proto.dcomplexVal = Array.from(data as Float64Array);
      break;
    default:
      throw unimplemented(`cannot encode a ${dtypeEnumName(tensor.dtype)} tensor`);
  }
  return proto;
}

/**
 * Tensor::AsProtoTensorContent: the elements' little-endian bytes in tensor_content (strings stay
 * in string_val, as TensorFlow does).
 */
export function hostTensorToContentProto(tensor: HostTensor): TensorProto {
  const proto = create(TensorProtoSchema, {
    dtype: tensor.dtype,
    tensorShape: create(TensorShapeProtoSchema, { dim: tensor.shape.map((size) => ({ size: BigInt(size), name: '' })) }),
  });
  const data = tensor.data;
  if (tensor.dtype === DataType.DT_STRING) {
    // TensorFlow keeps strings in string_val even here (what tf.io.serialize_tensor shows).
    proto.stringVal = [...(data as Uint8Array[])];
  } else if (tensor.dtype === DataType.DT_BOOL) {
    proto.tensorContent = Uint8Array.from(data as Uint8Array, (v) => (v ? 1 : 0));
  } else {
    const Element = CONTENT_ARRAYS.get(tensor.dtype);
    if (!Element) throw unimplemented(`cannot encode a ${dtypeEnumName(tensor.dtype)} tensor`);
    // As the dtype's own element type (the host array may be wider), little-endian as on every platform Node runs on.
    const typed = data instanceof Element ? data : (Element as unknown as { from(values: ArrayLike<unknown>): ArrayBufferView }).from(data as ArrayLike<unknown>);
    proto.tensorContent = new Uint8Array(typed.buffer.slice(typed.byteOffset, typed.byteOffset + typed.byteLength));
  }
  return proto;
}

type ElementArray = Float32ArrayConstructor | Float64ArrayConstructor | Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor |
  Uint8ArrayConstructor | Uint16ArrayConstructor | Uint32ArrayConstructor | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

const CONTENT_ARRAYS: ReadonlyMap<DataType, ElementArray> = new Map<DataType, ElementArray>([
  [DataType.DT_FLOAT, Float32Array],
  [DataType.DT_DOUBLE, Float64Array],
  [DataType.DT_INT8, Int8Array],
  [DataType.DT_INT16, Int16Array],
  [DataType.DT_INT32, Int32Array],
  [DataType.DT_UINT8, Uint8Array],
  [DataType.DT_UINT16, Uint16Array],
  [DataType.DT_UINT32, Uint32Array],
  [DataType.DT_INT64, BigInt64Array],
  [DataType.DT_UINT64, BigUint64Array],
  [DataType.DT_HALF, Uint16Array],
  [DataType.DT_BFLOAT16, Uint16Array],
  [DataType.DT_COMPLEX64, Float32Array],
  [DataType.DT_COMPLEX128, Float64Array],
]);
