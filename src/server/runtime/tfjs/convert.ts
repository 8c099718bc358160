/**
 * Moves tensors between host memory and tfjs. tfjs knows only float32/int32/bool/string/complex64,
 * so wider and narrower types are converted here: narrowing is range-checked for inputs (an int64
 * that does not fit int32 is INVALID_ARGUMENT, never a wrong answer), and outputs go back to the
 * dtype the signature declares.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument, unimplemented } from '../../errors.js';
import { DataType, dtypeEnumName } from '../tensor/dtypes.js';
import { type HostTensor, type TensorData, allocateData, numElements } from '../tensor/host-tensor.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export type NarrowingPolicy = 'check' | 'clamp';

/** The tfjs dtype a TensorFlow dtype runs as. */
export function tfjsDtypeOf(dtype: DataType): tf.DataType {
  switch (dtype) {
    case DataType.DT_FLOAT:
    case DataType.DT_DOUBLE:
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16:
      return 'float32';
    case DataType.DT_INT8:
    case DataType.DT_INT16:
    case DataType.DT_INT32:
    case DataType.DT_INT64:
    case DataType.DT_UINT8:
    case DataType.DT_UINT16:
    case DataType.DT_UINT32:
    case DataType.DT_UINT64:
      return 'int32';
    case DataType.DT_BOOL:
      return 'bool';
    case DataType.DT_STRING:
      return 'string';
    default:
      throw unimplemented(`dtype ${dtypeEnumName(dtype)} is not supported by the tfjs runtime`);
  }
}

/** What a tfjs tensor is made of: values in one of tfjs's four dtypes. */
export interface TfjsValues {
  readonly values: Float32Array | Int32Array | Uint8Array | Uint8Array[];
  readonly shape: number[];
  readonly dtype: 'float32' | 'int32' | 'bool' | 'string';
}

/**
 * Host -> tfjs values. `policy` 'check' rejects values outside int32/float32 (inputs); 'clamp'
 * saturates integers (graph constants such as INT64_MAX slice bounds, which mean "to the end").
 */
export function toTfjsValues(host: HostTensor, what = 'tensor', policy: NarrowingPolicy = 'check'): TfjsValues {
  const shape = [...host.shape];
  const data = host.data;
  switch (host.dtype) {
    case DataType.DT_FLOAT:
      return { values: data as Float32Array, shape, dtype: 'float32' };
    case DataType.DT_DOUBLE:
      return { values: narrowToFloat32(data as Float64Array, policy, what), shape, dtype: 'float32' };
    case DataType.DT_HALF:
      return { values: Float32Array.from(data as Uint16Array, halfToFloat), shape, dtype: 'float32' };
    case DataType.DT_BFLOAT16:
      return { values: Float32Array.from(data as Uint16Array, bfloat16ToFloat), shape, dtype: 'float32' };
    case DataType.DT_INT32:
      return { values: data as Int32Array, shape, dtype: 'int32' };
    case DataType.DT_INT8:
    case DataType.DT_INT16:
    case DataType.DT_UINT8:
    case DataType.DT_UINT16:
      return { values: Int32Array.from(data as ArrayLike<number>), shape, dtype: 'int32' };
    case DataType.DT_UINT32:
    case DataType.DT_INT64:
    case DataType.DT_UINT64:
      return { values: narrowToInt32(data as Uint32Array | BigInt64Array | BigUint64Array, policy, host.dtype, what), shape, dtype: 'int32' };
    case DataType.DT_BOOL:
      return { values: data as Uint8Array, shape, dtype: 'bool' };
    case DataType.DT_STRING:
      return { values: data as Uint8Array[], shape, dtype: 'string' };
    default:
      throw unimplemented(`${what}: dtype ${dtypeEnumName(host.dtype)} is not supported by the tfjs runtime`);
  }
}

export function toTfjs(host: HostTensor, policy: NarrowingPolicy, what = 'tensor'): tf.Tensor {
  const { values, shape, dtype } = toTfjsValues(host, what, policy);
  return tf.tensor(values, shape, dtype);
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** float64 -> float32: precision is lost (documented); finite values beyond float32's range are refused. */
function narrowToFloat32(values: Float64Array, policy: NarrowingPolicy, what: string): Float32Array {
  const out = Float32Array.from(values);
  if (policy === 'check') {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (Number.isFinite(v) && Math.abs(v) > FLOAT32_MAX) {
        throw invalidArgument(`${what}: DT_DOUBLE value ${v} at index ${i} is outside the float32 range this runtime computes in`);
      }
    }
  }
  return out;
}

function narrowToInt32(
  values: Uint32Array | BigInt64Array | BigUint64Array,
  policy: NarrowingPolicy,
  dtype: DataType,
  what: string,
): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]!);
    if (v < INT32_MIN || v > INT32_MAX) {
      if (policy === 'check') {
        throw invalidArgument(
          `${what}: ${dtypeEnumName(dtype)} value ${values[i]} at index ${i} is outside the int32 range this runtime computes in`,
        );
      }
      out[i] = v < 0 ? INT32_MIN : INT32_MAX;
    } else {
      out[i] = v;
    }
  }
  return out;
}

/** tfjs values -> host, converted to the declared dtype (integers wrap like TensorFlow's casts). */
export function fromTfjsValues(values: ArrayLike<number> | Uint8Array[], shape: number[], declared: DataType): HostTensor {
  if (declared === DataType.DT_STRING) return { dtype: declared, shape, data: values as Uint8Array[] };
  return { dtype: declared, shape, data: convertNumbers(values as ArrayLike<number>, declared, numElements(shape)) };
}

export async function fromTfjs(tensor: tf.Tensor, declared: DataType): Promise<HostTensor> {
  if (declared === DataType.DT_STRING) return fromTfjsValues(stringBytes(tensor), tensor.shape, declared);
  return fromTfjsValues((await tensor.data()) as Float32Array, tensor.shape, declared);
}

/** Synchronous variant, for custom ops that must produce values inside a graph run. */
export function fromTfjsSync(tensor: tf.Tensor, declared: DataType): HostTensor {
  if (declared === DataType.DT_STRING) return fromTfjsValues(stringBytes(tensor), tensor.shape, declared);
  return fromTfjsValues(tensor.dataSync() as Float32Array, tensor.shape, declared);
}

/**
 * The raw bytes of a string tensor. tfjs's data()/dataSync() decode strings as UTF-8 (and fail on
 * binary data such as serialized protos); the backend keeps the bytes.
 */
export function stringBytes(tensor: tf.Tensor): Uint8Array[] {
  if (tensor.dtype !== 'string') throw unimplemented(`expected a string tensor, got ${tensor.dtype}`);
  return tf.engine().backend.readSync(tensor.dataId) as Uint8Array[];
}

function convertNumbers(values: ArrayLike<number>, declared: DataType, count: number): TensorData {
  const wide = values as unknown;
  if (wide instanceof BigInt64Array || wide instanceof BigUint64Array) return convertBigInts(wide, declared, count);
  switch (declared) {
    case DataType.DT_FLOAT:
      return values instanceof Float32Array ? values : Float32Array.from(values);
    case DataType.DT_INT32:
      return values instanceof Int32Array ? values : Int32Array.from(values, Math.trunc);
    case DataType.DT_INT64: {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = BigInt(Math.trunc(values[i]!));
      return out;
    }
    case DataType.DT_UINT64: {
      const out = new BigUint64Array(count);
      for (let i = 0; i < count; i++) out[i] = BigInt.asUintN(64, BigInt(Math.trunc(values[i]!)));
      return out;
    }
    case DataType.DT_BOOL: {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = values[i] ? 1 : 0;
      return out;
    }
    case DataType.DT_HALF:
      return Uint16Array.from(values, floatToHalf);
    case DataType.DT_BFLOAT16:
      return Uint16Array.from(values, floatToBfloat16);
    default: {
      // float64, the small integer types and uint32: the typed array's own conversion
      // (wrap-around for integers, as a TensorFlow cast would).
      const out = allocateData(declared, count) as Exclude<TensorData, Uint8Array[] | BigInt64Array | BigUint64Array>;
      for (let i = 0; i < count; i++) out[i] = values[i]!;
      return out;
    }
  }
}

/**
 * 64-bit integer values (tfjs-node answers int64 outputs as a BigInt64Array): kept whole for the
 * 64-bit dtypes, never passed through a double.
 */
function convertBigInts(values: BigInt64Array | BigUint64Array, declared: DataType, count: number): TensorData {
  switch (declared) {
    case DataType.DT_INT64:
      return values instanceof BigInt64Array ? values : BigInt64Array.from(values, (v) => BigInt.asIntN(64, v));
    case DataType.DT_UINT64:
      return values instanceof BigUint64Array ? values : BigUint64Array.from(values, (v) => BigInt.asUintN(64, v));
    default:
      return convertNumbers(Array.from(values, Number), declared, count);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function bfloat16ToFloat(bits: number): number {
  u32[0] = bits << 16;
  return f32[0]!;
}

function floatToBfloat16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if (Number.isNaN(value)) return 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (Number.isNaN(value)) return 0x7e00;
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (mant | 0x800000) >>> (1 - exp);
    return sign | ((m + 0x1000) >>> 13);
  }
  return sign | (exp << 10) | ((mant + 0x1000) >>> 13);
}
