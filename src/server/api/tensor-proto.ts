/**
 * TensorProto <-> HostTensor for the gRPC API and warmup records. Requests may use
 * tensor_content or the typed *_val fields; responses use the typed fields, as TF Serving's
 * Predict does (Tensor::AsProtoField).
 */
import { create } from '@bufbuild/protobuf';
import { type TensorProto, TensorProtoSchema } from '../../gen/tensorflow/core/framework/tensor_pb.js';
import { TensorShapeProtoSchema } from '../../gen/tensorflow/core/framework/tensor_shape_pb.js';
import { invalidArgument, unimplemented } from '../errors.js';
import { DataType, dtypeEnumName, isSupportedHostDtype } from '../runtime/tensor/dtypes.js';
import { type HostTensor, tensorFromProto } from '../runtime/tensor/host-tensor.js';

/** Decodes a request tensor; `alias` names it in errors. */
export function hostTensorFromProto(proto: TensorProto, alias: string): HostTensor {
  if (!isSupportedHostDtype(proto.dtype)) {
    throw unimplemented(`tensor ${alias}: dtype ${dtypeEnumName(proto.dtype)} is not supported`);
  }
  if (proto.tensorShape?.unknownRank) throw invalidArgument(`tensor parsing error: ${alias}`);
  try {
    return tensorFromProto(proto);
  } catch (error) {
    throw invalidArgument(`tensor parsing error: ${alias} (${(error as Error).message})`);
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
