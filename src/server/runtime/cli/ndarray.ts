/**
 * A minimal numpy ndarray: what --inputs files and --input_exprs values become before they are
 * fed. `asarray` infers a dtype from Python values the way np.asarray does; `toFeedTensor` then
 * converts to the signature's dtype the way TensorFlow's Session.run does with a feed
 * (np.asarray(value).astype(dtype) for numbers, np.asarray(value, dtype) for bool and strings).
 */
import { DataType, dtypeEnumName } from '../tensor/dtypes.js';
import type { HostTensor, TensorData } from '../tensor/host-tensor.js';
import { halfToNumber, numberToHalf } from './dragon4.js';
import type { PyValue } from './python-literal.js';

/** numpy dtype kinds: bool, signed, unsigned, float, bytes (S), unicode (U). */
export type NpKind = 'b' | 'i' | 'u' | 'f' | 'S' | 'U';

export interface NpDtype {
  readonly kind: NpKind;
  /** Bytes per element; for U the number of characters times 4. */
  readonly itemsize: number;
}

/**
 * Element storage: b -> Uint8Array (0/1); i1/i2/i4 -> Int8/16/32Array; i8 -> BigInt64Array;
 * u1/u2/u4 -> Uint8/16/32Array; u8 -> BigUint64Array; f2 -> Uint16Array (bits); f4 -> Float32Array;
 * f8 -> Float64Array; S -> byte strings (trailing NULs removed); U -> strings.
 */
export type NpData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Float32Array
  | Float64Array
  | Uint8Array[]
  | string[];

export interface NdArray {
  readonly dtype: NpDtype;
  readonly shape: readonly number[];
  readonly data: NpData;
}

export class ConversionError extends Error {
  override readonly name = 'ConversionError';
}

export const BOOL: NpDtype = { kind: 'b', itemsize: 1 };
export const INT64: NpDtype = { kind: 'i', itemsize: 8 };
export const FLOAT64: NpDtype = { kind: 'f', itemsize: 8 };

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** numpy's name for a dtype: float32, int64, bool, |S5 ... */
export function dtypeName(dtype: NpDtype): string {
  switch (dtype.kind) {
    case 'b': return 'bool';
    case 'i': return `int${dtype.itemsize * 8}`;
    case 'u': return `uint${dtype.itemsize * 8}`;
    case 'f': return `float${dtype.itemsize * 8}`;
    case 'S': return `|S${dtype.itemsize}`;
    case 'U': return `<U${dtype.itemsize / 4}`;
  }
}

const NAMED_DTYPES: Readonly<Record<string, NpDtype>> = {
  bool: BOOL, bool_: BOOL, bool8: BOOL,
  int8: { kind: 'i', itemsize: 1 }, int16: { kind: 'i', itemsize: 2 }, int32: { kind: 'i', itemsize: 4 },
  int64: INT64, int: INT64, int_: INT64, intp: INT64, long: INT64, longlong: INT64,
  uint8: { kind: 'u', itemsize: 1 }, uint16: { kind: 'u', itemsize: 2 }, uint32: { kind: 'u', itemsize: 4 },
  uint64: { kind: 'u', itemsize: 8 }, ubyte: { kind: 'u', itemsize: 1 }, byte: { kind: 'i', itemsize: 1 },
  short: { kind: 'i', itemsize: 2 }, ushort: { kind: 'u', itemsize: 2 }, intc: { kind: 'i', itemsize: 4 },
  uintc: { kind: 'u', itemsize: 4 },
  float16: { kind: 'f', itemsize: 2 }, half: { kind: 'f', itemsize: 2 }, float32: { kind: 'f', itemsize: 4 },
  single: { kind: 'f', itemsize: 4 }, float64: FLOAT64, float: FLOAT64, double: FLOAT64, float_: FLOAT64,
  str: { kind: 'U', itemsize: 0 }, str_: { kind: 'U', itemsize: 0 }, bytes: { kind: 'S', itemsize: 0 },
  bytes_: { kind: 'S', itemsize: 0 },
};

/** A dtype from a name (np.float32, 'float32', float) or a short code ('f4', 'i8', '?', 'b1'). */
export function parseDtypeName(name: string): NpDtype | undefined {
  const named = NAMED_DTYPES[name];
  if (named) return named;
  const code = /^[<>|=]?([biufSU?])(\d*)$/.exec(name);
  if (!code) return undefined;
  const kind = code[1] === '?' ? 'b' : (code[1] as NpKind);
  const n = code[2] ? Number(code[2]) : kind === 'b' ? 1 : 0;
  if (kind === 'U') return { kind, itemsize: n * 4 };
  if (kind === 'S') return { kind, itemsize: n };
  const ok: Readonly<Record<string, readonly number[]>> = { b: [1], i: [1, 2, 4, 8], u: [1, 2, 4, 8], f: [2, 4, 8] };
  return ok[kind]!.includes(n) ? { kind, itemsize: n } : undefined;
}

export function allocate(dtype: NpDtype, count: number): NpData {
  switch (dtype.kind) {
    case 'b': return new Uint8Array(count);
    case 'S': return Array.from({ length: count }, () => new Uint8Array(0));
    case 'U': return new Array<string>(count).fill('');
    case 'f':
      if (dtype.itemsize === 2) return new Uint16Array(count);
      return dtype.itemsize === 4 ? new Float32Array(count) : new Float64Array(count);
    case 'i':
      switch (dtype.itemsize) {
        case 1: return new Int8Array(count);
        case 2: return new Int16Array(count);
        case 4: return new Int32Array(count);
        default: return new BigInt64Array(count);
      }
    case 'u':
      switch (dtype.itemsize) {
        case 1: return new Uint8Array(count);
        case 2: return new Uint16Array(count);
        case 4: return new Uint32Array(count);
        default: return new BigUint64Array(count);
      }
  }
}

/** A Python scalar as a numpy array element. */
type Scalar = boolean | bigint | number | string | Uint8Array;

function scalarOf(value: PyValue): Scalar | undefined {
  switch (value.kind) {
    case 'bool': return value.value;
    case 'int': return value.value;
    case 'float': return value.value;
    case 'str': return value.value;
    case 'bytes': return value.value;
    default: return undefined;
  }
}

/** Shape and row-major leaves of nested lists/tuples, as np.asarray discovers them. */
function flatten(value: PyValue): { shape: number[]; leaves: PyValue[] } {
  if (value.kind !== 'list' && value.kind !== 'tuple') return { shape: [], leaves: [value] };
  const children = value.items.map(flatten);
  if (children.length === 0) return { shape: [0], leaves: [] };
  const first = children[0]!.shape;
  for (const child of children) {
    if (child.shape.length !== first.length || child.shape.some((d, i) => d !== first[i])) {
      throw new ConversionError(
        'setting an array element with a sequence. The requested array has an inhomogeneous shape after ' +
          `${commonPrefix(children.map((c) => c.shape)) + 1} dimensions.`,
      );
    }
  }
  return { shape: [children.length, ...first], leaves: children.flatMap((c) => c.leaves) };
}

function commonPrefix(shapes: ReadonlyArray<readonly number[]>): number {
  let n = 0;
  for (;;) {
    const d = shapes[0]![n];
    if (d === undefined || shapes.some((s) => s[n] !== d)) return n;
    n++;
  }
}

/** np.asarray(value) for Python literals (ndarrays pass through). */
export function asarray(value: PyValue): NdArray {
  if (value.kind === 'ndarray') return value.array;
  const { shape, leaves } = flatten(value);
  const scalars = leaves.map((leaf) => {
    const s = scalarOf(leaf);
    if (s === undefined) throw new ConversionError(`cannot make a numeric array from a Python ${leaf.kind}`);
    return s;
  });
  return fromScalars(shape, scalars);
}

function fromScalars(shape: number[], scalars: Scalar[]): NdArray {
  const has = (t: string): boolean => scalars.some((s) => typeof s === t);
  if (has('string')) {
    const texts = scalars.map(scalarText);
    return { dtype: { kind: 'U', itemsize: 4 * Math.max(1, ...texts.map((t) => [...t].length)) }, shape, data: texts };
  }
  if (scalars.some((s) => s instanceof Uint8Array)) {
    const bytes = scalars.map((s) => (s instanceof Uint8Array ? s : new TextEncoder().encode(scalarText(s))));
    return { dtype: { kind: 'S', itemsize: Math.max(1, ...bytes.map((b) => b.length)) }, shape, data: bytes };
  }
  if (has('number')) {
    return { dtype: FLOAT64, shape, data: Float64Array.from(scalars, (s) => Number(s)) };
  }
  if (has('bigint')) {
    const data = new BigInt64Array(scalars.length);
    scalars.forEach((s, i) => {
      const v = typeof s === 'bigint' ? s : BigInt(s ? 1 : 0);
      if (v !== BigInt.asIntN(64, v)) throw new ConversionError(`Python int too large to convert to C long`);
      data[i] = v;
    });
    return { dtype: INT64, shape, data };
  }
  if (scalars.length === 0) return { dtype: FLOAT64, shape, data: new Float64Array(0) };
  return { dtype: BOOL, shape, data: Uint8Array.from(scalars, (s) => (s ? 1 : 0)) };
}

/** str() of a scalar, as numpy stores it in a U array. */
function scalarText(s: Scalar): string {
  if (typeof s === 'string') return s;
  if (typeof s === 'boolean') return s ? 'True' : 'False';
  if (s instanceof Uint8Array) return new TextDecoder().decode(s);
  if (typeof s === 'number') return Number.isInteger(s) ? `${s}.0` : String(s);
  return s.toString();
}

/** Element i as a JS number or bigint (bool as 0/1); strings are parsed as numpy does. */
function numericElement(array: NdArray, i: number, target: 'float' | 'int'): number | bigint {
  const data = array.data;
  switch (array.dtype.kind) {
    case 'S':
    case 'U': {
      const raw = (data as Array<string | Uint8Array>)[i]!;
      const text = typeof raw === 'string' ? raw : new TextDecoder().decode(raw);
      return parseNumericText(text, target);
    }
    case 'f':
      if (array.dtype.itemsize === 2) return halfToNumber((data as Uint16Array)[i]!);
      return (data as Float32Array | Float64Array)[i]!;
    default: return (data as ArrayLike<number | bigint>)[i]!;
  }
}

function parseNumericText(text: string, target: 'float' | 'int'): number | bigint {
  const t = text.trim().replace(/_/g, '');
  if (target === 'int') {
    if (/^[+-]?\d+$/.test(t)) return BigInt(t);
    throw new ConversionError(`invalid literal for int() with base 10: '${text}'`);
  }
  if (/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/.test(t)) return Number(t);
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
  if (special) return special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  throw new ConversionError(`could not convert string to float: '${text}'`);
}

/**
 * C conversion of a double to an integer type as numpy's cast loops compile on x86: narrow types
 * go through int32, uint32 through int64; values out of the intermediate range give its minimum.
 */
function floatToInt(x: number, bits: number, signed: boolean): bigint {
  const via = (width: number): bigint =>
    Number.isFinite(x) && Math.abs(x) < 2 ** (width - 1) ? BigInt(Math.trunc(x)) : -(1n << BigInt(width - 1));
  if (bits === 64) {
    if (signed) return via(64);
    return Number.isFinite(x) && x >= 2 ** 63 && x < 2 ** 64 ? BigInt(Math.trunc(x)) : BigInt.asUintN(64, via(64));
  }
  if (bits === 32 && !signed) return BigInt.asUintN(32, via(64));
  const v = via(32);
  return signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
}

function integerTarget(dtype: DataType): { bits: number; signed: boolean } | undefined {
  switch (dtype) {
    case DataType.DT_INT8: return { bits: 8, signed: true };
    case DataType.DT_INT16: return { bits: 16, signed: true };
    case DataType.DT_INT32: return { bits: 32, signed: true };
    case DataType.DT_INT64: return { bits: 64, signed: true };
    case DataType.DT_UINT8: return { bits: 8, signed: false };
    case DataType.DT_UINT16: return { bits: 16, signed: false };
    case DataType.DT_UINT32: return { bits: 32, signed: false };
    case DataType.DT_UINT64: return { bits: 64, signed: false };
    default: return undefined;
  }
}

function integerData(dtype: DataType, count: number): Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array | BigUint64Array {
  switch (dtype) {
    case DataType.DT_INT8: return new Int8Array(count);
    case DataType.DT_INT16: return new Int16Array(count);
    case DataType.DT_INT32: return new Int32Array(count);
    case DataType.DT_INT64: return new BigInt64Array(count);
    case DataType.DT_UINT8: return new Uint8Array(count);
    case DataType.DT_UINT16: return new Uint16Array(count);
    case DataType.DT_UINT32: return new Uint32Array(count);
    default: return new BigUint64Array(count);
  }
}

function bfloat16Bits(x: number): number {
  const view = new Float32Array([x]);
  const bits = new Uint32Array(view.buffer)[0]!;
  if (Number.isNaN(x)) return 0x7fc0;
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** ndarray.astype(target) for the numeric and bool TensorFlow dtypes. */
export function castToDtype(array: NdArray, dtype: DataType): HostTensor {
  const count = size(array.shape);
  const shape = [...array.shape];
  const isText = array.dtype.kind === 'S' || array.dtype.kind === 'U';
  if (dtype === DataType.DT_BOOL) {
    if (isText) throw new ConversionError(`cannot feed a ${dtypeName(array.dtype)} array to a bool tensor`);
    const data = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const v = numericElement(array, i, 'float');
      data[i] = typeof v === 'bigint' ? (v !== 0n ? 1 : 0) : v !== 0 ? 1 : 0;
    }
    return { dtype, shape, data };
  }
  const integer = integerTarget(dtype);
  if (integer) {
    const data = integerData(dtype, count);
    for (let i = 0; i < count; i++) {
      const v = numericElement(array, i, array.dtype.kind === 'f' ? 'float' : 'int');
      const n = typeof v === 'bigint'
        ? (integer.signed ? BigInt.asIntN(integer.bits, v) : BigInt.asUintN(integer.bits, v))
        : floatToInt(v, integer.bits, integer.signed);
      if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = n;
      else data[i] = Number(n);
    }
    return { dtype, shape, data };
  }
  let data: TensorData;
  switch (dtype) {
    case DataType.DT_FLOAT: data = Float32Array.from({ length: count }, (_, i) => Number(numericElement(array, i, 'float'))); break;
    case DataType.DT_DOUBLE: data = Float64Array.from({ length: count }, (_, i) => Number(numericElement(array, i, 'float'))); break;
    case DataType.DT_HALF: data = Uint16Array.from({ length: count }, (_, i) => numberToHalf(Number(numericElement(array, i, 'float')))); break;
    case DataType.DT_BFLOAT16: data = Uint16Array.from({ length: count }, (_, i) => bfloat16Bits(Number(numericElement(array, i, 'float')))); break;
    default: throw new ConversionError(`feeding ${dtypeEnumName(dtype)} tensors is not supported`);
  }
  return { dtype, shape, data };
}

/** np.asarray(value, dtype=object) for a string tensor: str is UTF-8 encoded, bytes kept. */
function toStringTensor(value: PyValue | NdArray): HostTensor {
  if ('dtype' in value) {
    if (value.dtype.kind === 'S') return { dtype: DataType.DT_STRING, shape: [...value.shape], data: [...(value.data as Uint8Array[])] };
    if (value.dtype.kind === 'U') {
      const encoder = new TextEncoder();
      return { dtype: DataType.DT_STRING, shape: [...value.shape], data: (value.data as string[]).map((s) => encoder.encode(s)) };
    }
    throw new ConversionError(`cannot feed a ${dtypeName(value.dtype)} array to a string tensor`);
  }
  if (value.kind === 'ndarray') return toStringTensor(value.array);
  const { shape, leaves } = flatten(value);
  const encoder = new TextEncoder();
  const data = leaves.map((leaf) => {
    if (leaf.kind === 'bytes') return leaf.value;
    if (leaf.kind === 'str') return encoder.encode(leaf.value);
    throw new ConversionError(`a string tensor needs str or bytes values, got a Python ${leaf.kind}`);
  });
  return { dtype: DataType.DT_STRING, shape, data };
}

/** What Session.run does with a feed value for a tensor of `dtype`. */
export function toFeedTensor(value: PyValue | NdArray, dtype: DataType): HostTensor {
  if (dtype === DataType.DT_STRING) return toStringTensor(value);
  const array = 'dtype' in value ? value : asarray(value);
  return castToDtype(array, dtype);
}

/** A HostTensor as an ndarray of the matching numpy dtype (for writing .npy files). */
export function fromHostTensor(tensor: HostTensor): NdArray {
  const shape = [...tensor.shape];
  switch (tensor.dtype) {
    case DataType.DT_STRING: {
      const data = tensor.data as Uint8Array[];
      return { dtype: { kind: 'S', itemsize: Math.max(1, ...data.map((b) => b.length)) }, shape, data };
    }
    case DataType.DT_BOOL: return { dtype: BOOL, shape, data: tensor.data as Uint8Array };
    case DataType.DT_FLOAT: return { dtype: { kind: 'f', itemsize: 4 }, shape, data: tensor.data as Float32Array };
    case DataType.DT_DOUBLE: return { dtype: FLOAT64, shape, data: tensor.data as Float64Array };
    case DataType.DT_HALF: return { dtype: { kind: 'f', itemsize: 2 }, shape, data: tensor.data as Uint16Array };
    case DataType.DT_BFLOAT16: {
      const bits = tensor.data as Uint16Array;
      const data = new Float32Array(bits.length);
      new Uint32Array(data.buffer).set(Array.from(bits, (b) => b << 16));
      return { dtype: { kind: 'f', itemsize: 4 }, shape, data };
    }
    default: {
      const integer = integerTarget(tensor.dtype);
      if (!integer) throw new ConversionError(`cannot save ${dtypeEnumName(tensor.dtype)} tensors`);
      return { dtype: { kind: integer.signed ? 'i' : 'u', itemsize: integer.bits / 8 }, shape, data: tensor.data as NpData };
    }
  }
}

/** np.full(shape, fill, dtype). */
export function full(shape: readonly number[], fill: number | bigint | boolean, dtype: NpDtype): NdArray {
  const count = size(shape);
  const source: NdArray = {
    dtype: typeof fill === 'boolean' ? BOOL : typeof fill === 'bigint' ? INT64 : FLOAT64,
    shape,
    data: typeof fill === 'boolean'
      ? new Uint8Array(count).fill(fill ? 1 : 0)
      : typeof fill === 'bigint' ? new BigInt64Array(count).fill(fill) : new Float64Array(count).fill(fill),
  };
  return astype(source, dtype);
}

/** ndarray.astype for numpy dtypes (numeric and bool targets; text to text). */
export function astype(array: NdArray, dtype: NpDtype): NdArray {
  if (dtype.kind === array.dtype.kind && dtype.itemsize === array.dtype.itemsize) return array;
  if (dtype.kind === 'S' || dtype.kind === 'U') {
    if (array.dtype.kind === 'S' && dtype.kind === 'S') return { ...array, dtype };
    throw new ConversionError(`converting ${dtypeName(array.dtype)} to ${dtypeName(dtype)} is not supported`);
  }
  const tfDtype = tfDtypeOf(dtype);
  const tensor = castToDtype(array, tfDtype);
  return { dtype, shape: array.shape, data: tensor.data as NpData };
}

/** The TensorFlow dtype with the same storage as a numeric or bool numpy dtype. */
function tfDtypeOf(dtype: NpDtype): DataType {
  const table: Readonly<Record<string, DataType>> = {
    b1: DataType.DT_BOOL, i1: DataType.DT_INT8, i2: DataType.DT_INT16, i4: DataType.DT_INT32, i8: DataType.DT_INT64,
    u1: DataType.DT_UINT8, u2: DataType.DT_UINT16, u4: DataType.DT_UINT32, u8: DataType.DT_UINT64,
    f2: DataType.DT_HALF, f4: DataType.DT_FLOAT, f8: DataType.DT_DOUBLE,
  };
  const found = table[`${dtype.kind}${dtype.itemsize}`];
  if (found === undefined) throw new ConversionError(`no tensor dtype for ${dtypeName(dtype)}`);
  return found;
}
