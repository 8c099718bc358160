/**
 * numpy's .npy format (versions 1, 2 and 3 headers; little- and big-endian data; C and Fortran
 * order; bool, integer, float16/32/64, bytes and unicode dtypes) and .npz archives (zip files of
 * .npy members), as np.load reads them. `encodeNpy` writes what np.save writes, byte for byte.
 */
import { type NdArray, type NpData, type NpDtype, allocate, dtypeName, size } from './ndarray.js';
import { parsePythonLiteral } from './python-literal.js';
import { isZip, readZip } from './zip.js';

export class NpyFormatError extends Error {
  override readonly name = 'NpyFormatError';
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;

/** What np.load returns: one array, or the members of an .npz archive. */
export type NumpyFile =
  | { readonly kind: 'npy'; readonly array: NdArray }
  | { readonly kind: 'npz'; readonly files: readonly string[]; get(name: string): NdArray | undefined };

export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

interface Header {
  readonly dtype: NpDtype;
  readonly bigEndian: boolean;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  readonly dataOffset: number;
}

function parseHeader(bytes: Uint8Array): Header {
  if (!isNpy(bytes)) throw new NpyFormatError('not an .npy file (bad magic string)');
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let length: number;
  let start: number;
  if (major === 1) {
    length = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    length = dv.getUint32(8, true);
    start = 12;
  } else {
    throw new NpyFormatError(`unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + length));
  const header = parsePythonLiteral(text);
  if (header.kind !== 'dict') throw new NpyFormatError(`.npy header is not a dict: ${text}`);
  const field = (name: string) => header.entries.find(([k]) => k.kind === 'str' && k.value === name)?.[1];
  const descr = field('descr');
  const fortran = field('fortran_order');
  const shape = field('shape');
  if (!descr || descr.kind !== 'str') {
    throw new NpyFormatError('structured (record) dtypes are not supported');
  }
  if (!fortran || fortran.kind !== 'bool') throw new NpyFormatError(`.npy header has no fortran_order: ${text}`);
  if (!shape || shape.kind !== 'tuple' || shape.items.some((d) => d.kind !== 'int')) {
    throw new NpyFormatError(`.npy header has no valid shape: ${text}`);
  }
  const { dtype, bigEndian } = parseDescr(descr.value);
  return {
    dtype,
    bigEndian,
    fortranOrder: fortran.value,
    shape: shape.items.map((d) => Number((d as { value: bigint }).value)),
    dataOffset: start + length,
  };
}

function parseDescr(descr: string): { dtype: NpDtype; bigEndian: boolean } {
  const match = /^([<>|=]?)([biufcSUOMmV?])(\d*)$/.exec(descr);
  if (!match) throw new NpyFormatError(`unsupported dtype descr '${descr}'`);
  const [, order, code, digits] = match;
  const kind = code === '?' ? 'b' : code!;
  const n = digits ? Number(digits) : kind === 'b' ? 1 : 0;
  if (kind === 'O') throw new NpyFormatError('object arrays need pickle, which is not supported');
  const valid: Readonly<Record<string, readonly number[]>> = { b: [1], i: [1, 2, 4, 8], u: [1, 2, 4, 8], f: [2, 4, 8] };
  if (kind === 'S' || kind === 'U') {
    return { dtype: { kind, itemsize: kind === 'U' ? n * 4 : n }, bigEndian: order === '>' };
  }
  if (!valid[kind]?.includes(n)) throw new NpyFormatError(`unsupported dtype '${descr}'`);
  return { dtype: { kind: kind as NpDtype['kind'], itemsize: n }, bigEndian: order === '>' };
}

function readElements(bytes: Uint8Array, header: Header): NpData {
  const { dtype, bigEndian } = header;
  const count = size(header.shape);
  const needed = count * dtype.itemsize;
  const body = bytes.subarray(header.dataOffset);
  if (body.length < needed) throw new NpyFormatError(`.npy data is truncated: ${body.length} bytes for ${needed}`);
  const dv = new DataView(body.buffer, body.byteOffset, needed);
  const little = !bigEndian;
  const out = allocate(dtype, count);
  const w = dtype.itemsize;
  if (dtype.kind === 'S') {
    const strings = out as Uint8Array[];
    for (let i = 0; i < count; i++) {
      let end = (i + 1) * w;
      while (end > i * w && body[end - 1] === 0) end--;
      strings[i] = Uint8Array.from(body.subarray(i * w, end));
    }
    return out;
  }
  if (dtype.kind === 'U') {
    const strings = out as string[];
    const chars = w / 4;
    for (let i = 0; i < count; i++) {
      const codes: number[] = [];
      for (let c = 0; c < chars; c++) codes.push(dv.getUint32(i * w + c * 4, little));
      while (codes.length > 0 && codes[codes.length - 1] === 0) codes.pop();
      strings[i] = String.fromCodePoint(...codes);
    }
    return out;
  }
  for (let i = 0; i < count; i++) {
    const at = i * w;
    switch (`${dtype.kind}${w}`) {
      case 'b1': (out as Uint8Array)[i] = dv.getUint8(at) !== 0 ? 1 : 0; break;
      case 'i1': (out as Int8Array)[i] = dv.getInt8(at); break;
      case 'u1': (out as Uint8Array)[i] = dv.getUint8(at); break;
      case 'i2': (out as Int16Array)[i] = dv.getInt16(at, little); break;
      case 'u2':
      case 'f2': (out as Uint16Array)[i] = dv.getUint16(at, little); break;
      case 'i4': (out as Int32Array)[i] = dv.getInt32(at, little); break;
      case 'u4': (out as Uint32Array)[i] = dv.getUint32(at, little); break;
      case 'f4': (out as Float32Array)[i] = dv.getFloat32(at, little); break;
      case 'i8': (out as BigInt64Array)[i] = dv.getBigInt64(at, little); break;
      case 'u8': (out as BigUint64Array)[i] = dv.getBigUint64(at, little); break;
      case 'f8': (out as Float64Array)[i] = dv.getFloat64(at, little); break;
      default: throw new NpyFormatError(`unsupported dtype ${dtypeName(dtype)}`);
    }
  }
  return out;
}

/** Reorders Fortran-order (column-major) elements into C order. */
function fromFortranOrder(data: NpData, shape: readonly number[]): NpData {
  const count = size(shape);
  if (shape.length < 2 || count === 0) return data;
  const fStrides = shape.map((_, k) => shape.slice(0, k).reduce((a, b) => a * b, 1));
  const out = (Array.isArray(data) ? new Array(count) : new (data.constructor as new (n: number) => NpData)(count)) as NpData;
  const index = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < count; c++) {
    let f = 0;
    for (let k = 0; k < shape.length; k++) f += index[k]! * fStrides[k]!;
    (out as unknown as Array<unknown>)[c] = (data as unknown as ArrayLike<unknown>)[f];
    for (let k = shape.length - 1; k >= 0; k--) {
      index[k]!++;
      if (index[k]! < shape[k]!) break;
      index[k] = 0;
    }
  }
  return out;
}

export function decodeNpy(bytes: Uint8Array): NdArray {
  const header = parseHeader(bytes);
  const data = readElements(bytes, header);
  return { dtype: header.dtype, shape: header.shape, data: header.fortranOrder ? fromFortranOrder(data, header.shape) : data };
}

/** np.load on file contents: .npy or .npz (pickles are refused). */
export function loadNumpy(bytes: Uint8Array): NumpyFile {
  if (isNpy(bytes)) return { kind: 'npy', array: decodeNpy(bytes) };
  if (isZip(bytes)) {
    const entries = readZip(bytes);
    const names = entries.map((e) => e.name);
    return {
      kind: 'npz',
      files: names.map((n) => (n.endsWith('.npy') ? n.slice(0, -4) : n)),
      get(name: string): NdArray | undefined {
        const entry = entries.find((e) => e.name === name) ?? entries.find((e) => e.name === `${name}.npy`);
        return entry ? decodeNpy(entry.read()) : undefined;
      },
    };
  }
  throw new NpyFormatError('not an .npy or .npz file (pickle files are not supported)');
}

function descrOf(dtype: NpDtype): string {
  switch (dtype.kind) {
    case 'b': return '|b1';
    case 'S': return `|S${dtype.itemsize}`;
    case 'U': return `<U${dtype.itemsize / 4}`;
    default: return `${dtype.itemsize === 1 ? '|' : '<'}${dtype.kind}${dtype.itemsize}`;
  }
}

function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** The bytes np.save writes for `array` (format 1.0 unless the header needs 2.0). */
export function encodeNpy(array: NdArray): Uint8Array {
  let header = `{'descr': '${descrOf(array.dtype)}', 'fortran_order': False, 'shape': ${shapeRepr(array.shape)}, }`;
  if (array.shape.length > 0) header += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(array.shape[0]).length);
  const encoded = new TextEncoder().encode(header);
  let version = 1;
  let prefixLength = MAGIC.length + 2 + 2;
  const hlen = encoded.length + 1;
  let padding = ARRAY_ALIGN - ((prefixLength + hlen) % ARRAY_ALIGN);
  if (hlen + padding > 0xffff) {
    version = 2;
    prefixLength = MAGIC.length + 2 + 4;
    padding = ARRAY_ALIGN - ((prefixLength + hlen) % ARRAY_ALIGN);
  }
  const body = encodeElements(array);
  const out = new Uint8Array(prefixLength + hlen + padding + body.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, hlen + padding, true);
  else dv.setUint32(8, hlen + padding, true);
  out.set(encoded, prefixLength);
  out.fill(0x20, prefixLength + encoded.length, prefixLength + encoded.length + padding);
  out[prefixLength + hlen + padding - 1] = 0x0a;
  out.set(body, prefixLength + hlen + padding);
  return out;
}

function encodeElements(array: NdArray): Uint8Array {
  const count = size(array.shape);
  const w = array.dtype.itemsize;
  const out = new Uint8Array(count * w);
  if (array.dtype.kind === 'S') {
    (array.data as Uint8Array[]).forEach((b, i) => out.set(b.subarray(0, w), i * w));
    return out;
  }
  const dv = new DataView(out.buffer);
  if (array.dtype.kind === 'U') {
    (array.data as string[]).forEach((s, i) => [...s].forEach((ch, c) => dv.setUint32(i * w + c * 4, ch.codePointAt(0)!, true)));
    return out;
  }
  const data = array.data as Exclude<NpData, Uint8Array[] | string[]>;
  if (array.dtype.kind === 'b') {
    for (let i = 0; i < count; i++) out[i] = data[i] ? 1 : 0;
    return out;
  }
  for (let i = 0; i < count; i++) {
    const at = i * w;
    const v = data[i]!;
    switch (`${array.dtype.kind}${w}`) {
      case 'i1': dv.setInt8(at, v as number); break;
      case 'u1': dv.setUint8(at, v as number); break;
      case 'i2': dv.setInt16(at, v as number, true); break;
      case 'u2':
      case 'f2': dv.setUint16(at, v as number, true); break;
      case 'i4': dv.setInt32(at, v as number, true); break;
      case 'u4': dv.setUint32(at, v as number, true); break;
      case 'f4': dv.setFloat32(at, v as number, true); break;
      case 'i8': dv.setBigInt64(at, v as bigint, true); break;
      case 'u8': dv.setBigUint64(at, v as bigint, true); break;
      default: dv.setFloat64(at, v as number, true); break;
    }
  }
  return out;
}
