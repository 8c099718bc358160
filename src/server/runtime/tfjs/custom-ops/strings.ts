/**
 * TensorFlow's string ops, computed on the raw bytes (tfjs has no string kernels). Semantics as in
 * TensorFlow: case mapping touches ASCII only unless encoding is "utf-8"; lengths and substrings
 * count bytes unless unit is "UTF8_CHAR"; StringSplitV2 with an empty separator splits on runs of
 * whitespace like Python's str.split().
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument, unimplemented } from '../../../errors.js';
import { getInt, getString } from '../../graph/attrs.js';
import type { IrNode } from '../../graph/ir.js';
import { stringBytes } from '../convert.js';
import { broadcastIndex, broadcastShape } from './broadcast.js';
import type { CustomOpImpl } from './context.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

const stringTensor = (values: Uint8Array[], shape: number[]): tf.Tensor => tf.tensor(values, shape, 'string');

function mapBytes(x: tf.Tensor, fn: (s: Uint8Array) => Uint8Array): tf.Tensor {
  return stringTensor(stringBytes(x).map(fn), x.shape);
}

const isUtf8 = (node: IrNode, attr: string): boolean => (getString(node, attr) ?? '').toLowerCase() === 'utf-8';

function asciiCase(bytes: Uint8Array, upper: boolean): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const c = out[i]!;
    if (upper && c >= 0x61 && c <= 0x7a) out[i] = c - 32;
    else if (!upper && c >= 0x41 && c <= 0x5a) out[i] = c + 32;
  }
  return out;
}

export const stringLower: CustomOpImpl = ([x], node) =>
  mapBytes(x!, (s) => (isUtf8(node, 'encoding') ? encoder.encode(decoder.decode(s).toLowerCase()) : asciiCase(s, false)));

export const stringUpper: CustomOpImpl = ([x], node) =>
  mapBytes(x!, (s) => (isUtf8(node, 'encoding') ? encoder.encode(decoder.decode(s).toUpperCase()) : asciiCase(s, true)));

/** Code points of UTF-8 bytes (continuation bytes do not start a character). */
function utf8Length(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) if ((b & 0xc0) !== 0x80) n++;
  return n;
}

export const stringLength: CustomOpImpl = ([x], node) => {
  const utf8 = getString(node, 'unit') === 'UTF8_CHAR';
  return tf.tensor(stringBytes(x!).map((s) => (utf8 ? utf8Length(s) : s.length)), x!.shape, 'int32');
};

/** Byte offset of UTF-8 character `char` (or bytes.length). */
function utf8Offset(bytes: Uint8Array, char: number): number {
  let seen = -1;
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i]! & 0xc0) !== 0x80) seen++;
    if (seen === char) return i;
  }
  return bytes.length;
}

export const substr: CustomOpImpl = ([x, pos, len], node) => {
  const utf8 = getString(node, 'unit') === 'UTF8_CHAR';
  const shape = broadcastShape([x!.shape, pos!.shape, len!.shape], 'Substr');
  const strings = stringBytes(x!);
  const positions = pos!.dataSync();
  const lengths = len!.dataSync();
  const [si, pi, li] = [x!.shape, pos!.shape, len!.shape].map((s) => broadcastIndex(s, shape)) as [
    (i: number) => number, (i: number) => number, (i: number) => number,
  ];
  const count = shape.reduce((a, b) => a * b, 1);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const s = strings[si(i)]!;
    const size = utf8 ? utf8Length(s) : s.length;
    let p = positions[pi(i)]!;
    const l = lengths[li(i)]!;
    if (p < 0) p += size;
    if (p < 0 || p > size) {
      throw invalidArgument(`pos ${positions[pi(i)]} out of range for string b'${decoder.decode(s)}' at index ${i}`);
    }
    const end = Math.min(size, p + Math.max(0, l));
    out.push(utf8 ? s.slice(utf8Offset(s, p), utf8Offset(s, end)) : s.slice(p, end));
  }
  return stringTensor(out, shape);
};

function concatBytes(parts: Uint8Array[], separator: Uint8Array): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0) + separator.length * Math.max(0, parts.length - 1);
  const out = new Uint8Array(total);
  let pos = 0;
  parts.forEach((p, i) => {
    if (i > 0) {
      out.set(separator, pos);
      pos += separator.length;
    }
    out.set(p, pos);
    pos += p.length;
  });
  return out;
}

export const stringJoin: CustomOpImpl = (inputs, node) => {
  const n = getInt(node, 'N') ?? inputs.length;
  const parts = inputs.slice(0, n);
  const separator = encoder.encode(getString(node, 'separator') ?? '');
  const shape = broadcastShape(parts.map((p) => p.shape), 'StringJoin');
  const values = parts.map(stringBytes);
  const indexers = parts.map((p) => broadcastIndex(p.shape, shape));
  const count = shape.reduce((a, b) => a * b, 1);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(concatBytes(values.map((v, k) => v[indexers[k]!(i)]!), separator));
  return stringTensor(out, shape);
};

export const reduceJoin: CustomOpImpl = ([x, axesTensor], node) => {
  const shape = x!.shape;
  const rank = shape.length;
  const axes = [...new Set(Array.from(axesTensor!.dataSync(), (a) => (a < 0 ? a + rank : a)))];
  if (axes.some((a) => a < 0 || a >= rank)) throw invalidArgument(`ReduceJoin: axis out of range for rank ${rank}`);
  const reduceAll = axesTensor!.size === 0 && axesTensor!.rank > 0 ? false : axes.length === 0 && axesTensor!.rank === 0;
  const reduced = new Set(reduceAll ? shape.map((_, i) => i) : axes);
  const keepDims = getInt(node, 'keep_dims') === 1 || node.attr['keep_dims']?.value.value === true;
  const separator = encoder.encode(getString(node, 'separator') ?? '');
  const values = stringBytes(x!);
  const outShape = shape.map((d, i) => (reduced.has(i) ? 1 : d));
  const groups = new Map<number, Uint8Array[]>();
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const outStrides = outShape.map((_, i) => outShape.slice(i + 1).reduce((a, b) => a * b, 1));
  values.forEach((v, flat) => {
    let key = 0;
    for (let axis = 0; axis < rank; axis++) {
      const coord = Math.floor(flat / strides[axis]!) % shape[axis]!;
      if (!reduced.has(axis)) key += coord * outStrides[axis]!;
    }
    const group = groups.get(key) ?? [];
    group.push(v);
    groups.set(key, group);
  });
  const count = outShape.reduce((a, b) => a * b, 1);
  const out = Array.from({ length: count }, (_, k) => concatBytes(groups.get(k) ?? [], separator));
  return stringTensor(out, keepDims ? outShape : shape.filter((_, i) => !reduced.has(i)));
};

function formatNumber(v: number, node: IrNode, isFloat: boolean): string {
  const precision = getInt(node, 'precision') ?? -1;
  const scientific = node.attr['scientific']?.value.value === true;
  const shortest = node.attr['shortest']?.value.value === true;
  const width = getInt(node, 'width') ?? -1;
  const fill = getString(node, 'fill') ?? '';
  let text: string;
  if (!isFloat) text = String(v);
  else if (Number.isNaN(v)) text = 'nan';
  else if (!Number.isFinite(v)) text = v > 0 ? 'inf' : '-inf';
  else if (shortest) text = formatShortest(v, precision);
  else if (scientific) text = formatExponent(v, precision < 0 ? 6 : precision);
  else text = v.toFixed(precision < 0 ? 6 : precision);
  if (width > text.length) text = (fill === '0' ? '0' : ' ').repeat(width - text.length) + text;
  return text;
}

/** printf's %e: mantissa with `digits` decimals and a two-digit (or longer) exponent. */
function formatExponent(v: number, digits: number): string {
  const [mantissa, exp] = v.toExponential(digits).split('e') as [string, string];
  const sign = exp.startsWith('-') ? '-' : '+';
  return `${mantissa}e${sign}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
}

/** printf's %g. */
function formatShortest(v: number, precision: number): string {
  const p = precision < 0 ? 6 : precision === 0 ? 1 : precision;
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= p) return formatExponent(v, p - 1).replace(/\.?0+e/, 'e');
  return v.toFixed(Math.max(0, p - 1 - exp)).replace(/\.?0+$/, '');
}

export const asString: CustomOpImpl = ([x], node) => {
  if (x!.dtype === 'string') return tf.clone(x!);
  if (x!.dtype === 'complex64') throw unimplemented('AsString of complex values is not supported');
  const isFloat = x!.dtype === 'float32';
  const values = x!.dtype === 'bool'
    ? Array.from(x!.dataSync(), (v) => encoder.encode(v ? 'true' : 'false'))
    : Array.from(x!.dataSync(), (v) => encoder.encode(formatNumber(v, node, isFloat)));
  return stringTensor(values, x!.shape);
};

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

function splitBytes(s: Uint8Array, sep: Uint8Array, maxSplit: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  if (sep.length === 0) {
    let i = 0;
    while (i < s.length) {
      while (i < s.length && WHITESPACE.has(s[i]!)) i++;
      if (i >= s.length) break;
      if (maxSplit >= 0 && parts.length === maxSplit) {
        let end = s.length;
        while (end > i && WHITESPACE.has(s[end - 1]!)) end--;
        parts.push(s.slice(i, end));
        break;
      }
      const start = i;
      while (i < s.length && !WHITESPACE.has(s[i]!)) i++;
      parts.push(s.slice(start, i));
    }
    return parts;
  }
  let start = 0;
  for (let i = 0; i + sep.length <= s.length; ) {
    if ((maxSplit < 0 || parts.length < maxSplit) && sep.every((b, k) => s[i + k] === b)) {
      parts.push(s.slice(start, i));
      i += sep.length;
      start = i;
    } else {
      i++;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** Outputs indices [n,2], values [n], dense shape [2] (a SparseTensor). */
export const stringSplitV2: CustomOpImpl = ([x, sepTensor], node) => {
  const sep = stringBytes(sepTensor!)[0] ?? new Uint8Array(0);
  const maxSplit = getInt(node, 'maxsplit') ?? -1;
  const rows = stringBytes(x!).map((s) => splitBytes(s, sep, maxSplit));
  const indices: number[] = [];
  const values: Uint8Array[] = [];
  rows.forEach((parts, r) => parts.forEach((p, c) => {
    indices.push(r, c);
    values.push(p);
  }));
  // A reduce, not Math.max(...rows): spreading a batch of 1e6 rows overflows the call stack.
  const width = rows.reduce((widest, r) => Math.max(widest, r.length), 0);
  return [
    tf.tensor2d(indices, [values.length, 2], 'int32'),
    stringTensor(values, [values.length]),
    tf.tensor1d([rows.length, width], 'int32'),
  ];
};
