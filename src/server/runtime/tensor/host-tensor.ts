/**
 * A tensor held in plain JavaScript memory with its TensorFlow dtype, independent of any
 * execution backend. It is what the runtime takes and returns, what crosses worker-thread
 * boundaries (typed arrays are cloned or transferred cheaply) and what the transports convert
 * to and from TensorProto/JSON.
 */
import type { TensorProto } from '../../../gen/tensorflow/core/framework/tensor_pb.js';
import type { TensorShapeProto } from '../../../gen/tensorflow/core/framework/tensor_shape_pb.js';
import { DataType, baseDtype, dtypeEnumName, elementSize } from './dtypes.js';

/**
 * Element storage by dtype: FLOAT Float32Array, DOUBLE Float64Array, INT32 Int32Array,
 * INT64 BigInt64Array, UINT64 BigUint64Array, UINT8/BOOL Uint8Array, INT8 Int8Array,
 * INT16 Int16Array, UINT16/HALF/BFLOAT16 Uint16Array (raw bits for the 16-bit floats),
 * UINT32 Uint32Array, COMPLEX64 Float32Array and COMPLEX128 Float64Array (interleaved re, im),
 * STRING an array of byte strings.
 */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Uint8Array[];

export interface HostTensor {
  readonly dtype: DataType;
  /** Fully known dimensions (no -1). */
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

const EMPTY_STRING = new Uint8Array(0);

/** Allocates zero-filled storage of the right array type for `count` elements. */
export function allocateData(dtype: DataType, count: number): TensorData {
  switch (baseDtype(dtype)) {
    case DataType.DT_FLOAT: return new Float32Array(count);
    case DataType.DT_DOUBLE: return new Float64Array(count);
    case DataType.DT_INT32: return new Int32Array(count);
    case DataType.DT_INT64: return new BigInt64Array(count);
    case DataType.DT_UINT64: return new BigUint64Array(count);
    case DataType.DT_UINT8:
    case DataType.DT_BOOL: return new Uint8Array(count);
    case DataType.DT_INT8: return new Int8Array(count);
    case DataType.DT_INT16: return new Int16Array(count);
    case DataType.DT_UINT16:
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16: return new Uint16Array(count);
    case DataType.DT_UINT32: return new Uint32Array(count);
    case DataType.DT_COMPLEX64: return new Float32Array(2 * count);
    case DataType.DT_COMPLEX128: return new Float64Array(2 * count);
    // One shared empty string (it has no bytes to change): a Uint8Array each cost ~1 us and its
    // garbage: 1.2 s of each 1e6-string gRPC Predict of the fuzz run, before GC (issue 7).
    case DataType.DT_STRING: return new Array<Uint8Array>(count).fill(EMPTY_STRING);
    default: throw new TypeError(`no host storage for ${dtypeEnumName(dtype)}`);
  }
}

/**
 * Views little-endian bytes as tensor data. Copies, because checkpoint and proto bytes are not
 * aligned for typed arrays (and we must not alias a buffer that is reused).
 */
export function dataFromBytes(dtype: DataType, count: number, bytes: Uint8Array): TensorData {
  const size = elementSize(dtype);
  if (size === 0) throw new TypeError(`${dtypeEnumName(dtype)} is not a fixed-size dtype`);
  if (bytes.length !== count * size) {
    throw new RangeError(`${dtypeEnumName(dtype)} tensor of ${count} elements needs ${count * size} bytes, got ${bytes.length}`);
  }
  const data = allocateData(dtype, count) as Exclude<TensorData, Uint8Array[]>;
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(bytes);
  return data;
}

export function shapeFromProto(shape: TensorShapeProto | undefined): number[] {
  return (shape?.dim ?? []).map((d) => Number(d.size));
}

/**
 * Decodes a TensorProto. Follows TensorFlow's rule for the typed `*_val` fields: when fewer
 * values than elements are given, the last value repeats (a single value fills the tensor).
 */
export function tensorFromProto(proto: TensorProto): HostTensor {
  const dtype = baseDtype(proto.dtype);
  const shape = shapeFromProto(proto.tensorShape);
  if (shape.some((d) => d < 0)) throw new RangeError(`tensor shape [${shape}] has an unknown dimension`);
  const count = numElements(shape);
  if (dtype !== DataType.DT_STRING && proto.tensorContent.length > 0) {
    return { dtype, shape, data: dataFromBytes(dtype, count, proto.tensorContent) };
  }
  const data = allocateData(dtype, count);
  const fill = <T>(values: readonly T[], set: (i: number, v: T) => void, per = 1): void => {
    if (values.length === 0) return;
    const given = values.length / per;
    if (given > count) throw new RangeError(`${values.length / per} values for a tensor of ${count} elements`);
    for (let i = 0; i < count; i++) {
      const src = Math.min(i, given - 1);
      for (let k = 0; k < per; k++) set(i * per + k, values[src * per + k]!);
    }
  };
  switch (dtype) {
    case DataType.DT_FLOAT: fill(proto.floatVal, (i, v) => ((data as Float32Array)[i] = v)); break;
    case DataType.DT_DOUBLE: fill(proto.doubleVal, (i, v) => ((data as Float64Array)[i] = v)); break;
    case DataType.DT_INT32:
    case DataType.DT_INT16:
    case DataType.DT_INT8:
    case DataType.DT_UINT8:
    case DataType.DT_UINT16: fill(proto.intVal, (i, v) => ((data as Int32Array)[i] = v)); break;
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16: fill(proto.halfVal, (i, v) => ((data as Uint16Array)[i] = v)); break;
    case DataType.DT_INT64: fill(proto.int64Val, (i, v) => ((data as BigInt64Array)[i] = BigInt(v))); break;
    case DataType.DT_UINT32: fill(proto.uint32Val, (i, v) => ((data as Uint32Array)[i] = v)); break;
    case DataType.DT_UINT64: fill(proto.uint64Val, (i, v) => ((data as BigUint64Array)[i] = BigInt(v))); break;
    case DataType.DT_BOOL: fill(proto.boolVal, (i, v) => ((data as Uint8Array)[i] = v ? 1 : 0)); break;
    case DataType.DT_STRING: fill(proto.stringVal, (i, v) => ((data as Uint8Array[])[i] = v)); break;
    case DataType.DT_COMPLEX64: fill(proto.scomplexVal, (i, v) => ((data as Float32Array)[i] = v), 2); break;
    case DataType.DT_COMPLEX128: fill(proto.dcomplexVal, (i, v) => ((data as Float64Array)[i] = v), 2); break;
    default: throw new TypeError(`cannot decode a ${dtypeEnumName(dtype)} TensorProto`);
  }
  return { dtype, shape, data };
}

/** Row-major element values as JavaScript numbers/bigints/strings (for printing and tests). */
export function elementsOf(tensor: HostTensor): Array<number | bigint | boolean | Uint8Array> {
  if (tensor.dtype === DataType.DT_BOOL) return Array.from(tensor.data as Uint8Array, (v) => v !== 0);
  return Array.from(tensor.data as ArrayLike<number | bigint | Uint8Array>);
}
