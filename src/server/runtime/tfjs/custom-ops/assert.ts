/**
 * Assert: a true condition passes (the op returns it, so the nodes ordered after the assertion
 * can wait for it), a false one fails the request with INVALID_ARGUMENT and TensorFlow's text:
 * "assertion failed: " and each data tensor as Tensor::SummarizeValue(summarize) prints it, in
 * brackets, separated by spaces.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../../errors.js';
import { getInt } from '../../graph/attrs.js';
import { stringBytes } from '../convert.js';
import type { CustomOpImpl } from './context.js';

export const assertOp: CustomOpImpl = ([condition, ...data], node) => {
  const values = condition!.dataSync();
  if (values.every((v) => v)) return tf.clone(condition!);
  const summarize = getInt(node, 'summarize') ?? 3;
  throw invalidArgument(`assertion failed: ${data.map((t) => `[${summarizeValue(t, summarize)}]`).join(' ')}`);
};

/** Tensor::SummarizeValue(max_entries) in TensorFlow's (non-v2) format. */
export function summarizeValue(t: tf.Tensor, maxEntries: number): string {
  const elements = elementStrings(t);
  const limit = maxEntries < 0 ? elements.length : Math.min(maxEntries, elements.length);
  let out = '';
  if (t.rank === 0) {
    out = elements.slice(0, limit).join(' ');
  } else {
    const index = { next: 0 };
    const printDim = (dim: number): void => {
      if (index.next >= limit) return;
      const count = t.shape[dim]!;
      if (dim === t.rank - 1) {
        for (let i = 0; i < count; i++) {
          if (index.next >= limit) {
            if (dim !== 0) out += '...';
            return;
          }
          if (i > 0) out += ' ';
          out += elements[index.next++];
        }
        return;
      }
      for (let i = 0; i < count; i++) {
        let opened = false;
        if (index.next < limit) {
          out += '[';
          opened = true;
        }
        printDim(dim + 1);
        if (index.next < limit || opened) out += ']';
      }
    };
    printDim(0);
  }
  if (elements.length > limit) out += '...';
  return out;
}

function elementStrings(t: tf.Tensor): string[] {
  if (t.dtype === 'string') return stringBytes(t).map(cEscape);
  const values = Array.from(t.dataSync() as ArrayLike<number>);
  if (t.dtype === 'bool') return values.map((v) => (v ? '1' : '0'));
  if (t.dtype === 'int32') return values.map(String);
  return values.map(formatFloat);
}

/** strings::StrCat(float): %.6g when that reads back as the same float, else %.9g. */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const short = formatG(v, 6);
  return Math.fround(Number(short)) === Math.fround(v) ? short : formatG(v, 9);
}

/** C's %.{precision}g. */
function formatG(v: number, precision: number): string {
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mantissa, exp] = v.toExponential(precision - 1).split('e') as [string, string];
  const exponent = Number(exp);
  const trim = (s: string): string => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (exponent < -4 || exponent >= precision) {
    const sign = exponent < 0 ? '-' : '+';
    return `${trim(mantissa)}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return trim(v.toFixed(Math.max(0, precision - 1 - exponent)));
}

/** absl::Utf8SafeCEscape: C escapes for control characters, quotes and backslash; UTF-8 kept. */
function cEscape(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    switch (b) {
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x22: out += '\\"'; break;
      case 0x27: out += "\\'"; break;
      case 0x5c: out += '\\\\'; break;
      default:
        out += b < 0x20 || b === 0x7f ? `\\${b.toString(8).padStart(3, '0')}` : String.fromCharCode(b);
    }
  }
  // Bytes >= 0x80 were appended one per char: read them back as UTF-8.
  return Buffer.from(out, 'latin1').toString('utf8');
}
