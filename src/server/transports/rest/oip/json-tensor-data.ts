/**
 * The protocol's JSON tensor data: `data` holds the elements in row-major order, flat or nested
 * (nesting is ignored), as booleans (BOOL), integers, numbers (FP16/BF16 too) or strings (BYTES,
 * UTF-8). Integers must be integral and in range; INT64/UINT64 come as bigints past 2^53 when the
 * body was parsed precisely.
 */
import { invalidArgument } from '../../../errors.js';
import { bfloat16BitsOf, halfBitsOf, numberOfBfloat16Bits, numberOfHalfBits } from '../../../api/oip/half-float.js';
import { DataType } from '../../../runtime/tensor/dtypes.js';
import { type HostTensor, type TensorData, allocateData, numElements } from '../../../runtime/tensor/host-tensor.js';
import { FloatToken, type JsonValue } from '../json-parse.js';
import { formatFloat32, formatFloat64 } from '../number-format.js';

const INT_RANGES: ReadonlyMap<DataType, readonly [number, number]> = new Map([
  [DataType.DT_INT8, [-128, 127]],
  [DataType.DT_INT16, [-32768, 32767]],
  [DataType.DT_INT32, [-2147483648, 2147483647]],
  [DataType.DT_UINT8, [0, 255]],
  [DataType.DT_UINT16, [0, 65535]],
  [DataType.DT_UINT32, [0, 4294967295]],
]);

/** Decodes `data` for a tensor of `dtype` and `shape`; `name` is used in errors. */
export function tensorFromJsonData(name: string, dtype: DataType, shape: readonly number[], data: JsonValue | undefined): HostTensor {
  if (!Array.isArray(data)) throw invalidArgument(`input '${name}' has no 'data' array (nor binary_data_size)`);
  const fast = flatFloats(dtype, shape, data);
  if (fast) return fast;
  const flat: JsonValue[] = [];
  flatten(data, flat);
  const count = numElements(shape);
  if (flat.length !== count) {
    throw invalidArgument(`unexpected number of elements ${flat.length} for input '${name}', expecting ${count} for shape [${shape.join(',')}]`);
  }
  const out = allocateData(dtype, count);
  for (let i = 0; i < count; i++) setElement(out, dtype, i, flat[i]!, name);
  return { dtype, shape, data: out };
}

/** The common case (flat FP32/FP64 numbers) in one tight loop; undefined when it is not that. */
function flatFloats(dtype: DataType, shape: readonly number[], data: JsonValue[]): HostTensor | undefined {
  if (dtype !== DataType.DT_FLOAT && dtype !== DataType.DT_DOUBLE) return undefined;
  const count = data.length;
  if (count !== numElements(shape)) return undefined;
  const out = dtype === DataType.DT_FLOAT ? new Float32Array(count) : new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const value = data[i];
    if (typeof value !== 'number') return undefined;
    out[i] = value;
  }
  return { dtype, shape, data: out };
}

function flatten(value: JsonValue[], out: JsonValue[]): void {
  for (const element of value) {
    if (Array.isArray(element)) flatten(element, out);
    else out.push(element);
  }
}

const encoder = new TextEncoder();

function setElement(out: TensorData, dtype: DataType, i: number, value: JsonValue, name: string): void {
  const bad = (): never => {
    throw invalidArgument(`unable to parse element ${i} of input '${name}' (${JSON.stringify(printable(value))}) as ${DataType[dtype]}`);
  };
  switch (dtype) {
    case DataType.DT_BOOL:
      if (typeof value !== 'boolean') bad();
      (out as Uint8Array)[i] = value ? 1 : 0;
      return;
    case DataType.DT_STRING:
      if (typeof value !== 'string') bad();
      (out as Uint8Array[])[i] = encoder.encode(value as string);
      return;
    case DataType.DT_FLOAT:
    case DataType.DT_DOUBLE:
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16: {
      const number = value instanceof FloatToken ? value.value : typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : bad();
      if (dtype === DataType.DT_HALF) (out as Uint16Array)[i] = halfBitsOf(number);
      else if (dtype === DataType.DT_BFLOAT16) (out as Uint16Array)[i] = bfloat16BitsOf(number);
      else (out as Float32Array | Float64Array)[i] = number;
      return;
    }
    case DataType.DT_INT64:
    case DataType.DT_UINT64: {
      let big: bigint;
      if (typeof value === 'bigint') big = value;
      else if (typeof value === 'number' && Number.isSafeInteger(value)) big = BigInt(value);
      else return bad();
      const ok = dtype === DataType.DT_INT64 ? big >= -(1n << 63n) && big < 1n << 63n : big >= 0n && big < 1n << 64n;
      if (!ok) bad();
      (out as BigInt64Array | BigUint64Array)[i] = big;
      return;
    }
    default: {
      const [min, max] = INT_RANGES.get(dtype) ?? bad();
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) bad();
      (out as Int32Array)[i] = value as number;
    }
  }
}

function printable(value: JsonValue): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof FloatToken) return value.value;
  return value;
}

const decoder = new TextDecoder();

/** `[e0,e1,...]`: the tensor's elements as JSON, row-major and flat. */
export function jsonDataOf(tensor: HostTensor): string {
  const data = tensor.data;
  const parts: string[] = new Array<string>(Array.isArray(data) ? data.length : (data as ArrayLike<unknown>).length);
  switch (tensor.dtype) {
    case DataType.DT_FLOAT:
      for (let i = 0; i < parts.length; i++) parts[i] = formatFloat32((data as Float32Array)[i]!);
      break;
    case DataType.DT_DOUBLE:
      for (let i = 0; i < parts.length; i++) parts[i] = formatFloat64((data as Float64Array)[i]!);
      break;
    case DataType.DT_HALF:
      for (let i = 0; i < parts.length; i++) parts[i] = formatFloat32(numberOfHalfBits((data as Uint16Array)[i]!));
      break;
    case DataType.DT_BFLOAT16:
      for (let i = 0; i < parts.length; i++) parts[i] = formatFloat32(numberOfBfloat16Bits((data as Uint16Array)[i]!));
      break;
    case DataType.DT_BOOL:
      for (let i = 0; i < parts.length; i++) parts[i] = (data as Uint8Array)[i] ? 'true' : 'false';
      break;
    case DataType.DT_STRING:
      for (let i = 0; i < parts.length; i++) parts[i] = JSON.stringify(decoder.decode((data as Uint8Array[])[i]!));
      break;
    default:
      for (let i = 0; i < parts.length; i++) parts[i] = String((data as ArrayLike<number | bigint>)[i]);
  }
  return `[${parts.join(',')}]`;
}
